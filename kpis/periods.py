"""Reporting periods: week, month, quarter, year or custom dates, and the one before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CHOICES = [
    ("week", _("Last 7 days")),
    ("month", _("Last 30 days")),
    ("quarter", _("Last 90 days")),
    ("year", _("Last 12 months")),
    ("custom", _("Custom dates")),
]
LENGTHS = {"week": 7, "month": 30, "quarter": 90, "year": 365}
MAX_DAYS = 3 * 365


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        end = self.start - timedelta(days=1)
        return Period(self.key, end - timedelta(days=self.days - 1), end)


class PeriodError(ValueError):
    pass


def parse_period(params, *, today: date | None = None) -> Period:
    """From the query string; raises PeriodError with a message a manager can act on."""
    today = today or timezone.localdate()
    key = params.get("period") or "month"
    if key in LENGTHS:
        return Period(key, today - timedelta(days=LENGTHS[key] - 1), today)
    if key != "custom":
        raise PeriodError(_("Choose a period from the list."))
    try:
        start = date.fromisoformat(params.get("start", ""))
        end = date.fromisoformat(params.get("end", ""))
    except ValueError:
        raise PeriodError(_("Enter both dates as YYYY-MM-DD.")) from None
    if end < start:
        raise PeriodError(_("The end date is before the start date."))
    if end > today:
        raise PeriodError(_("The end date is in the future."))
    if (end - start).days > MAX_DAYS:
        raise PeriodError(_("Choose at most three years."))
    return Period("custom", start, end)


def default_period(today: date | None = None) -> Period:
    return parse_period({"period": "month"}, today=today)
