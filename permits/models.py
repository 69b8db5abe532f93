from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cityhall.models import Bilingual
from cityhall.models import TimelineEvent as TimelineEventBase
from cityhall.workflow import StatusGuard

from .constants import (
    BldsPermitClass,
    BldsPermitType,
    BldsWorkClass,
    FeeKind,
    InspectionStatus,
    Kind,
    PaymentMethod,
    QuestionKind,
    Status,
)


class InspectionType(Bilingual, models.Model):
    code = models.SlugField(_("code"), unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_es = models.CharField(_("name (Spanish)"), max_length=100)
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "name_en"]
        verbose_name = _("inspection type")

    def __str__(self) -> str:
        return self.name_en


class PermitType(Bilingual, models.Model):
    code = models.CharField(
        _("code"), max_length=6, unique=True, help_text=_("Prefix of permit numbers, e.g. BLD.")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.PERMIT)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_es = models.CharField(_("name (Spanish)"), max_length=120)
    description_en = models.TextField(_("description (English)"))
    description_es = models.TextField(_("description (Spanish)"))
    fee_kind = models.CharField(
        _("fee"), max_length=16, choices=FeeKind.choices, default=FeeKind.FLAT
    )
    fee_amount = models.DecimalField(
        _("fee amount"),
        max_digits=10,
        decimal_places=2,
        help_text=_("The flat fee, the fee per unit, or the fee per $1,000 of project value."),
    )
    minimum_fee = models.DecimalField(_("minimum fee"), max_digits=10, decimal_places=2, default=0)
    unit_en = models.CharField(
        _("unit (English)"), max_length=40, blank=True, help_text=_("e.g. square feet")
    )
    unit_es = models.CharField(_("unit (Spanish)"), max_length=40, blank=True)
    # Fees read "$1.50 per linear foot" and quantities "1 linear foot", "40 linear feet": the
    # singular cannot be derived from the plural in either language, so it is configured too.
    unit_one_en = models.CharField(
        _("one unit (English)"), max_length=40, blank=True, help_text=_("e.g. square foot")
    )
    unit_one_es = models.CharField(_("one unit (Spanish)"), max_length=40, blank=True)
    review_sla_days = models.PositiveSmallIntegerField(_("review time (business days)"), default=10)
    validity_days = models.PositiveIntegerField(_("valid for (days)"), default=365)
    renewable = models.BooleanField(_("renewable"), default=False)
    renewal_window_days = models.PositiveSmallIntegerField(
        _("renewal window (days before expiry)"), default=60
    )
    grace_days = models.PositiveSmallIntegerField(_("grace period (days after expiry)"), default=0)
    reminder_offsets = models.JSONField(
        _("reminders (days before expiry)"),
        default=list,
        blank=True,
        help_text=_("e.g. [60, 30, 7]"),
    )
    auto_renew = models.BooleanField(_("renewal application created automatically"), default=False)
    renewal_fee = models.DecimalField(
        _("renewal fee"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    inspection_types = models.ManyToManyField(
        InspectionType,
        verbose_name=_("required inspections"),
        blank=True,
        related_name="permit_types",
    )
    # How the type is published as open data: a BLDS permit type puts it in the building-permit
    # dataset; without one (licences, events, filming) it goes to the licences dataset.
    blds_type = models.CharField(
        "BLDS permit type",
        max_length=20,
        choices=BldsPermitType.choices,
        blank=True,
        help_text="PermitTypeMapped in the building-permit dataset; leave empty for licences and "
        "other permits that are not building permits.",
    )
    blds_class = models.CharField(
        "BLDS permit class",
        max_length=20,
        choices=BldsPermitClass.choices,
        default=BldsPermitClass.RESIDENTIAL,
    )
    blds_work_class = models.CharField(
        "BLDS work class",
        max_length=20,
        choices=BldsWorkClass.choices,
        default=BldsWorkClass.EXISTING,
    )
    is_active = models.BooleanField(_("accepting applications"), default=True)
    position = models.PositiveSmallIntegerField(default=100)
    history = HistoricalRecords(m2m_fields=[inspection_types])

    class Meta:
        ordering = ["position", "name_en"]
        verbose_name = _("permit or license type")
        verbose_name_plural = _("permit and license types")

    def __str__(self) -> str:
        return f"{self.code} — {self.name_en}"

    def fee_for(self, *, units: Decimal | None = None, valuation: Decimal | None = None) -> Decimal:
        if self.fee_kind == FeeKind.PER_UNIT:
            fee = self.fee_amount * (units or 0)
        elif self.fee_kind == FeeKind.PER_VALUATION:
            fee = self.fee_amount * (valuation or 0) / Decimal(1000)
        else:
            fee = self.fee_amount
        return max(Decimal(fee), self.minimum_fee).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def unit_one(self) -> str:
        """The unit in the singular, in the active language ("linear foot"); the plural when no
        singular is configured."""
        return self.t("unit_one") or self.t("unit")

    def quantity(self, units: Decimal | None) -> str:
        """ "40 linear feet", "1 linear foot", "2.5 square feet": a quantity as asked for."""
        if units is None:
            return ""
        # US number conventions in both languages, as for money ("$1,250.50").
        whole = units == units.to_integral()
        number = f"{int(units):,}" if whole else f"{units.normalize():f}"
        unit = self.unit_one() if units == 1 else self.t("unit")
        return f"{number} {unit}".strip()

    @property
    def needs_units(self) -> bool:
        return self.fee_kind == FeeKind.PER_UNIT

    @property
    def needs_valuation(self) -> bool:
        return self.fee_kind == FeeKind.PER_VALUATION


class DocumentRequirement(Bilingual, models.Model):
    permit_type = models.ForeignKey(
        PermitType, on_delete=models.CASCADE, related_name="document_requirements"
    )
    name_en = models.CharField(_("document (English)"), max_length=120)
    name_es = models.CharField(_("document (Spanish)"), max_length=120)
    required = models.BooleanField(_("required"), default=True)
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("required document")

    def __str__(self) -> str:
        return self.name_en


class Question(Bilingual, models.Model):
    permit_type = models.ForeignKey(PermitType, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(_("key"))
    label_en = models.CharField(_("question (English)"), max_length=200)
    label_es = models.CharField(_("question (Spanish)"), max_length=200)
    kind = models.CharField(
        _("answer type"), max_length=8, choices=QuestionKind.choices, default=QuestionKind.TEXT
    )
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_('For choice questions: [{"value": "wood", "en": "Wood", "es": "Madera"}, ...]'),
    )
    required = models.BooleanField(_("required"), default=True)
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["permit_type", "key"], name="question_key_unique_per_type"
            )
        ]
        verbose_name = _("question")

    def __str__(self) -> str:
        return self.label_en


class Application(StatusGuard, models.Model):
    """An application, which becomes the permit or license once issued."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(
        _("number"), max_length=20, unique=True, null=True, blank=True, editable=False
    )
    permit_type = models.ForeignKey(
        PermitType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="applications"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False
    )

    applicant_name = models.CharField(_("applicant name"), max_length=120, blank=True)
    applicant_phone = models.CharField(_("phone"), max_length=20, blank=True)
    business_name = models.CharField(_("business name"), max_length=120, blank=True)
    address = models.CharField(_("property address"), max_length=200, blank=True)
    zip_code = models.CharField(_("ZIP code"), max_length=10, blank=True)
    neighborhood = models.ForeignKey(
        "cityhall.Neighborhood",
        verbose_name=_("neighborhood"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    description = models.TextField(_("project description"), blank=True)
    valuation = models.DecimalField(
        _("project value ($)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    units = models.DecimalField(_("units"), max_digits=10, decimal_places=2, null=True, blank=True)
    # Building permits: what BLDS publishes beyond the basics (all optional for the applicant).
    total_sq_ft = models.PositiveIntegerField(_("total square feet"), null=True, blank=True)
    housing_units = models.PositiveSmallIntegerField(_("housing units"), null=True, blank=True)
    parcel_number = models.CharField(_("parcel number (APN)"), max_length=40, blank=True)
    contractor_name = models.CharField(_("contractor"), max_length=200, blank=True)
    contractor_license = models.CharField(
        _("contractor's state license number"), max_length=40, blank=True
    )
    answers = models.JSONField(default=dict, blank=True)
    declared_at = models.DateTimeField(null=True, blank=True, editable=False)
    online = models.BooleanField(_("submitted online"), default=True)

    fee_total = models.DecimalField(
        _("fees"), max_digits=10, decimal_places=2, default=0, editable=False
    )
    conditions = models.TextField(_("conditions of approval"), blank=True, editable=False)
    conditions_es = models.TextField(
        _("conditions of approval (Spanish)"), blank=True, editable=False
    )
    decision_reason = models.TextField(_("reason"), blank=True, editable=False)
    decision_reason_es = models.TextField(_("reason (Spanish)"), blank=True, editable=False)
    assigned_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_applications",
    )
    renews = models.ForeignKey(
        "self",
        verbose_name=_("renews"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewals",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True, editable=False)
    due_at = models.DateField(_("decision expected by"), null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True, editable=False)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True, editable=False)
    expires_at = models.DateField(_("expires"), null=True, blank=True, editable=False)
    finaled_at = models.DateTimeField(_("finaled"), null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["answers"])

    class Meta:
        ordering = ["-submitted_at", "-created_at"]
        verbose_name = _("application")
        verbose_name_plural = _("applications and permits")
        permissions = [
            ("review_application", "Can accept applications for review and request information"),
            ("decide_application", "Can approve or deny applications"),
            ("issue_permit", "Can issue permits and licenses and record payments"),
            ("revoke_permit", "Can revoke permits and licenses"),
            ("waive_fee", "Can waive fees"),
            ("refund_payment", "Can refund online payments, fully or in part"),
            ("inspect", "Can schedule inspections and record results"),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["expires_at"]),
            models.Index(fields=["address"]),
            # The console list's order (ApplicationAdmin.ordering), read off the index.
            models.Index(
                models.F("due_at").asc(nulls_last=True),
                models.F("submitted_at").desc(),
                models.F("id").desc(),
                name="application_queue_order",
            ),
            # Public search by number (iexact); the console's icontains search through the
            # trigram indexes of migration 0011 (cityhall/search.py), where pg_trgm exists.
            models.Index(Upper("number"), name="application_number_upper"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "withdrawn"]) | Q(number__isnull=False),
                name="submitted_applications_have_numbers",
            )
        ]

    def __str__(self) -> str:
        return self.number or f"Draft {self.permit_type.code}"

    def get_absolute_url(self) -> str:
        if self.number:
            return reverse("permits:detail", args=[self.number])
        return reverse("permits:task_list", args=[self.public_id])

    @property
    def amount_paid(self) -> Decimal:
        return sum((p.amount for p in self.payments.all()), Decimal(0))

    @property
    def balance(self) -> Decimal:
        return max(self.fee_total - self.amount_paid, Decimal(0))

    @property
    def credit(self) -> Decimal:
        """Paid beyond the fees (two payments crossed): owed back to the payer."""
        return max(self.amount_paid - self.fee_total, Decimal(0))


class Document(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    requirement = models.ForeignKey(
        DocumentRequirement, null=True, blank=True, on_delete=models.SET_NULL
    )
    file = models.FileField(upload_to="permits/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class TimelineEvent(TimelineEventBase):
    """What happened to an application; public events are shown to the applicant."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=Status.choices, blank=True)

    class Meta(TimelineEventBase.Meta):
        pass


class InfoRequest(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="info_requests"
    )
    message = models.TextField(_("what is needed"))
    message_es = models.TextField(_("what is needed (Spanish)"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at"]

    def __str__(self) -> str:
        return self.message[:60]


class Payment(models.Model):
    """The fee ledger of an application: money taken at the counter or online, waivers, and
    refunds (negative). Its sum against `fee_total` is the balance."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    method = models.CharField(max_length=8, choices=PaymentMethod.choices)
    reference = models.CharField(_("receipt or check number"), max_length=60, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # Online payments and their refunds: the card payment behind the row.
    online_payment = models.ForeignKey(
        "billing.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["method", "created_at"], name="permit_payment_method")]

    def __str__(self) -> str:
        return f"{self.amount} {self.get_method_display()}"


class Inspection(StatusGuard, models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="inspections"
    )
    inspection_type = models.ForeignKey(
        InspectionType, verbose_name=_("inspection"), on_delete=models.PROTECT
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InspectionStatus.choices,
        default=InspectionStatus.REQUESTED,
        editable=False,
    )
    preferred_dates = models.CharField(_("preferred dates"), max_length=200, blank=True)
    scheduled_for = models.DateField(_("scheduled for"), null=True, blank=True)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspector"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="permit_inspections",
    )
    notes = models.TextField(_("result notes"), blank=True)
    corrections = models.TextField(_("corrections needed"), blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["requested_at"]
        verbose_name = _("inspection")

    def __str__(self) -> str:
        return f"{self.inspection_type} ({self.get_status_display()})"


class RenewalReminder(models.Model):
    """One row per permit and reminder offset: the unique constraint makes a rerun send nothing."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reminders")
    days_before = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "days_before"], name="one_reminder_per_offset"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.days_before} days"
