"""A scorecard: a metric's value with its status against the target, its trend since the
previous period, a sparkline, and the counts of the records behind it (each a link)."""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import charts, drilldown
from .formatting import show, show_change

# Missing the target by at most this share of it is "at risk", more is "off track".
AT_RISK_TOLERANCE = 0.10

STATUS_LABELS = {
    "on_track": gettext_lazy("On track"),
    "at_risk": gettext_lazy("At risk"),
    "off_track": gettext_lazy("Off track"),
}
STATUS_ICONS = {"on_track": "✓", "at_risk": "!", "off_track": "✗"}


def status_of(metric, value, target) -> str | None:
    """on_track, at_risk or off_track; None without a value, a target or a better direction."""
    if value is None or target is None or metric.direction == "none":
        return None
    margin = value - target if metric.direction == "up" else target - value
    if margin >= 0:
        return "on_track"
    if -margin <= AT_RISK_TOLERANCE * abs(target):
        return "at_risk"
    return "off_track"


def status_label(status: str | None) -> str:
    return str(STATUS_LABELS[status]) if status else ""


def trend(metric, value, previous) -> dict | None:
    """The change since the previous period: arrow, words, and whether that is better."""
    if value is None or previous is None:
        return None
    # A change too small to show (8.0 days against 8.02) is no change.
    places = 1 if metric.unit in ("percent", "days", "hours", "minutes") else 0
    change = round(value - previous, places)
    if change == 0:
        arrow, direction = "→", _("no change")
    else:
        arrow = "▲" if change > 0 else "▼"
        direction = _("up") if change > 0 else _("down")
    better = None
    if metric.direction != "none" and change != 0:
        better = (change > 0) == (metric.direction == "up")
    judgement = "" if better is None else (_("better") if better else _("worse"))
    return {
        "arrow": arrow,
        "change": show_change(change, metric),
        "direction": direction,
        "better": better,
        "judgement": judgement,
    }


def records_phrase(listing: str, count: int) -> str:
    """ "170 reports", "1 application": the records behind a number, named for a person."""
    path = listing.rstrip("/").rsplit("/", 1)[-1]
    phrases = {
        "servicerequest": ngettext("%(n)s report", "%(n)s reports", count),
        "codecase": ngettext("%(n)s case", "%(n)s cases", count),
        "violation": ngettext("%(n)s violation", "%(n)s violations", count),
        "application": ngettext("%(n)s application", "%(n)s applications", count),
        "payment": ngettext("%(n)s payment", "%(n)s payments", count),
        "subscription": ngettext("%(n)s subscription", "%(n)s subscriptions", count),
        "delivery": ngettext("%(n)s email or text", "%(n)s emails and texts", count),
    }
    return phrases.get(path, "%(n)s") % {"n": number_format(count, 0, force_grouping=True)}


def card(metric, item: dict, target, period, *, spans, detail_url: str = "") -> dict:
    """Everything a scorecard shows, from one metric's numbers (kpis.dashboard)."""
    value = item.get("value")
    status = status_of(metric, value, target)
    basis, numerator = item.get("basis"), item.get("numerator")
    link_part = ""
    link_all = drilldown.link(metric, period.start, period.end)
    if metric.numerator is not None:
        link_part = drilldown.link(metric, period.start, period.end, part="numerator")
    values = item.get("series", {}).get("current", [])
    return {
        "metric": metric,
        "value": value,
        "shown": show(value, metric),
        "previous": item.get("previous"),
        "last_year": item.get("last_year"),
        "trend": trend(metric, value, item.get("previous")),
        "target": target,
        "status": status,
        "status_label": status_label(status),
        "status_icon": STATUS_ICONS.get(status, ""),
        "basis": basis,
        "basis_text": records_phrase(metric.listing, basis) if basis is not None else "",
        "numerator": numerator,
        "numerator_count": (
            number_format(numerator, 0, force_grouping=True) if numerator is not None else ""
        ),
        "numerator_text": (
            records_phrase(metric.listing, numerator) if numerator is not None else ""
        ),
        "link_all": link_all,
        "link_part": link_part,
        "detail_url": detail_url,
        "sparkline": charts.sparkline(
            metric, values, title=_("%(name)s over the period") % {"name": metric.name()}
        )
        if len(spans) > 1
        else None,
    }
