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
