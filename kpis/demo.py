"""Fill the KPI roll-ups for the demo's two years of history (once)."""

from datetime import timedelta

from django.utils import timezone

from .models import DailyRollup, PerformanceSettings, Target
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


# The city's targets for its shares and durations (counts depend on the period's length).
TARGETS = {
    "closed_within_sla": 90,
    "success_rate": 85,
    "median_days_to_decision": 10,
    "first_response_hours": 24,
    "alert_reach": 95,
    "median_days_to_close": 7,
    "decided_within_sla": 90,
    "submitted_online": 75,
    "delivery_success": 98,
    "households_reached": 25,
    "voluntary_compliance": 70,
}


def demo_load() -> dict[str, int]:
    for metric, target in TARGETS.items():
        Target.objects.get_or_create(
            metric=metric, dimension="", value="", defaults={"target": target}
        )
    settings_row = PerformanceSettings.current()
    if not settings_row.public_metrics:
        settings_row.public_metrics = PUBLIC
        settings_row.save()
    if DailyRollup.objects.exists():
        return {"KPI roll-up rows": 0, **_monthly_report()}
    end = timezone.localdate()
    start = end - timedelta(days=730)
    written, chunk = 0, start
    while chunk <= end:
        chunk_end = min(chunk + timedelta(days=60), end)
        written += rollup_days(start=chunk, end=chunk_end)
        chunk = chunk_end + timedelta(days=1)
    return {"KPI roll-up rows": written, **_monthly_report()}


def _monthly_report() -> dict[str, int]:
    """Last month's report, and the demo manager asks for it by email."""
    from django.contrib.auth import get_user_model

    from . import reports
    from .models import MonthlyReport, ReportOptIn

    made = not MonthlyReport.objects.filter(month=reports.previous_month()).exists()
    reports.build(reports.previous_month())
    manager = get_user_model().objects.filter(email="manager@riverbend.example").first()
    if manager:
        ReportOptIn.objects.get_or_create(user=manager)
    return {"monthly reports": int(made)}
