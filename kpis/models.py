from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class DailyRollup(models.Model):
    """One metric's raw sums for one day (and one dimension value).

    Sums and sample lists add up across days exactly, so any period's value is computed from
    these rows alone: the dashboard never touches the raw tables.
    """

    metric = models.CharField(max_length=60)
    day = models.DateField()
    dimension = models.CharField(max_length=30, blank=True)  # "" = the city as a whole
    value = models.CharField(max_length=120, blank=True)  # the dimension's value, e.g. "pothole"
    numerator = models.FloatField(default=0)
    denominator = models.FloatField(default=0)
    samples = models.JSONField(default=list, blank=True)  # for medians and percentiles
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "day", "dimension", "value"],
                name="one_rollup_per_metric_day_value",
            )
        ]
        indexes = [models.Index(fields=["metric", "dimension", "day"])]
        permissions = [("view_dashboard", "Can see the KPI dashboard and forecasts")]

    def __str__(self) -> str:
        return f"{self.metric} {self.day} {self.dimension}={self.value}"


class RollupSeal(models.Model):
    """Roll-ups up to `through` are final: records behind them may have been disposed of under
    the retention schedule, so they are never computed again (one row)."""

    through = models.DateField(null=True, blank=True)
    sealed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Roll-ups sealed through {self.through}"

    @classmethod
    def current(cls) -> RollupSeal:
        seal, _created = cls.objects.get_or_create(pk=1)
        return seal


class Target(models.Model):
    """A manager's target for a metric (optionally for one dimension value)."""

    metric = models.CharField(_("metric"), max_length=60)
    dimension = models.CharField(_("dimension"), max_length=30, blank=True)
    value = models.CharField(_("dimension value"), max_length=120, blank=True)
    target = models.FloatField(_("target"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "dimension", "value"], name="one_target_per_metric_value"
            )
        ]
        verbose_name = _("target")

    def __str__(self) -> str:
        return f"{self.metric}: {self.target}"


class PerformanceSettings(models.Model):
    """Settings for the dashboards, set in the console (one row)."""

    households = models.PositiveIntegerField(
        _("households in the city"),
        default=19600,
        help_text=_("For the share of households reached by alerts."),
    )
    public_metrics = models.JSONField(
        _("metrics on the public performance page"),
        default=list,
        blank=True,
        help_text=_("Metric keys, in order."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("performance settings")
        verbose_name_plural = _("performance settings")

    def __str__(self) -> str:
        return "Performance settings"

    @classmethod
    def current(cls) -> PerformanceSettings:
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


class MonthlyReport(models.Model):
    """A month's scorecards and charts as they stood on the first of the next month: what the
    council was shown stays the same, whatever is corrected or disposed of later."""

    month = models.DateField(unique=True)  # its first day
    numbers = models.JSONField()  # kpis.dashboard.compute for the month, dates as text
    targets = models.JSONField(default=dict)  # {metric key: target} when it was made
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"Performance report {self.month:%Y-%m}"


class ReportOptIn(models.Model):
    """A manager who asked for the monthly report by email."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kpi_report_opt_in"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Monthly report for {self.user}"


class ReportEmail(models.Model):
    """One manager's email of one report: written with the email in one transaction, so a
    worker that crashes half-way sends the rest on its next run and nobody gets two."""

    report = models.ForeignKey(MonthlyReport, on_delete=models.CASCADE, related_name="emails")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    notification = models.ForeignKey(
        "alerts.Notification", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "user"], name="one_report_email_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.report} to {self.user}"
