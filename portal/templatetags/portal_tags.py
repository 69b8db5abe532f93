from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.html import format_html
from django.utils.translation import get_language

register = template.Library()

_NAMES = {"en": "English", "es": "Español"}


@register.simple_tag(takes_context=True)
def language_switch(context) -> str:
    """A plain link to this page in the other language (works without JavaScript)."""
    request = context.get("request")
    current = get_language() or settings.LANGUAGE_CODE
    other = "en" if current.startswith("es") else "es"
    path = request.get_full_path() if request else "/"
    return format_html(
        '<a href="{}" lang="{}" hreflang="{}">{}</a>',
        translate_url(path, other),
        other,
        other,
        _NAMES[other],
    )
