"""Business days: weekdays that are not city holidays."""

from __future__ import annotations

from datetime import date, timedelta

from .models import Holiday


def add_business_days(start: date, days: int) -> date:
    """The date `days` business days after `start` (start itself does not count)."""
    horizon = start + timedelta(days=days * 2 + 31)
    holidays = set(
        Holiday.objects.filter(date__gt=start, date__lte=horizon).values_list("date", flat=True)
    )
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            left -= 1
    return current
