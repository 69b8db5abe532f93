"""Weekly demand forecasts: Holt-Winters against the seasonal-naive baseline, honestly reported."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from django.utils import timezone

from cityhall.roles import Role
from code_enforcement.constants import RequestStatus
from code_enforcement.models import ServiceCategory, ServiceRequest
from code_enforcement.tests.factories import make_category
from kpis.forecast import (
    HORIZON,
    MIN_WEEKS,
    SEASON,
    forecast_series,
    holt_winters,
    resource_ranking,
    seasonal_naive,
    weekly_counts,
)
from tests.personas import make_staff, verified_client

from .world import at, make_neighborhood

WEEKS = 156  # three years


def seasonal_series(seed: int = 7) -> list[float]:
    """Three years of weekly requests: a level of 60, a trend of +0.15 a week, a yearly
    sine season of amplitude 20 and small noise (sd 1.5)."""
    rng = random.Random(seed)
    return [
        60 + 0.15 * t + 20 * math.sin(2 * math.pi * t / SEASON) + rng.gauss(0, 1.5)
        for t in range(WEEKS)
    ]


def random_walk(seed: int = 3, length: int = WEEKS) -> list[float]:
    rng = random.Random(seed)
    value, series = 20.0, []
    for _ in range(length):
        value = max(1.0, value + rng.choice([-2, -1, 0, 1, 2]))
        series.append(value)
    return series


def naive_mae_by_hand(series: list[float]) -> float:
    """The baseline's error on the last 8 weeks: each week against the same week a year before."""
    train, test = series[:-HORIZON], series[-HORIZON:]
    return sum(abs(test[h] - train[len(train) - SEASON + h]) for h in range(HORIZON)) / HORIZON


# --- The model -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [7, 11, 2024])
def test_holt_winters_beats_the_baseline_on_a_seasonal_series_with_a_trend(seed):
    result = forecast_series("synthetic", seasonal_series(seed))
    assert result.enough_history
    assert isinstance(result.model_mae, float)
    assert isinstance(result.naive_mae, float)
    assert result.naive_mae == round(naive_mae_by_hand(seasonal_series(seed)), 2)
    assert result.model_mae < result.naive_mae
    assert result.beats_naive is True
    assert len(result.forecast) == HORIZON


def test_the_forecast_follows_the_noise_free_curve():
    """Trend and season both carried forward: the next 8 weeks stay close to the curve the
    noisy series was drawn from (the noise has sd 1.5)."""
    result = forecast_series("synthetic", seasonal_series())
    truth = [
        60 + 0.15 * t + 20 * math.sin(2 * math.pi * t / SEASON) for t in range(WEEKS, WEEKS + 8)
    ]
    error = sum(abs(f - t) for f, t in zip(result.forecast, truth, strict=True)) / HORIZON
    assert error < 2.5


@pytest.mark.parametrize(
    ("weeks", "base", "slope"),
    [(WEEKS, 10, 0.12), (WEEKS, 40, -0.12), (WEEKS - 6, 10, 0.12)],
    ids=["rising-156", "falling-156", "rising-150"],
)
def test_a_steady_trend_is_extrapolated(weeks, base, slope):
    """No season at all, a steady +-0.12 requests a week: the forecast carries the line on,
    whatever the length of the history (weekly_counts gives exactly 156 weeks, 3 x 52, for
    any mature category). Holt-Winters initialised without the first year's trend in its
    seasonal terms reproduces a line exactly; abs=1 leaves room for any sound variant."""
    line = [base + slope * week for week in range(weeks)]
    result = forecast_series("trend", line)
    expected = [base + slope * week for week in range(weeks, weeks + HORIZON)]
    assert result.forecast == pytest.approx(expected, abs=1.0)
    assert result.model_mae == pytest.approx(0, abs=1.0)
    assert (result.growth > 1) is (slope > 0)


@pytest.mark.parametrize(
    "series",
    [random_walk(3), random_walk(5), [12.0] * WEEKS],
    ids=["random-walk-3", "random-walk-5", "flat"],
)
def test_both_errors_are_reported_whichever_wins(series):
    result = forecast_series("hard", series)
    assert isinstance(result.model_mae, float)
    assert isinstance(result.naive_mae, float)
    assert result.model_mae >= 0
    assert result.naive_mae == round(naive_mae_by_hand(series), 2)
    assert result.beats_naive is (result.model_mae <= result.naive_mae)
    assert all(value >= 0 for value in result.forecast)


def test_a_flat_series_is_forecast_flat():
    result = forecast_series("flat", [12.0] * WEEKS)
    assert result.forecast == pytest.approx([12.0] * HORIZON)
    assert (result.model_mae, result.naive_mae) == (0.0, 0.0)
    assert result.growth == pytest.approx(1.0)


@pytest.mark.parametrize("length", [0, 10, SEASON, MIN_WEEKS, MIN_WEEKS + HORIZON - 1])
def test_too_short_a_history_gives_no_forecast(length):
    result = forecast_series("short", [5.0] * length)
    assert result.forecast is None
    assert not result.enough_history
    assert (result.model_mae, result.naive_mae, result.beats_naive) == (None, None, None)
    assert result.growth == 0.0


def test_just_enough_history():
    result = forecast_series("enough", seasonal_series()[: MIN_WEEKS + HORIZON])
    assert result.enough_history
    assert len(result.forecast) == HORIZON


def test_holt_winters_needs_two_seasons():
    with pytest.raises(ValueError, match="not enough history"):
        holt_winters([1.0] * (2 * SEASON - 1), horizon=HORIZON)


def test_seasonal_naive_repeats_last_year():
    series = [float(n) for n in range(2 * SEASON)]
    assert seasonal_naive(series, horizon=3) == [52.0, 53.0, 54.0]


# --- From the requests -----------------------------------------------------------------------------


def _monday_weeks_ago(weeks: int):
    today = timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(weeks=weeks)


def file_weekly(counts, *, category, neighborhood=None, open_last: int = 0) -> None:
    """counts[i] requests in the i-th of the last len(counts) full weeks (on its Wednesday).
    All are closed except the `open_last` most recent ones."""
    rows = []
    first = _monday_weeks_ago(len(counts))
    for week, count in enumerate(counts):
        created = at(first + timedelta(weeks=week, days=2))
        rows.extend(
            ServiceRequest(
                category=category,
                neighborhood=neighborhood,
                description="Weekly",
                created_at=created,
                closed_at=created + timedelta(days=1),
                status=RequestStatus.CLOSED,
            )
            for _ in range(int(count))
        )
    for row in rows[len(rows) - open_last :] if open_last else []:
        row.closed_at, row.status = None, RequestStatus.NEW
    ServiceRequest.objects.bulk_create(rows)


def category(code: str) -> ServiceCategory:
    return ServiceCategory.objects.filter(code=code).first() or make_category(code)


@pytest.mark.django_db
def test_weekly_counts_reads_back_the_weeks():
    walk = random_walk(3)
    file_weekly(walk, category=category("pothole"))
    # The current, unfinished week does not count.
    ServiceRequest.objects.create(
        category=category("pothole"), description="This week", created_at=timezone.now()
    )
    assert weekly_counts(group_by="category__code") == {"pothole": walk}
    assert weekly_counts(group_by=None) == {"all": walk}


@pytest.mark.django_db
def test_forecasts_page_reports_both_errors():
    walk = random_walk(5)
    seasonal = [round(max(v, 1)) for v in seasonal_series()]
    file_weekly(walk, category=category("graffiti"))
    file_weekly(seasonal, category=category("pothole"))
    manager = verified_client(make_staff(Role.MANAGER))
    response = manager.get("/kpis/forecasts/")
    assert response.status_code == 200
    by_category = {f.label: f for f in response.context["by_category"]}
    html = response.content.decode()
    for label, series in [("graffiti", walk), ("pothole", seasonal)]:
        expected = forecast_series(label, [float(v) for v in series])
        shown = by_category[label]
        assert (shown.model_mae, shown.naive_mae) == (expected.model_mae, expected.naive_mae)
        row = html.split(f'<th scope="row">{label}</th>')[1].split("</tr>")[0]
        assert f"<td>{shown.model_mae}</td>" in row
        assert f"<td>{shown.naive_mae} (" in row
        verdict = "(model better)" if shown.model_mae <= shown.naive_mae else "(baseline better)"
        assert verdict in row
    assert by_category["pothole"].beats_naive is True


@pytest.mark.django_db
def test_forecasts_page_without_enough_history():
    file_weekly([3, 4, 5, 4, 6, 5, 4, 3, 5, 6], category=category("pothole"))
    response = verified_client(make_staff(Role.MANAGER)).get("/kpis/forecasts/")
    assert response.status_code == 200
    (forecast,) = response.context["by_category"]
    assert forecast.forecast is None
    assert response.context["ranking"] == []
    html = response.content.decode()
    assert "Not enough history for a forecast (two years are needed)." in html
    assert "Not enough history yet." in html


@pytest.mark.django_db
def test_forecasts_page_with_no_requests_at_all():
    response = verified_client(make_staff(Role.MANAGER)).get("/kpis/forecasts/")
    assert response.status_code == 200
    assert "No requests yet." in response.content.decode()


# --- Where resources will be needed ----------------------------------------------------------------


def growing():
    return [2 + round(6 * week / (WEEKS - 1)) for week in range(WEEKS)]  # 2 -> 8 a week


def shrinking():
    return list(reversed(growing()))  # 8 -> 2 a week


@pytest.mark.django_db
def test_resource_ranking_puts_growing_demand_with_a_backlog_first():
    north, south = make_neighborhood("north"), make_neighborhood("south")
    file_weekly(shrinking(), category=category("graffiti"), neighborhood=south)
    file_weekly(growing(), category=category("pothole"), neighborhood=north, open_last=30)
    file_weekly([4] * 20, category=category("pothole"), neighborhood=south)  # too short
    ranking = resource_ranking()
    assert [f.label for f in ranking] == [
        "pothole · north",
        "graffiti · south",
        "pothole · south",
    ]
    rising, falling, short = ranking
    assert (rising.backlog, falling.backlog) == (30, 0)
    assert not short.enough_history


@pytest.mark.django_db
def test_resource_ranking_counts_the_backlog_of_requests_without_a_neighborhood():
    """Requests outside every neighborhood are one pair ("—"); their open ones are its backlog."""
    file_weekly(growing(), category=category("pothole"), neighborhood=None, open_last=12)
    (pair,) = resource_ranking()
    assert pair.label == "pothole · —"
    assert pair.backlog == 12


@pytest.mark.django_db
def test_forecasts_page_ranks_the_pairs():
    north, south = make_neighborhood("north"), make_neighborhood("south")
    file_weekly(shrinking(), category=category("graffiti"), neighborhood=south)
    file_weekly(growing(), category=category("pothole"), neighborhood=north, open_last=30)
    response = verified_client(make_staff(Role.MANAGER)).get("/kpis/forecasts/")
    assert [f.label for f in response.context["ranking"]] == ["pothole · north", "graffiti · south"]
    html = response.content.decode()
    assert html.index("pothole · north") < html.index("graffiti · south")
    assert "<td>30</td>" in html
