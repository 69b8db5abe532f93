from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RequestStatus(models.TextChoices):
    NEW = "new", _("Received")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")


class Resolution(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    DUPLICATE = "duplicate", _("Duplicate of another report")
    NO_VIOLATION = "no_violation", _("No violation found")
    REFERRED = "referred", _("Referred to another agency")


class CaseStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("case status", "Open")
    INSPECTION_SCHEDULED = "inspection_scheduled", _("Inspection scheduled")
    VIOLATION_CONFIRMED = "violation_confirmed", _("Violation confirmed")
    NOTICE_ISSUED = "notice_issued", _("Notice of violation issued")
    REINSPECTION = "reinspection", _("Reinspection")
    COMPLIED = "complied", _("Complied")
    ESCALATED = "escalated", _("Escalated: citation issued")
    NO_VIOLATION = "no_violation", _("No violation")
    CLOSED = "closed", _("Closed")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical: danger to health or safety")


DEFAULT_COMPLY_DAYS = {
    Severity.LOW: 30,
    Severity.MEDIUM: 14,
    Severity.HIGH: 7,
    Severity.CRITICAL: 2,
}


class Datatype(models.TextChoices):
    """Open311 attribute datatypes."""

    STRING = "string", _("Short text")
    NUMBER = "number", _("Number")
    DATETIME = "datetime", _("Date and time")
    TEXT = "text", _("Long text")
    SINGLE = "singlevaluelist", _("One choice")
    MULTI = "multivaluelist", _("Several choices")


class Source(models.TextChoices):
    WEB = "web", _("Website")
    OPEN311 = "open311", _("Open311 app")
    PHONE = "phone", _("Phone")


class InspectionResult(models.TextChoices):
    VIOLATION = "violation", _("Violation found")
    NO_VIOLATION = "no_violation", _("No violation")
    COMPLIED = "complied", _("Corrected")
    NOT_COMPLIED = "not_complied", _("Not corrected")


class InspectionKind(models.TextChoices):
    INITIAL = "initial", _("Initial inspection")
    REINSPECTION = "reinspection", _("Reinspection")


# "Someone may have reported this already": open reports of the same kind this close. Residents
# are told the distance in feet, staff in metres; both are the same circle.
DUPLICATE_RADIUS_FEET = 500
DUPLICATE_RADIUS_METERS = DUPLICATE_RADIUS_FEET * 0.3048
REOPEN_WINDOW_DAYS = 14
MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_DESCRIPTION = 4000
REPEAT_WINDOW_DAYS = 3 * 365
