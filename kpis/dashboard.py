"""The dashboard's numbers for a period: every metric's value, the previous period's, the same
period a year earlier, bucket by bucket for the charts, and the chosen metric by dimension.

Computed from the daily roll-ups only, with three queries whatever the amount of data, then kept
in Redis until the next roll-up run (the hourly job moves `numbers_generation`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.conf import settings
from django.core.cache import cache

from cityhall.dbrouter import from_replica

from .charts import a_year_before, buckets, granularity
from .metrics import METRICS, Metric, Row, basis, combine
from .models import DailyRollup
from .periods import Period
from .rollups import as_row, numbers_generation

FIELDS = (
    "metric",
    "day",
    "dimension",
    "value",
    "numerator",
    "denominator",
    "samples",
    "computed_at",
)


def last_year(period: Period) -> Period:
    return Period(period.key, a_year_before(period.start), a_year_before(period.end))


def _spans(period: Period, grain: str) -> list[tuple[date, date]]:
    return buckets(period.start, period.end, grain)


def _index(spans) -> dict[date, int]:
    index = {}
    for i, (first, last) in enumerate(spans):
        day = first
        while day <= last:
            index[day] = i
            day = date.fromordinal(day.toordinal() + 1)
    return index


def _aligned(values: list[float | None], count: int) -> list[float | None]:
    """A comparison bucket by bucket against this period's `count` buckets (a month before may
    have a day more or less)."""
    return (values + [None] * count)[:count]


def _by_span(metric: Metric, rows: list[Row], spans) -> list[float | None]:
    index = _index(spans)
    grouped: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        if row.day in index:
            grouped[index[row.day]].append(row)
    return [combine(metric, grouped.get(i, [])) for i in range(len(spans))]


def _summary(metric: Metric, rows: list[Row], period: Period) -> dict:
    inside = [row for row in rows if period.start <= row.day <= period.end]
    records, above = basis(metric, inside)
    return {"value": combine(metric, inside), "basis": records, "numerator": above}


def compute(period: Period, detail: Metric | None) -> dict:
    """Plain data (cached as it is): {"grain", "spans", "metrics": {key: {...}}, "breakdowns"}."""
    grain = granularity(period.start, period.end)
    before, year_ago = period.previous, last_year(period)
    with from_replica():
        near = list(
            DailyRollup.objects.filter(dimension="", day__range=(before.start, period.end)).only(
                *FIELDS
            )
        )
        far = list(
            DailyRollup.objects.filter(
                dimension="", day__range=(year_ago.start, year_ago.end)
            ).only(*FIELDS)
        )
        detail_rows = (
            list(
                DailyRollup.objects.filter(
                    metric=detail.key, day__range=(period.start, period.end)
                ).exclude(dimension="")
            )
            if detail
            else []
        )
    city: dict[str, list[Row]] = defaultdict(list)
    for rollup in near:
        city[rollup.metric].append(as_row(rollup))
    city_last_year: dict[str, list[Row]] = defaultdict(list)
    for rollup in far:
        city_last_year[rollup.metric].append(as_row(rollup))

    spans = _spans(period, grain)
    numbers = {}
    for metric in METRICS:
        rows, old = city[metric.key], city_last_year[metric.key]
        numbers[metric.key] = {
            **_summary(metric, rows, period),
            "previous": _summary(metric, rows, before)["value"],
            "last_year": _summary(metric, old, year_ago)["value"],
            "series": {
                "current": _by_span(metric, rows, spans),
                "previous": _aligned(_by_span(metric, rows, _spans(before, grain)), len(spans)),
                "last_year": _aligned(_by_span(metric, old, _spans(year_ago, grain)), len(spans)),
            },
        }
    return {
        "computed_at": max((rollup.computed_at for rollup in near), default=None),
        # The periods compared with, as dates in text (kept with a monthly report as it was).
        "compared": {
            "previous": [before.start.isoformat(), before.end.isoformat()],
            "last_year": [year_ago.start.isoformat(), year_ago.end.isoformat()],
        },
        "grain": grain,
        "spans": spans,
        "metrics": numbers,
        "breakdowns": _breakdowns(detail, detail_rows, period, spans) if detail else {},
    }


def _breakdowns(metric: Metric, rollups, period: Period, spans) -> dict[str, list[dict]]:
    """{dimension: [{code, number, basis, numerator, series}]}, the largest number first."""
    grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for rollup in rollups:
        grouped[(rollup.dimension, rollup.value)].append(as_row(rollup))
    result: dict[str, list[dict]] = {dimension: [] for dimension in metric.dimensions}
    for (dimension, code), rows in grouped.items():
        if dimension in result:
            summary = _summary(metric, rows, period)
            result[dimension].append(
                {
                    "code": code,
                    "number": summary["value"],
                    "basis": summary["basis"],
                    "numerator": summary["numerator"],
                    "series": _by_span(metric, rows, spans),
                }
            )
    for items in result.values():
        items.sort(key=lambda item: (item["number"] is None, -(item["number"] or 0), item["code"]))
    return result


def numbers(period: Period, detail: Metric | None) -> dict:
    """`compute`, read from Redis when this roll-up run already computed it."""
    key = (
        f"kpis:dashboard:{numbers_generation()}:{detail.key if detail else '-'}:"
        f"{period.start}:{period.end}"
    )
    found = cache.get(key)
    if found is not None:
        return found
    found = compute(period, detail)
    cache.set(key, found, timeout=settings.KPI_NUMBERS_SECONDS)
    return found
