from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def t(obj, field: str) -> str:
    """{{ permit_type|t:"name" }}: the Spanish or English text by the active language."""
    return obj.t(field, get_language())


@register.filter
def money(value) -> str:
    return f"${value:,.2f}" if value is not None else ""
