"""Charts drawn on the server as SVG: readable without JavaScript, allowed by the CSP, printed as
they are shown, and described in words for assistive technology.

Hand-written rather than a charting library: pygal and matplotlib write inline styles (which
the CSP forbids) and neither draws a target line, a labelled latest value or a text alternative
of our own. This module only computes positions; kpis/templates/kpis/_chart.html draws them.

A chart covers the same days as the scorecards: the period is cut into buckets (days up to a
month, 7-day spans up to six months, calendar months beyond), and the previous period and the
same days a year earlier are cut the same way, bucket by bucket, for comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .formatting import axis_unit, show

# --- Buckets -------------------------------------------------------------------------------------


def granularity(start: date, end: date) -> str:
    days = (end - start).days + 1
    if days <= 31:
        return "day"
    if days <= 184:
        return "week"
    return "month"


def buckets(start: date, end: date, grain: str | None = None) -> list[tuple[date, date]]:
    """The period cut into (first day, last day) spans, both included."""
    grain = grain or granularity(start, end)
    spans, first = [], start
    while first <= end:
        if grain == "day":
            last = first
        elif grain == "week":
            last = first + timedelta(days=6)
        else:
            next_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
            last = next_month - timedelta(days=1)
        last = min(last, end)
        spans.append((first, last))
        first = last + timedelta(days=1)
    return spans


def a_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # February 29th
        return day.replace(year=day.year - 1, day=28)


def bucket_label(first: date, grain: str, *, with_year: bool = True) -> str:
    """An x-axis date: "Nov 3"; months "Dec 2025", then "Mar" (the year when it changes)."""
    if grain == "month":
        if with_year or first.month == 1:
            return formats.date_format(first, pgettext("chart month", "M Y"))
        return formats.date_format(first, "M")
    return formats.date_format(first, pgettext("chart day", "M j"))


def bucket_name(first: date, last: date, grain: str) -> str:
    """A bucket in a table or description: "Nov 3, 2026", "Nov 3, 2026 to Nov 9, 2026", "Nov 2026"."""
    if grain == "day" or first == last:
        return formats.date_format(first, "DATE_FORMAT")
    if grain == "month" and first.day == 1 and (last + timedelta(days=1)).day == 1:
        return formats.date_format(first, "YEAR_MONTH_FORMAT")
    return _("%(first)s to %(last)s") % {
        "first": formats.date_format(first, "DATE_FORMAT"),
        "last": formats.date_format(last, "DATE_FORMAT"),
    }


# --- Scales --------------------------------------------------------------------------------------


def nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def y_scale(
    values: list[float], unit: str, ticks: int, *, from_zero: bool = True
) -> tuple[float, float, float]:
    """(bottom of the axis, top, step between gridlines). Bars start at zero (their length is
    the value); a line may start higher when its values sit in a narrow band far from zero
    (a share between 90 % and 97 %), and the chart's description says so."""
    known = [v for v in values if v is not None] or [0]
    high, low = max(known), min(known)
    if high <= 0:  # nothing to show yet: a plain axis with whole-number gridlines
        return (0.0, 100.0, 25.0) if unit == "percent" else (0.0, 4.0, 1.0)
    if from_zero or low <= 0 or low < 0.5 * high:
        top = high if high > 0 else 1
        step = nice_step(top, ticks)
        if unit in ("count", "dollars"):
            step = max(math.floor(step), 1)  # whole numbers: 0, 2, 4… rather than 2.5
        axis_top = step * math.ceil(top / step - 1e-9)
        if unit == "percent" and top <= 100:
            axis_top = min(axis_top, 100)
        return 0.0, axis_top, step
    step = nice_step((high - low) or high * 0.1, ticks)
    bottom = max(step * math.floor(low / step - 0.25), 0)  # room under the lowest point
    axis_top = step * math.ceil(high / step - 1e-9)
    if axis_top <= bottom:
        axis_top = bottom + step
    if unit == "percent" and high <= 100:
        axis_top = min(axis_top, 100) if bottom < 100 else axis_top
    return bottom, axis_top, step


# --- A chart -------------------------------------------------------------------------------------


@dataclass
class Series:
    key: str  # current, previous, last_year
    label: str
    values: list[float | None]
    points: str = ""  # the SVG polyline
    markers: list[tuple[float, float]] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)  # polylines between gaps

    @property
    def shapes(self) -> list[dict]:
        """Each point's marker: a circle, a square or a diamond by series (not colour alone)."""
        return [
            {
                "x": x,
                "y": y,
                "x0": round(x - 3, 1),
                "y0": round(y - 3, 1),
                "diamond": f"{x},{round(y - 4, 1)} {round(x + 4, 1)},{y} "
                f"{x},{round(y + 4, 1)} {round(x - 4, 1)},{y}",
            }
            for x, y in self.markers
        ]


@dataclass
class Chart:
    id: str
    title: str
    description: str
    kind: str  # bar or line
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    unit_label: str
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    bars: list[tuple[float, float, float, float, str]]
    series: list[Series]
    target: tuple[float, str] | None
    latest: tuple[float, float, str, str] | None  # x, y, value, text anchor
    rows: list[dict]  # the data table: bucket name, and each series' value
    small: bool = False
    link: str = ""

    @property
    def ytick_x(self) -> float:
        return self.left - 6

    @property
    def xtick_y(self) -> float:
        return self.bottom + (14 if self.small else 18)

    @property
    def unit_y(self) -> float:
        return self.top - (6 if self.small else 12)

    @property
    def target_label(self) -> dict | None:
        if self.target is None:
            return None
        y, text = self.target
        above = y - 5 > self.top + 8
        return {"x": self.left + 4, "y": y - 5 if above else y + 14, "text": text}

    @property
    def legend(self) -> list[dict]:
        """What each line style means, for the HTML legend under the chart."""
        styles = {
            "current": _("bars") if self.kind == "bar" else _("solid line, circles"),
            "previous": _("dashed line, squares"),
            "last_year": _("dotted line, diamonds"),
        }
        entries = [{"key": s.key, "label": s.label, "style": styles[s.key]} for s in self.series]
        if self.target is not None:
            entries.append({"key": "target", "label": _("Target"), "style": _("thick dashes")})
        return entries


COMPARISONS = ("previous", "last_year")


def build(
    chart_id: str,
    metric,
    spans: list[tuple[date, date]],
    values: dict[str, list[float | None]],
    *,
    title: str,
    target: float | None = None,
    small: bool = False,
    scale: tuple[float, float] | None = None,
    link: str = "",
) -> Chart:
    """A chart of `values["current"]` over `spans`, with whichever of "previous" and
    "last_year" are given, the target as a line and the latest value labelled."""
    grain = granularity(spans[0][0], spans[-1][1]) if len(spans) > 1 else "day"
    if len(spans) > 1 and (spans[1][0] - spans[0][0]).days > 7:
        grain = "month"
    elif len(spans) > 1 and (spans[1][0] - spans[0][0]).days == 7:
        grain = "week"
    # A narrow drawing (400 units): its words stay readable when a phone shrinks it.
    width, height = (220, 130) if small else (400, 230)
    left, right = (36, 44) if small else (48, 56)  # the right margin holds the latest value
    top, bottom = (16, 24) if small else (28, 36)
    plot_w, plot_h = width - left - right, height - top - bottom
    kind = "bar" if metric.kind in ("count", "sum", "snapshot_count") else "line"

    labels = {
        "current": _("This period"),
        "previous": _("Previous period"),
        "last_year": _("Same period last year"),
    }
    shown = ["current", *(key for key in COMPARISONS if key in values)]
    everything = [v for key in shown for v in values[key]]
    if target is not None:
        everything.append(target)
    bottom_value, axis_top, step = scale or y_scale(
        everything, metric.unit, 2 if small else 4, from_zero=kind == "bar"
    )

    def y(value: float) -> float:
        share = (min(max(value, bottom_value), axis_top) - bottom_value) / (axis_top - bottom_value)
        return round(top + plot_h * (1 - share), 1)

    band = plot_w / len(spans)

    def x(index: int) -> float:
        return round(left + band * (index + 0.5), 1)

    tick_values = [bottom_value, axis_top] if small else _ticks(bottom_value, axis_top, step)
    y_ticks = [(y(v), show(v, metric, short=True)) for v in tick_values]
    most = 2 if small else 5
    chosen = sorted({round(i * (len(spans) - 1) / max(most - 1, 1)) for i in range(most)})
    x_ticks = [
        (x(i), bucket_label(spans[i][0], grain, with_year=(i == chosen[0] or grain != "month")))
        for i in chosen
        if i < len(spans)
    ]

    series, bars = [], []
    for key in shown:
        line = Series(key, str(labels[key]), values[key])
        if kind == "bar" and key == "current":
            for i, value in enumerate(values[key]):
                if value is None:
                    continue
                bar_w = round(band * 0.64, 1)
                top_y = y(value)
                bars.append(
                    (
                        round(x(i) - bar_w / 2, 1),
                        top_y,
                        bar_w,
                        round(top + plot_h - top_y, 1),
                        f"{bucket_name(*spans[i], grain)}: {show(value, metric)}",
                    )
                )
        else:
            line.markers = [(x(i), y(v)) for i, v in enumerate(values[key]) if v is not None]
            line.points = " ".join(f"{px},{py}" for px, py in line.markers)
            # A bucket without data breaks the line: nothing is drawn where nothing is known.
            run: list[str] = []
            for i, v in enumerate([*values[key], None]):
                if v is not None:
                    run.append(f"{x(i)},{y(v)}")
                    continue
                if len(run) > 1:
                    line.segments.append(" ".join(run))
                run = []
        series.append(line)

    latest = None
    current = values["current"]
    last_index = max((i for i, v in enumerate(current) if v is not None), default=None)
    if last_index is not None:
        value_y = y(current[last_index])
        label_y = value_y - 8 if kind == "bar" else value_y + 4
        anchor = "middle" if kind == "bar" else "start"
        label_x = x(last_index) if kind == "bar" else x(last_index) + 7
        latest = (label_x, max(label_y, top - 4), show(current[last_index], metric), anchor)

    target_line = None
    if target is not None:
        target_line = (y(target), _("Target %(value)s") % {"value": show(target, metric)})

    rows = [
        {
            "name": bucket_name(*span, grain),
            "values": [show(values[key][i], metric) for key in shown if i < len(values[key])],
        }
        for i, span in enumerate(spans)
    ]
    return Chart(
        id=chart_id,
        title=title,
        description=_describe(metric, spans, grain, values, shown, target, last_index, kind)
        + (
            " "
            + _("The vertical axis starts at %(value)s, not at zero.")
            % {"value": show(bottom_value, metric)}
            if bottom_value
            else ""
        ),
        kind=kind,
        width=width,
        height=height,
        left=left,
        top=top,
        right=width - right,
        bottom=top + plot_h,
        unit_label=axis_unit(metric),
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        bars=bars,
        series=series,
        target=target_line,
        latest=latest,
        rows=rows,
        small=small,
        link=link,
    )


def _ticks(bottom: float, axis_top: float, step: float) -> list[float]:
    ticks, value = [], bottom
    while value <= axis_top + 1e-9:
        ticks.append(round(value, 6))
        value += step
    return ticks


def _describe(metric, spans, grain, values, shown, target, last_index, kind) -> str:
    """What a sighted reader takes from the chart, in sentences: the chart's <desc>."""
    grains = {"day": _("day by day"), "week": _("week by week"), "month": _("month by month")}
    first, last = spans[0][0], spans[-1][1]
    parts = [
        (_("Bar chart") if kind == "bar" else _("Line chart"))
        + ", "
        + _("%(grain)s from %(first)s to %(last)s.")
        % {
            "grain": grains[grain],
            "first": formats.date_format(first, "DATE_FORMAT"),
            "last": formats.date_format(last, "DATE_FORMAT"),
        }
    ]
    current = [v for v in values["current"] if v is not None]
    if last_index is None:
        parts.append(_("No data in this period."))
    else:
        parts.append(
            _("Latest value (%(when)s): %(value)s.")
            % {
                "when": bucket_name(*spans[last_index], grain),
                "value": show(values["current"][last_index], metric),
            }
        )
        parts.append(
            _("Lowest %(low)s, highest %(high)s.")
            % {"low": show(min(current), metric), "high": show(max(current), metric)}
        )
    if target is not None:
        parts.append(_("Target: %(value)s.") % {"value": show(target, metric)})
    if "previous" in shown:
        parts.append(_("A dashed line shows the previous period."))
    if "last_year" in shown:
        parts.append(_("A dotted line shows the same period last year."))
    return " ".join(parts)


def sparkline(metric, values: list[float | None], *, title: str) -> dict | None:
    """A scorecard's small trend line (no axes): points, and its words."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return None
    width, height, pad = 120, 32, 3
    low, high = min(v for _i, v in known), max(v for _i, v in known)
    span = (high - low) or 1
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    points = [
        (round(pad + i * step, 1), round(height - pad - (v - low) / span * (height - 2 * pad), 1))
        for i, v in known
    ]
    return {
        "points": " ".join(f"{x},{y}" for x, y in points),
        "last": points[-1],
        "title": title,
        "description": _("From %(first)s to %(last)s; lowest %(low)s, highest %(high)s.")
        % {
            "first": show(known[0][1], metric),
            "last": show(known[-1][1], metric),
            "low": show(low, metric),
            "high": show(high, metric),
        },
    }
