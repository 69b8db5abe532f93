"""Fill the KPI roll-ups for the demo's two years of history (once)."""

from datetime import timedelta

from django.utils import timezone

from .models import DailyRollup, PerformanceSettings
from .rollups import rollup_days

PUBLIC = [
    "requests_received",
    "closed_within_sla",
    "median_days_to_close",
    "applications_received",
    "median_days_to_issue",
    "decided_within_sla",
    "households_reached",
    "voluntary_compliance",
]


def demo_load() -> dict[str, int]:
    settings_row = PerformanceSettings.current()
    if not settings_row.public_metrics:
        settings_row.public_metrics = PUBLIC
        settings_row.save()
    if DailyRollup.objects.exists():
        return {"KPI roll-up rows": 0}
    end = timezone.localdate()
    start = end - timedelta(days=730)
    written, chunk = 0, start
    while chunk <= end:
        chunk_end = min(chunk + timedelta(days=60), end)
        written += rollup_days(start=chunk, end=chunk_end)
        chunk = chunk_end + timedelta(days=1)
    return {"KPI roll-up rows": written}
