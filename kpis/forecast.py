"""Weekly demand forecasts: Holt-Winters (additive, yearly season of 52 weeks) with a
backtest against the seasonal-naive baseline, reported honestly whichever wins."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from code_enforcement.constants import RequestStatus
from code_enforcement.models import ServiceRequest

SEASON = 52
HORIZON = 8
MIN_WEEKS = 2 * SEASON  # two full years: one to learn the season, one to check it


@dataclass
class Forecast:
    label: str
    history: list[float]
    forecast: list[float] | None  # None: not enough history
    model_mae: float | None
    naive_mae: float | None
    backlog: int = 0

    @property
    def enough_history(self) -> bool:
        return self.forecast is not None

    @property
    def beats_naive(self) -> bool | None:
        if self.model_mae is None or self.naive_mae is None:
            return None
        return self.model_mae <= self.naive_mae

    @property
    def growth(self) -> float:
        """Forecast weekly volume relative to the last 8 weeks (1.0 = the same)."""
        if not self.forecast or not self.history:
            return 0.0
        recent = sum(self.history[-HORIZON:]) / HORIZON
        ahead = sum(self.forecast) / len(self.forecast)
        return ahead / recent if recent else (ahead and 2.0)


def holt_winters(
    series: list[float], *, horizon: int, alpha=0.3, beta=0.05, gamma=0.2, season=SEASON
) -> list[float]:
    """Additive Holt-Winters; needs at least two seasons of data."""
    if len(series) < 2 * season:
        raise ValueError("not enough history")
    first, second = series[:season], series[season : 2 * season]
    mean_first = sum(first) / season
    trend = (sum(second) / season - mean_first) / season
    # The first season's mean sits at its middle week; take the trend out of the seasonal
    # terms, and start the level one step before week 0 so a straight line is followed exactly.
    middle = (season - 1) / 2
    seasonal = [value - (mean_first + (i - middle) * trend) for i, value in enumerate(first)]
    level = mean_first - (middle + 1) * trend
    for index, value in enumerate(series):
        s = seasonal[index % season]
        previous_level = level
        level = alpha * (value - s) + (1 - alpha) * (level + trend)
        trend = beta * (level - previous_level) + (1 - beta) * trend
        seasonal[index % season] = gamma * (value - level) + (1 - gamma) * s
    n = len(series)
    return [max(0.0, level + (h + 1) * trend + seasonal[(n + h) % season]) for h in range(horizon)]


def seasonal_naive(series: list[float], *, horizon: int, season=SEASON) -> list[float]:
    """The baseline: next weeks equal the same weeks a year earlier."""
    return [series[len(series) - season + h] for h in range(horizon)]


def _mae(actual: list[float], predicted: list[float]) -> float:
    return sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / len(actual)


def forecast_series(label: str, series: list[float]) -> Forecast:
    if len(series) < MIN_WEEKS + HORIZON:
        return Forecast(label, series, None, None, None)
    train, test = series[:-HORIZON], series[-HORIZON:]
    model_mae = _mae(test, holt_winters(train, horizon=HORIZON))
    naive_mae = _mae(test, seasonal_naive(train, horizon=HORIZON))
    return Forecast(
        label,
        series,
        holt_winters(series, horizon=HORIZON),
        round(model_mae, 2),
        round(naive_mae, 2),
    )


def weekly_counts(
    *, group_by: str | None, weeks: int = 156, today: date | None = None
) -> dict[str, list[float]]:
    """Requests received per full week (Monday start), oldest first, per category or neighborhood."""
    today = today or timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    start = this_monday - timedelta(weeks=weeks)
    keys = ["w"] + ([group_by] if group_by else [])
    rows = (
        ServiceRequest.objects.filter(created_at__date__gte=start, created_at__date__lt=this_monday)
        .annotate(w=TruncWeek("created_at"))
        .values(*keys)
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[str, dict[date, int]] = defaultdict(dict)
    first_seen: dict[str, date] = {}
    for row in rows:
        label = str(row[group_by]) if group_by else "all"
        week = row["w"].date() if hasattr(row["w"], "date") else row["w"]
        counts[label][week] = row["n"]
        first_seen[label] = min(first_seen.get(label, week), week)
    series = {}
    for label, by_week in counts.items():
        week, values = first_seen[label], []
        while week < this_monday:
            values.append(float(by_week.get(week, 0)))
            week += timedelta(weeks=1)
        series[label] = values
    return series


def resource_ranking(*, today: date | None = None) -> list[Forecast]:
    """Category and neighborhood pairs ranked by expected growth times today's open backlog."""
    today = today or timezone.localdate()
    backlog = {
        (row["category__code"], row["neighborhood__slug"] or "—"): row["n"]
        for row in ServiceRequest.objects.exclude(status=RequestStatus.CLOSED)
        .values("category__code", "neighborhood__slug")
        .annotate(n=Count("pk"))
    }
    ranking = []
    by_pair = _weekly_by_pair(today=today)
    for (category, neighborhood), series in by_pair.items():
        result = forecast_series(f"{category} · {neighborhood}", series)
        result.backlog = backlog.get((category, neighborhood), 0)
        ranking.append(result)
    ranking.sort(
        key=lambda f: (f.growth * (f.backlog + 1)) if f.enough_history else -1, reverse=True
    )
    return ranking


def _weekly_by_pair(*, today: date, weeks: int = 156) -> dict[tuple[str, str], list[float]]:
    this_monday = today - timedelta(days=today.weekday())
    start = this_monday - timedelta(weeks=weeks)
    rows = (
        ServiceRequest.objects.filter(created_at__date__gte=start, created_at__date__lt=this_monday)
        .annotate(w=TruncWeek("created_at"))
        .values("w", "category__code", "neighborhood__slug")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[tuple, dict[date, int]] = defaultdict(dict)
    for row in rows:
        week = row["w"].date() if hasattr(row["w"], "date") else row["w"]
        counts[(row["category__code"], row["neighborhood__slug"] or "—")][week] = row["n"]
    series = {}
    for pair, by_week in counts.items():
        week, values = min(by_week), []
        while week < this_monday:
            values.append(float(by_week.get(week, 0)))
            week += timedelta(weeks=1)
        series[pair] = values
    return series
