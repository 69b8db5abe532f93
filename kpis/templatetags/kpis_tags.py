from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def show(value, metric) -> str:
    """A metric value in words: "no data" (never a made-up zero) when there is none."""
    if value is None:
        return _("No data")
    if metric.unit == "percent":
        return f"{number_format(value, 1)} %"
    if metric.unit == "days":
        return _("%(n)s days") % {"n": number_format(value, 1)}
    if metric.unit == "minutes":
        return _("%(n)s minutes") % {"n": number_format(value, 1)}
    if metric.unit == "dollars":
        return f"${number_format(value, 0, force_grouping=True)}"
    return number_format(value, 0, force_grouping=True)


@register.filter
def signed(value, metric) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else ""
    return f"{sign}{show(value, metric)}"


@register.filter
def bar_height(value, maximum) -> float:
    return 0 if not value or not maximum else round(140 * value / maximum, 1)


@register.filter
def multiply(value, factor) -> float:
    return value * factor


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
