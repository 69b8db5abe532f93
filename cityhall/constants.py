from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    SPANISH = "es", _("Español")


class EventKind(models.TextChoices):
    """What a timeline entry records, shared by every workflow's timeline."""

    STATUS = "status", _("Status change")
    REOPENED = "reopened", _("Reopened")
    MESSAGE = "message", _("Message")
    NOTE = "note", _("Internal note")
    PAYMENT = "payment", _("Payment")
    INSPECTION = "inspection", _("Inspection")
    DOCUMENT = "document", _("Document")
    ASSIGNED = "assigned", _("Assigned")
    INFO_ADDED = "info_added", _("Information added by the reporter")
    FOLLOWER_INFO = "follower_info", _("Information from someone who follows the report")
    CASE_OPENED = "case_opened", _("Code enforcement case opened")
    PHOTO_HIDDEN = "photo_hidden", _("Photo hidden")
    PHOTO_SHOWN = "photo_shown", _("Photo shown")
    VIOLATION = "violation", _("Violation recorded")
