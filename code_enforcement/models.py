from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cityhall.constants import Language
from cityhall.models import Bilingual
from cityhall.models import TimelineEvent as TimelineEventBase
from cityhall.workflow import StatusGuard

from .constants import (
    REOPEN_WINDOW_DAYS,
    CaseStatus,
    Datatype,
    InspectionKind,
    InspectionResult,
    RequestStatus,
    Resolution,
    Severity,
    Source,
)


class Department(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    name_es = models.CharField(
        _("name (Spanish)"), max_length=100, blank=True, help_text=_("Shown on Spanish pages.")
    )
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")

    def __str__(self) -> str:
        return self.name

    def t(self, field: str = "name", language: str | None = None) -> str:
        wants_spanish = (language or get_language() or "en").startswith("es")
        return self.name_es if wants_spanish and self.name_es else self.name


class ServiceCategory(Bilingual, models.Model):
    """What residents can report: an Open311 "service"."""

    code = models.SlugField(_("service code"), unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_es = models.CharField(_("name (Spanish)"), max_length=100)
    description_en = models.CharField(_("description (English)"), max_length=300)
    description_es = models.CharField(_("description (Spanish)"), max_length=300)
    group = models.CharField(_("group"), max_length=60)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT
    )
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    triage_sla_days = models.PositiveSmallIntegerField(
        _("triage within (business days)"), default=2
    )
    resolution_sla_days = models.PositiveSmallIntegerField(
        _("resolve within (business days)"), default=15
    )
    allow_anonymous = models.BooleanField(_("anonymous reports allowed"), default=True)
    opens_cases = models.BooleanField(_("opens code enforcement cases"), default=False)
    sensitive = models.BooleanField(_("kept off the public map"), default=False)
    is_active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveSmallIntegerField(default=100)
    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "name_en"]
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")

    def __str__(self) -> str:
        return self.name_en


class ServiceAttribute(Bilingual, models.Model):
    category = models.ForeignKey(
        ServiceCategory, on_delete=models.CASCADE, related_name="attributes"
    )
    code = models.SlugField(_("code"))
    datatype = models.CharField(
        _("datatype"), max_length=16, choices=Datatype.choices, default=Datatype.STRING
    )
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    description_en = models.CharField(_("question (English)"), max_length=200)
    description_es = models.CharField(_("question (Spanish)"), max_length=200)
    values = models.JSONField(
        _("values"),
        default=list,
        blank=True,
        help_text=_('For lists: [{"key": "car", "en": "Car", "es": "Auto"}]'),
    )

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="attribute_code_unique")
        ]

    def __str__(self) -> str:
        return self.code


class Address(models.Model):
    """The city's address list, for suggestions and for placing reports."""

    line = models.CharField(max_length=120, unique=True)
    zip_code = models.CharField(max_length=10, default="95000")
    latitude = models.FloatField()
    longitude = models.FloatField()
    neighborhood = models.ForeignKey("cityhall.Neighborhood", null=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["line"]
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return self.line


def _public_id() -> str:
    # 10 hex characters: a million reports make a clash unlikely, and request_submit retries one.
    return secrets.token_hex(5).upper()


OPEN_REQUEST_STATUSES = [RequestStatus.NEW, RequestStatus.ACKNOWLEDGED, RequestStatus.IN_PROGRESS]
# What is due next: triage while a report is new, resolution after.
QUEUE_DUE = models.Case(
    models.When(status=RequestStatus.NEW, then=models.F("triage_due")),
    default=models.F("resolve_due"),
)
QUEUE_ORDER = (QUEUE_DUE.asc(nulls_last=True), models.F("created_at"), models.F("id"))


class ServiceRequest(StatusGuard, models.Model):
    public_id = models.CharField(max_length=12, unique=True, default=_public_id, editable=False)
    category = models.ForeignKey(
        ServiceCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RequestStatus.choices,
        default=RequestStatus.NEW,
        editable=False,
    )
    resolution = models.CharField(
        _("resolution"), max_length=12, choices=Resolution.choices, blank=True, editable=False
    )
    description = models.TextField(_("description"), max_length=4000)
    attributes = models.JSONField(default=dict, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    neighborhood = models.ForeignKey(
        "cityhall.Neighborhood", null=True, blank=True, on_delete=models.SET_NULL
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_requests",
    )
    contact_name = models.CharField(_("name"), max_length=100, blank=True)
    contact_email = models.EmailField(_("email"), blank=True)
    contact_phone = models.CharField(_("phone"), max_length=20, blank=True)
    language = models.CharField(max_length=5, choices=Language.choices, default=Language.ENGLISH)
    reporter_secret = models.CharField(max_length=64, blank=True, editable=False)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WEB)
    api_key = models.ForeignKey(
        "ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
        editable=False,
    )
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_requests",
    )
    case = models.ForeignKey(
        "CodeCase",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
        editable=False,
    )
    status_notes = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # A link an Open311 client sent with the report (never fetched by us; staff open it).
    media_url = models.URLField(_("media link"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    triage_due = models.DateField(null=True, blank=True, editable=False)
    resolve_due = models.DateField(null=True, blank=True, editable=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reopened_count = models.PositiveSmallIntegerField(default=0, editable=False)
    breach_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["attributes", "reporter_secret"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        permissions = [
            ("triage_request", "Can acknowledge, assign, merge, close and refer service requests"),
            ("hide_photo", "Can hide photos on service requests"),
        ]
        indexes = [
            models.Index(fields=["status", "triage_due"]),
            models.Index(fields=["category", "status"]),
            models.Index(fields=["latitude", "longitude"]),
            # The console queue's order (ServiceRequestAdmin.ordering): its first page is read
            # off an index, for open work and for everything.
            models.Index(*QUEUE_ORDER, name="request_queue_order"),
            models.Index(
                *QUEUE_ORDER,
                name="request_open_queue_order",
                condition=models.Q(status__in=OPEN_REQUEST_STATUSES),
            ),
            # The console home's counts of open work (by status, assignee, due dates), answered
            # from this small index alone instead of a heap read per open row.
            models.Index(
                fields=["status", "assigned_to", "triage_due", "resolve_due"],
                name="request_open_work",
                condition=models.Q(status__in=OPEN_REQUEST_STATUSES),
            ),
            # The console's search: public_id exactly (=public_id); the other fields through the
            # trigram indexes of migration 0009 (cityhall/search.py), where pg_trgm exists.
            models.Index(Upper("public_id"), name="request_public_id_upper"),
        ]

    def __str__(self) -> str:
        return self.public_id

    def get_absolute_url(self) -> str:
        return reverse("code_enforcement:track", args=[self.public_id])

    def secret_matches(self, secret: str) -> bool:
        return bool(self.reporter_secret) and secrets.compare_digest(
            self.reporter_secret, _hash(secret)
        )

    def is_reporter(self, user=None, secret: str = "") -> bool:
        """The one test of "is this the person who reported?": their account, or the secret an
        anonymous reporter was given (kept in their session)."""
        if user is not None and user.is_authenticated and self.reporter_id == user.pk:
            return True
        return bool(secret) and self.secret_matches(secret)

    @property
    def reopen_until(self):
        """The end of the reopen window, or None when the request is not closed."""
        if self.status != RequestStatus.CLOSED or self.closed_at is None:
            return None
        return self.closed_at + timedelta(days=REOPEN_WINDOW_DAYS)

    def can_reopen(self, now=None) -> bool:
        until = self.reopen_until
        return until is not None and (now or timezone.now()) <= until


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def photo_path(instance, filename):
    return f"requests/{timezone.now():%Y/%m}/{secrets.token_hex(8)}.jpg"


class RequestPhoto(models.Model):
    request = models.ForeignKey(
        ServiceRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="photos"
    )
    draft_token = models.CharField(max_length=32, blank=True, db_index=True)
    image = models.ImageField(upload_to=photo_path)
    hidden = models.BooleanField(default=False)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.image.name


class Follower(models.Model):
    """Someone told about a request's progress besides its reporter (e.g. a merged duplicate's)."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    language = models.CharField(max_length=5, choices=Language.choices, default=Language.ENGLISH)
    # Double opt-in for a number typed into "follow this report": texted only once confirmed.
    phone_confirmed_at = models.DateTimeField(null=True, blank=True)
    phone_code = models.CharField(max_length=6, blank=True)
    phone_code_attempts = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.request_id}: {self.user_id or self.email or self.phone}"


class RequestEvent(TimelineEventBase):
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=RequestStatus.choices, blank=True)

    class Meta(TimelineEventBase.Meta):
        pass


class ViolationType(Bilingual, models.Model):
    code_section = models.CharField(_("code section"), max_length=40, unique=True)
    title_en = models.CharField(_("title (English)"), max_length=120)
    title_es = models.CharField(_("title (Spanish)"), max_length=120)
    correction_en = models.TextField(_("how to correct (English)"))
    correction_es = models.TextField(_("how to correct (Spanish)"))
    comply_days = models.JSONField(
        _("days to comply by severity"),
        default=dict,
        blank=True,
        help_text=_('e.g. {"low": 30, "high": 7}'),
    )

    class Meta:
        ordering = ["code_section"]
        verbose_name = _("violation type")

    def __str__(self) -> str:
        return f"{self.code_section} {self.title_en}"


class CodeCase(StatusGuard, models.Model):
    number = models.CharField(max_length=20, unique=True, editable=False)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=CaseStatus.choices,
        default=CaseStatus.OPEN,
        editable=False,
    )
    address = models.CharField(_("property address"), max_length=200)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    neighborhood = models.ForeignKey(
        "cityhall.Neighborhood", null=True, blank=True, on_delete=models.SET_NULL
    )
    owner_name = models.CharField(_("owner name"), max_length=120, blank=True)
    owner_mailing_address = models.TextField(_("owner mailing address"), blank=True)
    owner_email = models.EmailField(_("owner email"), blank=True)
    owner_language = models.CharField(
        _("owner language"), max_length=5, choices=Language.choices, default=Language.ENGLISH
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspector"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="code_cases",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    opened_at = models.DateTimeField(default=timezone.now, editable=False)
    comply_by = models.DateField(_("comply by"), null=True, blank=True, editable=False)
    fine_amount = models.DecimalField(
        _("fine"), max_digits=10, decimal_places=2, null=True, blank=True, editable=False
    )
    fine_due = models.DateField(_("fine due"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    repeat_violation = models.BooleanField(_("repeat violation"), default=False, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("code case")
        permissions = [
            ("manage_case", "Can open cases, record violations and issue notices and citations")
        ]
        indexes = [models.Index(fields=["status", "comply_by"]), models.Index(fields=["address"])]

    def __str__(self) -> str:
        return self.number

    @property
    def fine_paid(self):
        return sum((p.amount for p in self.fine_payments.all()), Decimal(0))

    @property
    def fine_balance(self):
        return max((self.fine_amount or Decimal(0)) - self.fine_paid, Decimal(0))


class FinePayment(models.Model):
    """A citation's ledger: fines paid online (cityhall.payments) and refunds (negative)."""

    class Method(models.TextChoices):
        ONLINE = "online", _("Paid online")
        REFUND = "refund", _("Refund to card")

    case = models.ForeignKey(CodeCase, on_delete=models.PROTECT, related_name="fine_payments")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    method = models.CharField(max_length=8, choices=Method.choices)
    reference = models.CharField(max_length=60, blank=True)
    online_payment = models.ForeignKey(
        "billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("fine payment")

    def __str__(self) -> str:
        return f"{self.amount} {self.get_method_display()}"


class Violation(models.Model):
    case = models.ForeignKey(CodeCase, on_delete=models.CASCADE, related_name="violations")
    violation_type = models.ForeignKey(
        ViolationType, verbose_name=_("violation"), on_delete=models.PROTECT
    )
    description = models.TextField(_("what was found"))
    description_es = models.TextField(_("what was found (Spanish)"), blank=True)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM
    )
    comply_by = models.DateField(_("comply by"))
    corrected_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.violation_type.code_section} ({self.get_severity_display()})"


class CaseInspection(models.Model):
    case = models.ForeignKey(CodeCase, on_delete=models.CASCADE, related_name="inspections")
    kind = models.CharField(
        max_length=14, choices=InspectionKind.choices, default=InspectionKind.INITIAL
    )
    scheduled_for = models.DateField(_("date"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="case_inspections",
    )
    result = models.CharField(max_length=14, choices=InspectionResult.choices, blank=True)
    notes = models.TextField(blank=True)
    photo = models.ImageField(upload_to="inspections/%Y/%m/", blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["scheduled_for", "pk"]
        constraints = [
            # Automation assigns at most one reinspection per case and date, however often it runs.
            models.UniqueConstraint(
                fields=["case", "kind", "scheduled_for"], name="one_inspection_per_case_kind_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.get_kind_display()} {self.scheduled_for}"


class Notice(models.Model):
    case = models.ForeignKey(CodeCase, on_delete=models.CASCADE, related_name="notices")
    language = models.CharField(max_length=5, choices=Language.choices)
    issued_at = models.DateTimeField(default=timezone.now)
    comply_by = models.DateField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["issued_at"]

    def __str__(self) -> str:
        return f"Notice {self.case} {self.issued_at:%Y-%m-%d}"


class CaseEvent(TimelineEventBase):
    """A code case's timeline: internal (the case file), so events are not public."""

    case = models.ForeignKey(CodeCase, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=CaseStatus.choices, blank=True)
    public = models.BooleanField(default=False)

    class Meta(TimelineEventBase.Meta):
        pass


class AutomationLog(models.Model):
    """Unique (kind, object, day): a rerun of a beat job finds its row and does nothing."""

    kind = models.CharField(max_length=30)
    object_id = models.PositiveBigIntegerField()
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "day"], name="automation_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} {self.day}"


class ApiKey(models.Model):
    """Open311 API keys, issued and revoked in the console. Only a hash is stored."""

    name = models.CharField(_("who uses it"), max_length=100)
    contact_email = models.EmailField(_("contact email"))
    prefix = models.CharField(max_length=8, editable=False, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    requests_per_minute = models.PositiveIntegerField(_("requests per minute"), default=30)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("Open311 API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(
        cls, *, name: str, contact_email: str, requests_per_minute: int = 30
    ) -> tuple[ApiKey, str]:
        raw = secrets.token_urlsafe(24)
        key = cls.objects.create(
            name=name,
            contact_email=contact_email,
            prefix=raw[:8],
            key_hash=_hash(raw),
            requests_per_minute=requests_per_minute,
        )
        return key, raw

    @classmethod
    def find(cls, raw: str) -> ApiKey | None:
        if not raw:
            return None
        return cls.objects.filter(key_hash=_hash(raw), revoked_at__isnull=True).first()
