"""Charts, scales, scorecard status and trends: the positions and words the dashboard, the
printable report and the monthly email are drawn from (kpis/charts.py, formatting.py,
scorecards.py). Pure functions: no database."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from kpis import charts
from kpis.formatting import show, show_change
from kpis.metrics import REGISTRY
from kpis.scorecards import AT_RISK_TOLERANCE, status_of, trend

MINUS = "\u2212"

# One metric of each shape the charts distinguish.
COUNT = REGISTRY["requests_closed"]  # count, up: bars
SHARE = REGISTRY["closed_within_sla"]  # percent ratio, up: a line
DAYS = REGISTRY["median_days_to_close"]  # days median, down: a line
BACKLOG = REGISTRY["open_backlog"]  # snapshot_count: bars
REVENUE = REGISTRY["fee_revenue"]  # dollars sum: bars
RECEIVED = REGISTRY["requests_received"]  # count, direction "none"

WEEK = charts.buckets(date(2026, 6, 1), date(2026, 6, 7))


def contiguous(spans) -> bool:
    """Each span starts the day after the one before ends."""
    return all(b[0] == a[1] + timedelta(days=1) for a, b in itertools.pairwise(spans))


# --- Buckets -------------------------------------------------------------------------------------


def test_seven_days_are_seven_daily_buckets():
    start, end = date(2026, 6, 1), date(2026, 6, 7)
    assert charts.granularity(start, end) == "day"
    spans = charts.buckets(start, end)
    assert spans == [(start + timedelta(days=n),) * 2 for n in range(7)]


def test_a_month_is_still_day_by_day_and_32_days_are_weeks():
    assert charts.granularity(date(2026, 5, 1), date(2026, 5, 31)) == "day"
    assert len(charts.buckets(date(2026, 5, 1), date(2026, 5, 31))) == 31
    assert charts.granularity(date(2026, 5, 1), date(2026, 6, 1)) == "week"


def test_ninety_days_are_thirteen_spans_of_seven_days_the_last_one_short():
    end = date(2026, 6, 30)
    start = end - timedelta(days=89)
    assert charts.granularity(start, end) == "week"
    spans = charts.buckets(start, end)
    # 90 = 12 x 7 + 6.
    assert len(spans) == 13
    assert spans[0] == (start, start + timedelta(days=6))
    assert all((last - first).days == 6 for first, last in spans[:-1])
    assert spans[-1] == (end - timedelta(days=5), end)
    assert contiguous(spans)


def test_a_year_is_calendar_months_clipped_to_the_period():
    start, end = date(2025, 6, 16), date(2026, 6, 15)
    assert (end - start).days + 1 == 365
    assert charts.granularity(start, end) == "month"
    spans = charts.buckets(start, end)
    # Half of June 2025, July 2025 to May 2026 whole, half of June 2026.
    assert len(spans) == 13
    assert spans[0] == (date(2025, 6, 16), date(2025, 6, 30))
    assert spans[1] == (date(2025, 7, 1), date(2025, 7, 31))
    assert (date(2026, 2, 1), date(2026, 2, 28)) in spans
    assert spans[-1] == (date(2026, 6, 1), date(2026, 6, 15))
    assert contiguous(spans)


def test_the_same_day_a_year_before():
    assert charts.a_year_before(date(2026, 6, 15)) == date(2025, 6, 15)
    assert charts.a_year_before(date(2028, 2, 29)) == date(2027, 2, 28)
    assert charts.a_year_before(date(2028, 3, 1)) == date(2027, 3, 1)


def test_bucket_labels_and_names():
    assert charts.bucket_label(date(2026, 6, 1), "day") == "Jun 1"
    assert charts.bucket_label(date(2026, 6, 1), "month") == "Jun 2026"
    assert charts.bucket_name(date(2026, 6, 3), date(2026, 6, 3), "day") == "June 3, 2026"
    assert charts.bucket_name(date(2026, 6, 1), date(2026, 6, 30), "month") == "June 2026"
    # A clipped month is named by its days, not as the whole month.
    assert (
        charts.bucket_name(date(2026, 6, 1), date(2026, 6, 15), "month")
        == "June 1, 2026 to June 15, 2026"
    )
    assert (
        charts.bucket_name(date(2026, 6, 1), date(2026, 6, 7), "week")
        == "June 1, 2026 to June 7, 2026"
    )


# --- Scales --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("span", "count", "step"), [(100, 4, 25), (7, 4, 2), (0.9, 4, 0.25)])
def test_nice_steps(span, count, step):
    assert charts.nice_step(span, count) == pytest.approx(step)


@pytest.mark.parametrize("unit", ["count", "percent", "days", "dollars"])
@pytest.mark.parametrize("from_zero", [True, False])
def test_no_data_is_a_plain_axis_with_whole_gridlines(unit, from_zero):
    """Nothing to draw (or only zeros): 0 to 100 % for shares, 0 to 4 otherwise, gridlines on
    whole numbers, never "0.2 %" for a line at 0.25."""
    expected = (0, 100, 25) if unit == "percent" else (0, 4, 1)
    for values in ([None, None, None], [], [0, None], [0.0]):
        assert charts.y_scale(values, unit, 4, from_zero=from_zero) == expected, values


@pytest.mark.parametrize("top", [100.0, 99.9, 97.0, 91.0, 81.0, 61.0, 33.3, 0.5])
@pytest.mark.parametrize("ticks", [2, 4])
def test_a_share_never_goes_past_100(top, ticks):
    bottom, axis_top, step = charts.y_scale([top / 2, top, None], "percent", ticks)
    assert bottom == 0
    assert top <= axis_top <= 100
    assert 100 / step == pytest.approx(round(100 / step))  # gridlines land on round shares


@pytest.mark.parametrize("values", [[91.0, 96.0], [99.0, 99.5], [60.0, 100.0], [97.0]])
def test_a_share_in_a_narrow_band_never_goes_past_100_either(values):
    bottom, axis_top, _step = charts.y_scale(values, "percent", 4, from_zero=False)
    assert 0 <= bottom <= min(values)
    assert max(values) <= axis_top <= 100


def test_a_full_share_is_drawn_up_to_100_exactly():
    assert charts.y_scale([100.0], "percent", 4) == (0, 100, 25)
    assert charts.y_scale([40.0, 96.5], "percent", 4)[1] == 100


@pytest.mark.parametrize("unit", ["count", "dollars"])
@pytest.mark.parametrize(
    "values", [[1], [2], [3], [0, 1, 2], [7], [9], [4, 10], [13], [90, 100], [950]]
)
@pytest.mark.parametrize("ticks", [2, 4])
def test_counts_step_by_whole_numbers(unit, values, ticks):
    bottom, axis_top, step = charts.y_scale(values, unit, ticks)
    assert bottom == 0
    assert step >= 1 and step == int(step)
    assert axis_top >= max(values)
    gridlines = charts._ticks(bottom, axis_top, step)
    assert all(tick == int(tick) for tick in gridlines)
    assert gridlines[0] == 0 and gridlines[-1] == axis_top


@pytest.mark.parametrize("top", [3, 8, 9, 10, 17, 45])
def test_each_count_gridline_is_labelled_with_its_own_value(top):
    """Never gridlines at 2.5 and 7.5 labelled "2" and "7": a gridline says where it is."""
    chart = charts.build("c", COUNT, WEEK, {"current": [1, 2, top, 1, 1, 1, 1]}, title="T")
    plot = chart.bottom - chart.top
    axis_top = int(chart.y_ticks[-1][1])
    assert axis_top >= top
    for y, label in chart.y_ticks:
        # The gridline at height y stands for this many requests: its label must say so.
        assert axis_top * (chart.bottom - y) / plot == pytest.approx(int(label), abs=0.05)


def test_three_requests_are_not_drawn_in_quarters():
    assert charts.y_scale([3], "count", 4) == (0, 3, 1)
    # Days may be fractions.
    assert charts.y_scale([2], "days", 4) == (0, 2.0, 0.5)


def test_bars_start_at_zero_and_lines_may_start_higher():
    narrow = [91.0, 94.0, 96.0, 93.0]
    # Bars (and anything asked to start at zero) always do: their length is the value.
    assert charts.y_scale(narrow, "count", 4)[0] == 0
    bottom, axis_top, _step = charts.y_scale(narrow, "percent", 4, from_zero=False)
    assert 0 < bottom < 91 and 96 <= axis_top <= 100
    # Values spread from near zero keep the zero.
    assert charts.y_scale([10.0, 96.0], "percent", 4, from_zero=False)[0] == 0


# --- A chart -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "kind"),
    [(COUNT, "bar"), (BACKLOG, "bar"), (REVENUE, "bar"), (SHARE, "line"), (DAYS, "line")],
)
def test_bars_for_counts_and_sums_lines_for_the_rest(metric, kind):
    values = [4, 6, None, 2, 5, 3, 1]
    chart = charts.build("c", metric, WEEK, {"current": values}, title="T")
    assert chart.kind == kind
    (current,) = chart.series
    if kind == "bar":
        # One bar per bucket with data (none for the missing day), and no line.
        assert len(chart.bars) == 6
        assert current.points == "" and current.markers == []
        assert chart.description.startswith("Bar chart, day by day")
        assert chart.legend[0]["style"] == "bars"
    else:
        assert chart.bars == []
        assert len(current.markers) == 6
        assert len(current.points.split()) == 6
        assert chart.description.startswith("Line chart, day by day")
        assert chart.legend[0]["style"] == "solid line, circles"


def test_bars_stand_on_the_axis_and_name_their_bucket():
    chart = charts.build("c", COUNT, WEEK, {"current": [4, 0, 2, 8, 1, 1, 2]}, title="T")
    for x, y, width, height, _label in chart.bars:
        assert chart.left <= x and x + width <= chart.right
        assert y + height == pytest.approx(chart.bottom)
    tallest = max(chart.bars, key=lambda bar: bar[3])
    assert tallest[4] == "June 4, 2026: 8"
    assert tallest[1] == chart.top  # 8 is the top of the axis


def tick_numbers(chart) -> list[float]:
    """The y-axis labels as numbers ("25 %" -> 25.0), bottom to top."""
    return [float(label.rstrip(" %").replace(",", "")) for _y, label in chart.y_ticks]


def test_the_target_line_and_its_label():
    values = [40.0, 95.0, None, 30.0, 85.0, None, None]
    chart = charts.build("c", SHARE, WEEK, {"current": values}, title="T", target=90.0)
    y, text = chart.target
    assert text == "Target 90.0 %"
    assert chart.top < y < chart.bottom
    # The axis runs 0 to 100 % over 166 units from y=28: 90 % is a tenth of the way down.
    assert (chart.top, chart.bottom) == (28, 194)
    assert tick_numbers(chart) == [0, 25, 50, 75, 100]
    assert y == pytest.approx(28 + 166 * 0.1)
    label = chart.target_label
    assert label["text"] == "Target 90.0 %"
    assert chart.top <= label["y"] <= chart.bottom
    assert chart.legend[-1] == {"key": "target", "label": "Target", "style": "thick dashes"}


def test_a_target_on_a_line_that_does_not_start_at_zero():
    """Shares between 70 % and 95 %: the axis may start above zero; the target is still drawn
    where it belongs, and the description says the axis does not start at zero."""
    values = [80.0, 95.0, None, 70.0, 85.0, None, None]
    chart = charts.build("c", SHARE, WEEK, {"current": values}, title="T", target=90.0)
    y, text = chart.target
    assert text == "Target 90.0 %"
    assert chart.top < y < chart.bottom
    low, high = tick_numbers(chart)[0], tick_numbers(chart)[-1]
    assert 0 <= low <= 70 and 95 <= high <= 100
    expected = chart.bottom - (chart.bottom - chart.top) * (90 - low) / (high - low)
    assert y == pytest.approx(expected, abs=0.1)
    if low:
        assert f"The vertical axis starts at {low:.1f} %, not at zero." in chart.description
    # The points keep their order on the page: 95 % is highest, 70 % lowest.
    (current,) = chart.series
    heights = [py for _px, py in current.markers]
    assert min(heights) == heights[1] and max(heights) == heights[2]


def test_bars_always_start_at_zero():
    chart = charts.build("c", COUNT, WEEK, {"current": [91, 94, 96, 93, 95, 92, 94]}, title="T")
    assert tick_numbers(chart)[0] == 0
    assert "not at zero" not in chart.description


def test_a_target_above_the_data_raises_the_axis_to_show_it():
    chart = charts.build("c", COUNT, WEEK, {"current": [1, 2, 1, 3, 2, 1, 2]}, title="T", target=9)
    y, text = chart.target
    assert text == "Target 9"
    assert chart.top <= y < chart.bottom
    assert chart.y_ticks[-1][1] == "10"


def test_the_latest_value_is_the_last_one_with_data():
    values = [40.0, 95.0, None, 30.0, 85.0, None, None]
    chart = charts.build("c", SHARE, WEEK, {"current": values}, title="T", target=90.0)
    x, _y, text, anchor = chart.latest
    assert text == "85.0 %"
    (current,) = chart.series
    assert x > current.markers[-1][0]  # just right of the last point
    assert anchor == "start"
    assert "Latest value (June 5, 2026): 85.0 %." in chart.description
    assert "Lowest 30.0 %, highest 95.0 %." in chart.description
    assert "Target: 90.0 %." in chart.description


def test_a_chart_without_data_says_so():
    chart = charts.build("c", SHARE, WEEK, {"current": [None] * 7}, title="T")
    assert chart.latest is None
    assert "No data in this period." in chart.description
    assert "Latest value" not in chart.description
    assert "Target" not in chart.description
    assert [row["values"] for row in chart.rows] == [["No data"]] * 7
    assert tick_numbers(chart) == [0, 25, 50, 75, 100]  # a plain share axis, no made-up data


def test_comparisons_only_when_given():
    current = [3, 4, 5, 6, 5, 4, 3]
    alone = charts.build("c", COUNT, WEEK, {"current": current}, title="T")
    assert [s.key for s in alone.series] == ["current"]
    assert [e["key"] for e in alone.legend] == ["current"]
    assert "dashed" not in alone.description and "dotted" not in alone.description
    assert all(len(row["values"]) == 1 for row in alone.rows)

    both = charts.build(
        "c",
        COUNT,
        WEEK,
        {"current": current, "previous": [1] * 7, "last_year": [2, None, 2, 2, 2, 2, 2]},
        title="T",
    )
    assert [s.key for s in both.series] == ["current", "previous", "last_year"]
    assert {e["key"]: e["style"] for e in both.legend} == {
        "current": "bars",
        "previous": "dashed line, squares",
        "last_year": "dotted line, diamonds",
    }
    assert "A dashed line shows the previous period." in both.description
    assert "A dotted line shows the same period last year." in both.description
    # Comparisons are lines even on a bar chart; a missing day is a gap.
    assert len(both.series[1].markers) == 7
    assert len(both.series[2].markers) == 6
    assert both.rows[1] == {"name": "June 2, 2026", "values": ["4", "1", "No data"]}

    last_year_only = charts.build(
        "c", COUNT, WEEK, {"current": current, "last_year": [1] * 7}, title="T"
    )
    assert [s.key for s in last_year_only.series] == ["current", "last_year"]
    assert "dashed" not in last_year_only.description


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 6, 1), date(2026, 6, 7)),
        (date(2026, 4, 2), date(2026, 6, 30)),
        (date(2025, 6, 16), date(2026, 6, 15)),
    ],
)
def test_the_data_table_has_a_row_per_bucket(start, end):
    spans = charts.buckets(start, end)
    values = [float(n) for n in range(len(spans))]
    chart = charts.build("c", DAYS, spans, {"current": values, "previous": values}, title="T")
    assert len(chart.rows) == len(spans)
    assert chart.rows[0]["name"] == charts.bucket_name(*spans[0], charts.granularity(start, end))
    assert all(len(row["values"]) == 2 for row in chart.rows)
    assert len(chart.x_ticks) <= 5


def test_week_and_month_charts_describe_their_grain():
    quarter = charts.buckets(date(2026, 4, 2), date(2026, 6, 30))
    chart = charts.build("c", COUNT, quarter, {"current": [1] * 13}, title="T")
    assert chart.description.startswith("Bar chart, week by week from April 2, 2026")
    assert chart.rows[-1]["name"] == "June 25, 2026 to June 30, 2026"
    year = charts.buckets(date(2025, 6, 16), date(2026, 6, 15))
    chart = charts.build("c", COUNT, year, {"current": [1] * 13}, title="T")
    assert chart.description.startswith("Bar chart, month by month")
    assert chart.rows[1]["name"] == "July 2025"
    assert chart.x_ticks[0][1] == "Jun 2025"


def test_small_charts_have_two_y_ticks():
    values = [10.0, 95.0, None, 70.0, 85.0, 60.0, 75.0]
    small = charts.build("c", SHARE, WEEK, {"current": values}, title="T", small=True)
    assert small.small and (small.width, small.height) == (220, 130)
    assert len(small.y_ticks) == 2
    assert tick_numbers(small) == [0, 100]
    narrow = charts.build(
        "c", SHARE, WEEK, {"current": [91.0, 96.0] * 3 + [93.0]}, title="T", small=True
    )
    assert len(narrow.y_ticks) == 2
    assert len(small.x_ticks) == 2
    large = charts.build("c", SHARE, WEEK, {"current": values}, title="T")
    assert len(large.y_ticks) == 5


def test_small_multiples_share_a_scale():
    shared = (0.0, 40.0, 20.0)
    chart = charts.build(
        "c", COUNT, WEEK, {"current": [1] * 7}, title="T", small=True, scale=shared
    )
    assert [label for _y, label in chart.y_ticks] == ["0", "40"]
    # A bar of 1 on an axis of 40 is short.
    assert chart.bars[0][3] == pytest.approx((chart.bottom - chart.top) / 40, abs=0.1)


def test_a_chart_keeps_its_id_title_and_link():
    chart = charts.build(
        "chart-x", COUNT, WEEK, {"current": [1] * 7}, title="Potholes", link="/console/x/"
    )
    assert (chart.id, chart.title, chart.link) == ("chart-x", "Potholes", "/console/x/")
    assert chart.unit_label == "Number"


# --- Sparklines ----------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [[], [None], [5.0], [None, 5.0, None], [None, None]])
def test_no_sparkline_with_fewer_than_two_points(values):
    assert charts.sparkline(COUNT, values, title="T") is None


def test_a_sparkline_spans_its_box_and_says_what_it_shows():
    line = charts.sparkline(DAYS, [4.0, None, 2.0, 6.0], title="Median days")
    points = [tuple(map(float, p.split(","))) for p in line["points"].split()]
    assert len(points) == 3  # the missing value is skipped
    assert points[0][0] == 3 and points[-1][0] == 117  # first and last place, 3 from the edge
    assert min(y for _x, y in points) == 3 and max(y for _x, y in points) == 29
    assert line["last"] == points[-1]
    assert line["title"] == "Median days"
    assert line["description"] == "From 4.0 days to 6.0 days; lowest 2.0 days, highest 6.0 days."


# --- Changes in words ----------------------------------------------------------------------------


def test_a_change_in_a_share_is_in_points_with_a_true_minus_sign():
    assert show_change(3.5, SHARE) == "+3.5 points"
    assert show_change(-1.25, SHARE) == MINUS + "1.2 points"
    assert show_change(-1, SHARE) == MINUS + "1.0 point"
    assert show_change(0, SHARE) == "±0.0 points"
    assert "%" not in show_change(-12.0, SHARE)


@pytest.mark.parametrize(
    ("change", "metric", "words"),
    [
        (-1.5, DAYS, MINUS + "1.5 days"),
        (2.0, DAYS, "+2.0 days"),
        (-3, COUNT, MINUS + "3"),
        (1200, COUNT, "+1,200"),
        (-250.0, REVENUE, MINUS + "$250"),
        (None, COUNT, "—"),
    ],
)
def test_changes_in_other_units(change, metric, words):
    assert show_change(change, metric) == words
    assert "-" not in show_change(change, metric)  # never a hyphen for minus


def test_no_value_is_no_data_never_zero():
    for metric in (COUNT, SHARE, DAYS, REVENUE):
        assert show(None, metric) == "No data"
    assert show(0, COUNT) == "0"
    assert show(0.0, SHARE) == "0.0 %"


# --- Status against the target -------------------------------------------------------------------


def test_the_at_risk_tolerance_is_ten_percent_of_the_target():
    assert AT_RISK_TOLERANCE == 0.10


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (95.0, "on_track"),
        (80.0, "on_track"),  # meeting the target is on track
        (79.9, "at_risk"),
        (72.0, "at_risk"),  # 8 short of 80: exactly 10 %
        (71.9, "off_track"),
        (0.0, "off_track"),
    ],
)
def test_status_when_higher_is_better(value, status):
    assert SHARE.direction == "up"
    assert status_of(SHARE, value, 80.0) == status


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (1.0, "on_track"),
        (5.0, "on_track"),
        (5.2, "at_risk"),
        (5.5, "at_risk"),  # half a day over 5: exactly 10 %
        (5.6, "off_track"),
        (30.0, "off_track"),
    ],
)
def test_status_when_lower_is_better(value, status):
    assert DAYS.direction == "down"
    assert status_of(DAYS, value, 5.0) == status


def test_no_status_without_a_value_a_target_or_a_better_direction():
    assert status_of(SHARE, 70.0, None) is None
    assert status_of(SHARE, None, 80.0) is None
    assert RECEIVED.direction == "none"
    assert status_of(RECEIVED, 10, 5) is None
    assert status_of(RECEIVED, 1, 50) is None


def test_a_zero_value_is_judged_not_ignored():
    assert status_of(COUNT, 0, 10) == "off_track"
    assert status_of(REGISTRY["reopen_rate"], 0.0, 5.0) == "on_track"


# --- Trends --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "value", "previous"),
    [
        (DAYS, 8.0, 8.02),  # 0.02 days shows as 0.0
        (DAYS, 8.04, 8.0),
        (SHARE, 70.0, 70.04),
        (COUNT, 10, 10.4),
        (COUNT, 10.3, 10),
        (COUNT, 10, 10),
    ],
)
def test_a_change_that_rounds_to_zero_is_no_change(metric, value, previous):
    result = trend(metric, value, previous)
    assert result["arrow"] == "→"
    assert result["direction"] == "no change"
    assert result["better"] is None
    assert result["judgement"] == ""
    assert result["change"].startswith("±")
    assert MINUS not in result["change"]


def test_a_trend_says_up_or_down_and_whether_that_is_better():
    fewer_days = trend(DAYS, 6.0, 8.5)
    assert (fewer_days["arrow"], fewer_days["direction"]) == ("▼", "down")
    assert (fewer_days["better"], fewer_days["judgement"]) == (True, "better")
    assert fewer_days["change"] == MINUS + "2.5 days"

    lower_share = trend(SHARE, 70.0, 75.0)
    assert (lower_share["arrow"], lower_share["better"], lower_share["judgement"]) == (
        "▼",
        False,
        "worse",
    )
    assert lower_share["change"] == MINUS + "5.0 points"

    more_closed = trend(COUNT, 12, 10)
    assert (more_closed["arrow"], more_closed["change"], more_closed["better"]) == ("▲", "+2", True)

    # Direction "none": up or down, never better or worse.
    received = trend(RECEIVED, 12, 10)
    assert (received["direction"], received["better"], received["judgement"]) == ("up", None, "")


def test_no_trend_without_both_values():
    assert trend(COUNT, None, 3) is None
    assert trend(COUNT, 3, None) is None
    assert trend(COUNT, 0, 0)["direction"] == "no change"


def test_a_line_breaks_where_there_is_no_data():
    """No bucket without data is bridged: the line stops and starts again."""
    chart = charts.build("c", SHARE, WEEK, {"current": [90, 92, None, 95, 96, None, 80]}, title="T")
    (current,) = chart.series
    assert len(current.segments) == 2  # 90-92 and 95-96; the lone 80 is a marker alone
    assert [len(segment.split()) for segment in current.segments] == [2, 2]
    assert len(current.markers) == 5
