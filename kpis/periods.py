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
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def whole_months(self) -> int:
        """How many calendar months the period is, when it is whole months (else 0)."""
        if self.start.day != 1 or (self.end + timedelta(days=1)).day != 1:
            return 0
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def previous(self) -> Period:
        """The same length just before: the months before, for whole calendar months (October
        is compared with September, not with the 31 days from August 31st)."""
        end = self.start - timedelta(days=1)
        months = self.whole_months
        if months:
            start = end.replace(day=1)
            for _ in range(months - 1):
                start = (start - timedelta(days=1)).replace(day=1)
            return Period(self.key, start, end)
        return Period(self.key, end - timedelta(days=self.days - 1), end)


class PeriodError(ValueError):
    """A period that cannot be shown; `field` is the date input to correct ("" for none)."""

    def __init__(self, message, field: str = ""):
        super().__init__(message)
        self.field = field


def parse_period(params, *, today: date | None = None) -> Period:
    """From the query string; raises PeriodError with a message a manager can act on.

    Dates alone mean custom dates (`?start=…&end=…`, whatever `period` says); otherwise
    `period` names a length ending today (the last 30 days when absent).
    """
    today = today or timezone.localdate()
    start_text = (params.get("start") or "").strip()
    end_text = (params.get("end") or "").strip()
    key = params.get("period") or "month"
    if not start_text and not end_text:
        if key in LENGTHS:
            return Period(key, today - timedelta(days=LENGTHS[key] - 1), today)
        if key == "custom":
            raise PeriodError(_("Enter the first and last day of the period."), "start")
        raise PeriodError(_("Choose a period from the list."))
    start = _day(start_text, "start", _("Enter the first day as a date, like 2026-10-01."))
    end = _day(end_text, "end", _("Enter the last day as a date, like 2026-10-31."))
    if end < start:
        raise PeriodError(
            _("The last day is before the first day. Swap them, or choose other dates."), "end"
        )
    if end > today:
        raise PeriodError(
            _("The last day is in the future. Choose today or an earlier day."), "end"
        )
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError(_("Choose a period of at most three years."), "start")
    return Period("custom", start, end)


def _day(text: str, field: str, message) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(message, field) from None


def default_period(today: date | None = None) -> Period:
    return parse_period({"period": "month"}, today=today)


def as_query(period: Period) -> dict[str, str]:
    """The query-string state of a period, for links that keep it."""
    if period.key in LENGTHS:
        return {"period": period.key}
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}
