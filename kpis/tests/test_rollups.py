"""The daily roll-ups give the same numbers as the raw tables, for any period and dimension."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from code_enforcement.constants import RequestStatus
from code_enforcement.models import ServiceRequest
from code_enforcement.tests.factories import make_category
from kpis.metrics import METRICS, REGISTRY, compute_direct
from kpis.models import DailyRollup
from kpis.rollups import breakdown_from_rollups, rollup_days, values_from_rollups, weekly_series

from .world import at

pytestmark = pytest.mark.django_db

ROLLED = (date(2026, 1, 1), date(2026, 7, 10))
PERIODS = {
    "week": (date(2026, 6, 8), date(2026, 6, 14)),
    "month": (date(2026, 6, 1), date(2026, 6, 30)),
    "custom": (date(2026, 5, 15), date(2026, 6, 20)),
    "one day": (date(2026, 6, 10), date(2026, 6, 10)),
    "quiet": (date(2026, 2, 1), date(2026, 2, 28)),  # little or nothing happened
    "long": (date(2026, 1, 1), date(2026, 7, 10)),
}


def same(value):
    return None if value is None else pytest.approx(value, rel=1e-9, abs=1e-9)


def snapshot_of_rollups():
    return sorted(
        DailyRollup.objects.values_list(
            "metric", "day", "dimension", "value", "numerator", "denominator", "samples"
        )
    )


@pytest.fixture
def rolled(world):
    rollup_days(start=ROLLED[0], end=ROLLED[1])
    return list(DailyRollup.objects.all())


@pytest.mark.parametrize("period", list(PERIODS))
def test_city_values_from_rollups_equal_the_direct_computation(rolled, period):
    start, end = PERIODS[period]
    from_rollups = values_from_rollups(rolled, start=start, end=end)
    assert set(from_rollups) == {metric.key for metric in METRICS}
    for metric in METRICS:
        direct = compute_direct(metric, start, end).get("")  # {} when there is no data at all
        assert from_rollups[metric.key] == same(direct), metric.key


@pytest.mark.parametrize("period", list(PERIODS))
def test_breakdowns_from_rollups_equal_the_direct_computation(rolled, period):
    start, end = PERIODS[period]
    for metric in METRICS:
        # Like the dashboard, pass the metric's own rows (breakdown_from_rollups does not filter).
        own = [rollup for rollup in rolled if rollup.metric == metric.key]
        for dimension in metric.dimensions:
            from_rollups = breakdown_from_rollups(
                metric, own, dimension=dimension, start=start, end=end
            )
            direct = compute_direct(metric, start, end, dimension=dimension)
            assert from_rollups == {value: same(v) for value, v in direct.items()}, (
                metric.key,
                dimension,
            )


def test_the_june_numbers_survive_the_rollups(rolled):
    """A few of test_metrics' hand-computed numbers, read back from the roll-ups."""
    values = values_from_rollups(rolled, start=date(2026, 6, 1), end=date(2026, 6, 30))
    assert values["requests_received"] == 13
    assert values["median_days_to_close"] == 8.5
    assert values["p90_days_to_close"] == 20.0
    assert values["open_backlog"] == 9
    assert values["fee_revenue"] == pytest.approx(385.75)
    assert values["alert_subscribers"] == 4
    assert values["minutes_to_deliver"] == 4.0


def test_weekly_series_matches_direct_weeks(rolled):
    for key in ("requests_received", "median_days_to_close", "open_backlog", "delivery_success"):
        metric = REGISTRY[key]
        series = weekly_series(metric, rolled, start=date(2026, 6, 1), end=date(2026, 6, 28))
        assert [week for week, _value in series] == [date(2026, 6, d) for d in (1, 8, 15, 22)]
        for week, value in series:
            direct = compute_direct(metric, week, week + timedelta(days=6)).get("")
            assert value == same(direct), (key, week)


def test_rolling_up_twice_changes_nothing(rolled):
    before = snapshot_of_rollups()
    assert before
    written = rollup_days(start=ROLLED[0], end=ROLLED[1])
    assert written == len(before)
    assert snapshot_of_rollups() == before
    # An overlapping range rewrites its days and leaves the others alone.
    rollup_days(start=date(2026, 6, 10), end=date(2026, 6, 20))
    assert snapshot_of_rollups() == before


def test_rollups_follow_changes_to_the_raw_rows(rolled):
    """Re-rolling a range picks up corrections to the raw rows."""
    ServiceRequest.objects.filter(description="Request C1").update(closed_at=at((6, 25)))
    rollup_days(start=date(2026, 6, 1), end=date(2026, 6, 30))
    metric = REGISTRY["median_days_to_close"]
    rows = list(DailyRollup.objects.filter(metric=metric.key))
    june = (date(2026, 6, 1), date(2026, 6, 30))
    # C1 now took 6/2 -> 6/25 = 23 days: [1, 2, 3->23 ...] sorted
    # [1, 2, 5, 7, 10, 11, 20, 20, 22, 23] -> (10 + 11) / 2 = 10.5.
    assert values_from_rollups(rows, start=june[0], end=june[1])[metric.key] == 10.5
    assert compute_direct(metric, *june) == {"": 10.5}
    # Pothole [2, 5, 10, 20, 22, 23] -> (10 + 20) / 2 = 15.
    assert breakdown_from_rollups(
        metric, rows, dimension="category", start=june[0], end=june[1]
    ) == {"graffiti": 9.0, "pothole": 15.0}


def test_backfill_command_runs_and_is_idempotent(db):
    today = timezone.localdate()
    category = make_category("pothole")
    for days_ago, closed_after in [(3, 1), (10, None), (20, 5), (35, 2)]:
        created = at(today - timedelta(days=days_ago))
        ServiceRequest.objects.create(
            category=category,
            description="Backfilled",
            created_at=created,
            closed_at=None if closed_after is None else created + timedelta(days=closed_after),
            status=RequestStatus.NEW if closed_after is None else RequestStatus.CLOSED,
        )
    out = StringIO()
    call_command("kpis_backfill", "--days", "40", stdout=out)
    assert "Rolled up 41 days" in out.getvalue()
    first = snapshot_of_rollups()
    days = DailyRollup.objects.values_list("day", flat=True)
    assert min(days) == today - timedelta(days=40)
    assert max(days) == today
    call_command("kpis_backfill", "--days", "40", stdout=StringIO())
    assert snapshot_of_rollups() == first
    rows = list(DailyRollup.objects.all())
    start = today - timedelta(days=40)
    values = values_from_rollups(rows, start=start, end=today)
    # Created in the window: all 4; closed in it: 3 (the 35-days-ago one closed 33 days ago).
    assert values["requests_received"] == 4
    assert values["requests_closed"] == 3
    for metric in METRICS:
        assert values[metric.key] == same(compute_direct(metric, start, today).get("")), metric.key
