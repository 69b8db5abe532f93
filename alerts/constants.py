from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHED = "published", _("Published")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class MessageType(models.TextChoices):
    """CAP msgType."""

    ALERT = "Alert", _("New alert")
    UPDATE = "Update", _("Update")
    CANCEL = "Cancel", _("Cancellation")


class Category(models.TextChoices):
    """CAP category."""

    GEO = "Geo", _("Geophysical (earthquake, landslide)")
    MET = "Met", _("Weather")
    SAFETY = "Safety", _("Public safety")
    SECURITY = "Security", _("Security and law enforcement")
    RESCUE = "Rescue", _("Rescue and recovery")
    FIRE = "Fire", _("Fire")
    HEALTH = "Health", _("Health")
    ENV = "Env", _("Environment and pollution")
    TRANSPORT = "Transport", _("Roads and transport")
    INFRA = "Infra", _("Utilities and infrastructure")
    CBRNE = "CBRNE", _("Chemical, biological, radiological or explosive hazard")
    OTHER = "Other", _("Other")


class Urgency(models.TextChoices):
    IMMEDIATE = "Immediate", _("Immediate: act now")
    EXPECTED = "Expected", _("Expected: act within the next hour")
    FUTURE = "Future", _("Future: act in the near future")
    PAST = "Past", _("Past: no action needed")
    UNKNOWN = "Unknown", _("Unknown")


class Severity(models.TextChoices):
    EXTREME = "Extreme", _("Extreme")
    SEVERE = "Severe", _("Severe")
    MODERATE = "Moderate", _("Moderate")
    MINOR = "Minor", _("Minor")
    UNKNOWN = "Unknown", _("Unknown")


class Certainty(models.TextChoices):
    OBSERVED = "Observed", _("Observed")
    LIKELY = "Likely", _("Likely")
    POSSIBLE = "Possible", _("Possible")
    UNLIKELY = "Unlikely", _("Unlikely")
    UNKNOWN = "Unknown", _("Unknown")


class ResponseType(models.TextChoices):
    SHELTER = "Shelter", _("Shelter in place")
    EVACUATE = "Evacuate", _("Evacuate")
    PREPARE = "Prepare", _("Prepare")
    EXECUTE = "Execute", _("Follow the instructions")
    AVOID = "Avoid", _("Avoid the area")
    MONITOR = "Monitor", _("Stay informed")
    ASSESS = "Assess", _("Assess the situation")
    ALL_CLEAR = "AllClear", _("All clear")
    NONE = "None", _("No action needed")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")
    PORTAL = "portal", _("My City Hall inbox")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to send")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent (unsubscribed)")


BANNER_SEVERITIES = {Severity.EXTREME, Severity.SEVERE}
