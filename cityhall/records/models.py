from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.models import HistoricalRecords

from . import registry


class Action(models.TextChoices):
    DELETE = registry.DELETE, _("Delete")
    ANONYMISE = registry.ANONYMISE, _("Anonymise (keep the statistics, drop personal data)")
    KEEP = registry.KEEP, _("Keep permanently")


class Unit(models.TextChoices):
    DAYS = "days", _("days")
    MONTHS = "months", _("months")
    YEARS = "years", _("years")


def months_before(moment: datetime, months: int) -> datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def kind_labels(record_types=None) -> dict[str, dict[str, str]]:
    """{record type: {kind: its name}} for the record types that have kinds (one query each)."""
    labels = {}
    for key, record_type in registry.RECORD_TYPES.items():
        if record_types is None or key in record_types:
            kinds = record_type.kinds()
            if kinds:
                labels[key] = {group.value: str(group.label) for group in kinds}
    return labels


class RetentionRule(models.Model):
    """How long one type of record is kept (optionally only a status group or a kind of it),
    and what happens to it then. The most specific rule governs a record: status and kind,
    then status, then kind, then the type's rule for everything."""

    record_type = models.CharField(_("record type"), max_length=60)
    status = models.CharField(_("only in status"), max_length=30, blank=True)
    kind = models.CharField(_("only of kind"), max_length=60, blank=True)
    period = models.PositiveSmallIntegerField(_("kept for"), default=2)
    unit = models.CharField(_("unit"), max_length=6, choices=Unit.choices, default=Unit.YEARS)
    action = models.CharField(_("then"), max_length=10, choices=Action.choices)
    reason = models.TextField(
        _("reason"), help_text=_("The law or policy behind the period, for the next reader.")
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["record_type", "status", "kind"]
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention schedule")
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "status", "kind"], name="one_rule_per_record_group"
            )
        ]

    def __str__(self) -> str:
        # (kinds by their code: a list of rules names each row without a query per row)
        return f"{self.type_label} · {self.describe_scope({})}"

    @property
    def kind_of(self) -> registry.RecordType | None:
        return registry.RECORD_TYPES.get(self.record_type)

    @property
    def type_label(self) -> str:
        record_type = self.kind_of
        return str(record_type.label) if record_type else self.record_type

    @property
    def applies_to(self) -> str:
        return self.describe_scope(kind_labels([self.record_type]) if self.kind else {})

    def describe_scope(self, labels: dict[str, dict[str, str]]) -> str:
        """ "Ended: finaled, expired or revoked · BUS: Business license"; `labels` are the kinds'
        names by record type (kind_labels), the code itself where missing."""
        record_type = self.kind_of
        if record_type is None:
            return ""
        parts = []
        if self.status:
            statuses = {group.value: group.label for group in record_type.statuses()}
            parts.append(str(statuses.get(self.status, self.status)))
        if self.kind:
            parts.append(str(labels.get(self.record_type, {}).get(self.kind, self.kind)))
        return " · ".join(parts) or str(_("All"))

    @property
    def period_text(self) -> str:
        if self.action == Action.KEEP:
            return str(_("Permanently"))
        if self.period == 0:
            return str(_("Not kept"))
        unit_text = {
            Unit.DAYS: ngettext("%(n)d day", "%(n)d days", self.period),
            Unit.MONTHS: ngettext("%(n)d month", "%(n)d months", self.period),
            Unit.YEARS: ngettext("%(n)d year", "%(n)d years", self.period),
        }[self.unit]
        return unit_text % {"n": self.period}

    def cutoff(self, now: datetime | None = None) -> datetime:
        """Records whose period started before this moment are past it."""
        now = now or timezone.now()
        if self.unit == Unit.DAYS:
            return now - timedelta(days=self.period)
        if self.unit == Unit.MONTHS:
            return months_before(now, self.period)
        return months_before(now, 12 * self.period)

    def clean(self):
        record_type = self.kind_of
        if record_type is None:
            raise ValidationError({"record_type": _("Choose a record type.")})
        if self.status and self.status not in {g.value for g in record_type.statuses()}:
            raise ValidationError({"status": _("That status is not one of this record type's.")})
        if self.kind and self.kind not in {g.value for g in record_type.kinds()}:
            raise ValidationError({"kind": _("That kind is not one of this record type's.")})
        if self.action and self.action != Action.KEEP and self.action not in record_type.actions:
            raise ValidationError(
                {"action": _("This record type cannot be anonymised; choose delete or keep.")}
            )
        # A period of nothing (in any unit) would dispose of the whole group tonight; only
        # expired sessions may go at once.
        if self.action != Action.KEEP and not self.period and record_type.key != "cityhall.session":
            raise ValidationError({"period": _("Keep records for at least one day.")})


class DisposalLog(models.Model):
    """What one night's disposal did under one rule: no personal data, only counts."""

    rule = models.ForeignKey(
        RetentionRule, null=True, on_delete=models.SET_NULL, related_name="disposals"
    )
    record_type = models.CharField(_("record type"), max_length=60)
    rule_text = models.CharField(_("rule"), max_length=300)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    cutoff = models.DateTimeField(_("records older than"))
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    anonymised = models.PositiveIntegerField(_("anonymised"), default=0)
    batches = models.PositiveIntegerField(_("batches"), default=0)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("disposal log entry")
        verbose_name_plural = _("disposal log")

    def __str__(self) -> str:
        return f"{self.rule_text}: {self.deleted} deleted, {self.anonymised} anonymised"


class HoldKind(models.TextChoices):
    RECORD = "record", _("One record")
    ADDRESS = "address", _("Everything about an address")
    PERSON = "person", _("Everything about a person")


class LegalHoldQuerySet(models.QuerySet):
    def active(self):
        return self.filter(released_at__isnull=True)


class LegalHold(models.Model):
    """Records under a hold (litigation, an audit, a public-records request) are not
    disposed of, nor deleted with an account, until the hold is released."""

    kind = models.CharField(_("hold on"), max_length=8, choices=HoldKind.choices)
    record_type = models.CharField(_("record type"), max_length=60, blank=True)
    reference = models.CharField(_("record number"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    person_email = models.EmailField(_("person's email address"), blank=True)
    reason = models.TextField(_("reason"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_at = models.DateTimeField(_("placed"), default=timezone.now)
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_reason = models.TextField(_("why it was released"), blank=True)
    history = HistoricalRecords()

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["released_at", "-placed_at"]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        permissions = [("place_legal_hold", "Can place and release legal holds")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def subject(self) -> str:
        if self.kind == HoldKind.RECORD:
            record_type = registry.RECORD_TYPES.get(self.record_type)
            label = record_type.label if record_type else self.record_type
            return f"{label} {self.reference}"
        if self.kind == HoldKind.ADDRESS:
            return self.address
        return self.person_email

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class RecordsRequest(models.Model):
    """A public-records request answered with an export: who made it, about what, and how
    many records went out (the ZIP itself is made again on download, from the same rules)."""

    address = models.CharField(
        _("address"), max_length=200, blank=True, help_text=_("Everything about this address.")
    )
    reference = models.CharField(
        _("record number"),
        max_length=60,
        blank=True,
        help_text=_(
            "Or one case, report or permit: CE-2026-00012, BLD-2026-000031, a report number."
        ),
    )
    requester = models.CharField(
        _("requested by"),
        max_length=200,
        help_text=_("Who asked and the request's number, for the log (not put in the export)."),
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    made_at = models.DateTimeField(_("made"), default=timezone.now)
    counts = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-made_at"]
        verbose_name = _("public-records export")
        verbose_name_plural = _("public-records exports")

    def __str__(self) -> str:
        return self.reference or self.address

    def clean(self):
        self.address = self.address.strip()
        self.reference = self.reference.strip().upper() if self.reference.strip() else ""
        if bool(self.address) == bool(self.reference):
            raise ValidationError(_("Give either an address or a record number, not both."))
