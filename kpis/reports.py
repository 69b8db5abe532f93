"""The monthly performance report: made by beat on the first of each month from the month's
roll-ups, kept as it was made, and emailed to the managers who asked for it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone, translation

from alerts.services import notify

from . import dashboard
from .formatting import show, show_change
from .metrics import HEADLINE, REGISTRY
from .models import MonthlyReport, ReportEmail, Target
from .periods import Period
from .scorecards import status_label, status_of

TEMPLATE = "kpi_monthly_report"


def month_period(month: date) -> Period:
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Period("custom", first, last)


def previous_month(today: date | None = None) -> date:
    today = today or timezone.localdate()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _storable(numbers: dict) -> dict:
    computed = numbers.get("computed_at")
    return {
        **numbers,
        "spans": [[a.isoformat(), b.isoformat()] for a, b in numbers["spans"]],
        "computed_at": computed.isoformat() if computed else None,
    }


def loaded(report: MonthlyReport) -> dict:
    """The stored numbers in the shape kpis.dashboard.compute returns."""
    numbers = dict(report.numbers)
    numbers["spans"] = [
        (date.fromisoformat(a), date.fromisoformat(b)) for a, b in report.numbers["spans"]
    ]
    if numbers.get("computed_at"):
        numbers["computed_at"] = datetime.fromisoformat(numbers["computed_at"])
    return numbers


def build(month: date) -> MonthlyReport:
    """The report of `month` (made once: a second call returns the one already made)."""
    month = month.replace(day=1)
    existing = MonthlyReport.objects.filter(month=month).first()
    if existing:
        return existing
    numbers = dashboard.compute(month_period(month), None)
    targets = {t.metric: t.target for t in Target.objects.filter(dimension="")}
    try:
        with transaction.atomic():
            return MonthlyReport.objects.create(
                month=month, numbers=_storable(numbers), targets=targets
            )
    except IntegrityError:  # another worker made it first
        return MonthlyReport.objects.get(month=month)


def recipients():
    """Active managers (staff who may see the dashboard) who asked for the report."""
    User = get_user_model()
    may_see = Q(groups__permissions__codename="view_dashboard") | Q(
        user_permissions__codename="view_dashboard"
    )
    return (
        User.objects.filter(is_active=True, is_staff=True, kpi_report_opt_in__isnull=False)
        .filter(may_see | Q(is_superuser=True))
        .distinct()
        .order_by("pk")
    )


def headline_lines(report: MonthlyReport, language: str) -> list[str]:
    """ "Complaints resolved: 170 (previous month 160, +10). On track." in `language`."""
    numbers = report.numbers["metrics"]
    lines = []
    with translation.override(language):
        for key in HEADLINE:
            metric, item = REGISTRY[key], numbers.get(key, {})
            value, previous = item.get("value"), item.get("previous")
            change = None if value is None or previous is None else value - previous
            status = status_of(metric, value, report.targets.get(key))
            line = f"{metric.name(language)}: {show(value, metric)}"
            line += (
                " ("
                + translation.gettext("previous month %(value)s, %(change)s")
                % {
                    "value": show(previous, metric),
                    "change": show_change(change, metric),
                }
                + ")"
            )
            if status:
                line += f". {status_label(status)}"
            lines.append(line)
    return lines


def send(report: MonthlyReport) -> int:
    """Email the report to each manager who asked and has not had it; returns how many now."""
    sent = 0
    for user in recipients().exclude(pk__in=report.emails.values("user")):
        with transaction.atomic():
            email, created = ReportEmail.objects.get_or_create(report=report, user=user)
            if not created:
                continue
            language = user.preferred_language
            with translation.override(language):
                month_name = formats.date_format(report.month, "YEAR_MONTH_FORMAT")
            email.notification = notify(
                user=user,
                template=TEMPLATE,
                context={
                    "month": month_name,
                    "lines": headline_lines(report, language),
                },
                link=reverse("kpis:report", args=[report.month.strftime("%Y-%m")]),
                channels=["email"],
            )
            email.save(update_fields=["notification"])
        sent += 1
    return sent


def make_and_send(today: date | None = None) -> dict:
    """Beat's job on the first of the month: last month's report, then the emails."""
    report = build(previous_month(today))
    return {"month": report.month.isoformat(), "emailed": send(report)}
