from django import template
from django.utils.translation import get_language

from cityhall.text import staff_words

register = template.Library()


@register.filter
def t(obj, field: str) -> str:
    """{{ permit_type|t:"name" }}: the Spanish or English text by the active language."""
    return obj.t(field, get_language())


@register.filter
def money(value) -> str:
    if value is None:
        return ""
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"  # a refund: -$30.00


@register.simple_tag
def staff_text(text, spanish="", plain=False):
    """Staff's free text for the reader: `{% staff_text application.conditions
    application.conditions_es %}`; `plain=True` in text emails."""
    return staff_words(text, spanish, html=not plain)
