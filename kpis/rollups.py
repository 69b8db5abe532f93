"""Daily roll-ups: computed from the raw tables by beat, read by the dashboards."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from cityhall.pagecache import invalidate_public_pages

from .metrics import METRICS, REGISTRY, Metric, Row, combine
from .models import DailyRollup, RollupSeal


def sealed_through() -> date | None:
    return RollupSeal.objects.filter(pk=1).values_list("through", flat=True).first()


@transaction.atomic
def rollup_days(*, start: date, end: date, metrics: list[Metric] | None = None) -> int:
    """Recompute the roll-ups of every day from start to end (inclusive). Safe to repeat.
    Days the retention schedule sealed (see `seal`) are skipped: some of their records are
    gone, so their roll-ups stay as they were computed before."""
    sealed = sealed_through()
    if sealed is not None and start <= sealed:
        start = sealed + timedelta(days=1)
    if start > end:
        return 0
    written = 0
    for metric in metrics or METRICS:
        DailyRollup.objects.filter(metric=metric.key, day__range=(start, end)).delete()
        rows = [
            DailyRollup(
                metric=metric.key,
                day=row.day,
                dimension=row.dimension,
                value=row.value[:120],
                numerator=row.numerator,
                denominator=row.denominator,
                samples=row.samples,
            )
            for row in metric.rows(start, end)
        ]
        DailyRollup.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)
    # What was computed from the old roll-ups is stale once these are committed: the
    # dashboard's numbers and the public performance page.
    transaction.on_commit(_numbers_changed, robust=True)
    transaction.on_commit(invalidate_public_pages, robust=True)
    return written


def seal(through: date) -> None:
    """Before disposal (cityhall.records calls this): the roll-ups of every day up to
    `through` are brought up to date from the records as they still are, then sealed."""
    with transaction.atomic():
        seal_row = RollupSeal.objects.select_for_update().get_or_create(pk=1)[0]
        if seal_row.through is not None and seal_row.through >= through:
            return
        # Days since the last seal (normally one) are computed first; before the first seal,
        # beat has computed every day already (kpis_backfill fills an imported history).
        if seal_row.through is not None:
            chunk = seal_row.through + timedelta(days=1)
            while chunk <= through:
                chunk_end = min(chunk + timedelta(days=30), through)
                rollup_days(start=chunk, end=chunk_end)
                chunk = chunk_end + timedelta(days=1)
        seal_row.through = through
        seal_row.save()


NUMBERS_GENERATION = "kpis:numbers:generation"


def numbers_generation() -> int:
    return cache.get_or_set(NUMBERS_GENERATION, 1, timeout=None)


def _numbers_changed() -> None:
    if not cache.add(NUMBERS_GENERATION, 1, timeout=None):
        cache.incr(NUMBERS_GENERATION)


def rollup_today() -> int:
    today = timezone.localdate()
    return rollup_days(start=today, end=today)


def rollup_yesterday() -> int:
    yesterday = timezone.localdate() - timedelta(days=1)
    return rollup_days(start=yesterday, end=yesterday)


def as_row(rollup: DailyRollup) -> Row:
    return Row(
        rollup.day,
        rollup.dimension,
        rollup.value,
        rollup.numerator,
        rollup.denominator,
        rollup.samples,
    )


def values_from_rollups(
    rollups: list[DailyRollup], *, start: date, end: date
) -> dict[str, float | None]:
    """{metric key: value} for the whole city over a period, from already-fetched rows."""
    by_metric: dict[str, list[Row]] = defaultdict(list)
    for rollup in rollups:
        if start <= rollup.day <= end and rollup.dimension == "":
            by_metric[rollup.metric].append(as_row(rollup))
    return {key: combine(REGISTRY[key], by_metric.get(key, [])) for key in REGISTRY}


def breakdown_from_rollups(
    metric: Metric, rollups: list[DailyRollup], *, dimension: str, start: date, end: date
) -> dict[str, float | None]:
    by_value: dict[str, list[Row]] = defaultdict(list)
    for rollup in rollups:
        if rollup.dimension == dimension and start <= rollup.day <= end:
            by_value[rollup.value].append(as_row(rollup))
    return {value: combine(metric, rows) for value, rows in sorted(by_value.items())}


def weekly_series(
    metric: Metric, rollups: list[DailyRollup], *, start: date, end: date
) -> list[tuple[date, float | None]]:
    """The metric week by week (weeks start on Monday), from the city-wide rows."""
    weeks: dict[date, list[Row]] = defaultdict(list)
    for rollup in rollups:
        if rollup.dimension == "" and rollup.metric == metric.key and start <= rollup.day <= end:
            weeks[rollup.day - timedelta(days=rollup.day.weekday())].append(as_row(rollup))
    first = start - timedelta(days=start.weekday())
    series, week = [], first
    while week <= end:
        series.append((week, combine(metric, weeks.get(week, []))))
        week += timedelta(days=7)
    return series
