"""Metric values in words, for pages, charts, emails and CSV: never a made-up zero."""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def show(value, metric, *, short: bool = False) -> str:
    """ "85.2 %", "3.5 days", "1,204", "$12,400"; "No data" when there is none. `short` drops
    the unit word (chart labels, where the axis names the unit)."""
    if value is None:
        return _("No data")
    unit = metric.unit
    if unit == "percent":
        places = 0 if short and float(value).is_integer() else 1
        return f"{number_format(value, places)} %"
    if unit in ("days", "hours", "minutes"):
        number = number_format(value, 1)
        if short:
            return number
        return {
            "days": _("%(n)s days"),
            "hours": _("%(n)s hours"),
            "minutes": _("%(n)s minutes"),
        }[unit] % {"n": number}
    if unit == "dollars":
        return f"${number_format(value, 0, force_grouping=True)}"
    return number_format(value, 0, force_grouping=True)


def show_change(change, metric) -> str:
    """A change between two values: "+3", "-1.5 days" (a true minus sign); for shares, percentage points."""
    if change is None:
        return "—"
    sign = "+" if change > 0 else ("\u2212" if change < 0 else "±")
    size = abs(change)
    if metric.unit == "percent":
        points = number_format(size, 1)
        return sign + ngettext("%(n)s point", "%(n)s points", 1 if size == 1 else 2) % {"n": points}
    return sign + show(size, metric)


def axis_unit(metric) -> str:
    return {
        "percent": _("Percent"),
        "days": _("Days"),
        "hours": _("Hours"),
        "minutes": _("Minutes"),
        "dollars": _("Dollars"),
    }.get(metric.unit, _("Number"))
