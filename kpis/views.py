"""The manager dashboard (staff, verified second factor) and the public performance page.

Both read the daily roll-ups only, with a fixed number of queries whatever the data size.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from cityhall.csvsafe import SafeWriter
from cityhall.dbrouter import from_replica
from cityhall.pagecache import public_page

from . import forecast as forecasting
from .metrics import METRICS, REGISTRY
from .models import DailyRollup, PerformanceSettings, Target
from .periods import CHOICES, PeriodError, default_period, parse_period
from .rollups import (
    breakdown_from_rollups,
    numbers_generation,
    values_from_rollups,
    weekly_series,
)

TREND_WEEKS = 26


def _require_dashboard(request: HttpRequest) -> None:
    # The middleware already demands a verified staff session for /kpis/; this is the role.
    user = request.user
    if not (
        user.is_authenticated
        and user.is_staff
        and user.is_verified()
        and user.has_perm("kpis.view_dashboard")
    ):
        raise PermissionDenied


def _period(request: HttpRequest):
    try:
        return parse_period(request.GET)
    except PeriodError as error:
        messages.error(request, f"{error} " + _("Showing the last 30 days instead."))
        return default_period()


def _on_track(metric, value, target) -> bool | None:
    if value is None or target is None or metric.direction == "none":
        return None
    return value >= target if metric.direction == "up" else value <= target


def _change(value, previous) -> float | None:
    if value is None or previous is None:
        return None
    return value - previous


def _scorecards(period, numbers, targets):
    current, previous = numbers["current"], numbers["previous"]
    cards = []
    for metric in METRICS:
        value = current[metric.key]
        target = targets.get(metric.key)
        cards.append(
            {
                "metric": metric,
                "value": value,
                "previous": previous[metric.key],
                "change": _change(value, previous[metric.key]),
                "target": target,
                "on_track": _on_track(metric, value, target),
            }
        )
    return cards


def _numbers(period, metric) -> dict:
    """The dashboard's numbers for a period and a metric, computed from the roll-ups once per
    roll-up run (the hourly job moves the generation) and then read from Redis: a year of
    roll-ups holds tens of thousands of sample lists, decoded once, not on every view."""
    generation = numbers_generation()
    key = f"kpis:numbers:{generation}:{metric.key}:{period.start}:{period.end}"
    numbers = cache.get(key)
    if numbers is not None:
        return numbers
    trend_start = min(period.previous.start, period.end - timedelta(weeks=TREND_WEEKS))
    with from_replica():
        city_rows = list(
            DailyRollup.objects.filter(dimension="", day__range=(trend_start, period.end)).only(
                "metric", "day", "dimension", "value", "numerator", "denominator", "samples"
            )
        )
        detail_rows = list(
            DailyRollup.objects.filter(
                metric=metric.key, day__range=(period.start, period.end)
            ).exclude(dimension="")
        )
    numbers = {
        "current": values_from_rollups(city_rows, start=period.start, end=period.end),
        "previous": values_from_rollups(
            city_rows, start=period.previous.start, end=period.previous.end
        ),
        "trend": weekly_series(
            metric, city_rows, start=period.end - timedelta(weeks=TREND_WEEKS), end=period.end
        ),
        "breakdowns": {
            dimension: breakdown_from_rollups(
                metric, detail_rows, dimension=dimension, start=period.start, end=period.end
            )
            for dimension in metric.dimensions
        },
    }
    cache.set(key, numbers, timeout=settings.KPI_NUMBERS_SECONDS)
    return numbers


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    _require_dashboard(request)
    period = _period(request)
    metric = REGISTRY.get(request.GET.get("metric", ""), METRICS[0])
    numbers = _numbers(period, metric)
    all_targets = list(Target.objects.filter(metric__in=[m.key for m in METRICS]))
    targets = {t.metric: t.target for t in all_targets if t.dimension == ""}
    value_targets = {
        (t.dimension, t.value): t.target
        for t in all_targets
        if t.metric == metric.key and t.dimension
    }
    trend = numbers["trend"]
    breakdowns = [
        {
            "dimension": dimension,
            "targets": {
                value: target for (dim, value), target in value_targets.items() if dim == dimension
            },
            "rows": numbers["breakdowns"][dimension],
        }
        for dimension in metric.dimensions
    ]
    return render(
        request,
        "kpis/dashboard.html",
        {
            "period": period,
            "choices": CHOICES,
            "cards": _scorecards(period, numbers, targets),
            "metric": metric,
            "trend": trend,
            "trend_max": max((v for _w, v in trend if v), default=0) or 1,
            "breakdowns": breakdowns,
            "query": request.GET.urlencode(),
        },
    )


@require_safe
def export_csv(request: HttpRequest, key: str) -> HttpResponse:
    """Every chart's data: the weekly trend and each breakdown of one metric."""
    _require_dashboard(request)
    metric = REGISTRY.get(key)
    if metric is None:
        raise Http404
    period = _period(request)
    start = period.end - timedelta(weeks=TREND_WEEKS)
    with from_replica():
        rows = list(
            DailyRollup.objects.filter(
                metric=metric.key, day__range=(min(start, period.start), period.end)
            )
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{metric.key}-{period.start}-{period.end}.csv"'
    )
    writer = SafeWriter(response)
    writer.writerow(["metric", "unit", "series", "label", "value"])
    for week, value in weekly_series(metric, rows, start=start, end=period.end):
        writer.writerow(
            [
                metric.key,
                metric.unit,
                "week",
                week.isoformat(),
                "" if value is None else round(value, 2),
            ]
        )
    for dimension in metric.dimensions:
        for label, value in breakdown_from_rollups(
            metric, rows, dimension=dimension, start=period.start, end=period.end
        ).items():
            writer.writerow(
                [
                    metric.key,
                    metric.unit,
                    dimension,
                    label,
                    "" if value is None else round(value, 2),
                ]
            )
    return response


@require_safe
def forecasts(request: HttpRequest) -> HttpResponse:
    _require_dashboard(request)
    by_category = [
        forecasting.forecast_series(label, series)
        for label, series in sorted(forecasting.weekly_counts(group_by="category__code").items())
    ]
    ranking = [f for f in forecasting.resource_ranking() if f.enough_history][:15]
    today = timezone.localdate()
    next_monday = today + timedelta(days=7 - today.weekday())
    weeks = [next_monday + timedelta(weeks=n) for n in range(forecasting.HORIZON)]
    return render(
        request,
        "kpis/forecasts.html",
        {"by_category": by_category, "ranking": ranking, "weeks": weeks},
    )


@public_page
@require_safe
def performance(request: HttpRequest) -> HttpResponse:
    """Public: the metrics the city chose to publish, last 90 days against the 90 before."""
    period = parse_period({"period": "quarter"})
    chosen = [
        REGISTRY[key] for key in PerformanceSettings.current().public_metrics if key in REGISTRY
    ]
    with from_replica():
        rows = list(
            DailyRollup.objects.filter(
                metric__in=[m.key for m in chosen],
                dimension="",
                day__range=(period.previous.start, period.end),
            )
        )
    current = values_from_rollups(rows, start=period.start, end=period.end)
    previous = values_from_rollups(rows, start=period.previous.start, end=period.previous.end)
    items = [{"metric": m, "value": current[m.key], "previous": previous[m.key]} for m in chosen]
    return render(request, "kpis/performance.html", {"items": items, "period": period})
