from django import template

from kpis import formatting

register = template.Library()


@register.filter
def show(value, metric) -> str:
    """A metric value in words: "no data" (never a made-up zero) when there is none."""
    return formatting.show(value, metric)


@register.filter
def change(value, metric) -> str:
    return formatting.show_change(value, metric)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
