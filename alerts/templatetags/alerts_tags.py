from django import template
from django.urls import reverse
from django.utils.translation import get_language

register = template.Library()


@register.filter
def alert_title(alert) -> str:
    return alert.title(get_language())


@register.filter
def alert_body(alert) -> str:
    return alert.body(get_language())


@register.filter
def alert_instruction(alert) -> str:
    return alert.instruction(get_language())


@register.filter
def alert_url(alert) -> str:
    """The alert's page in the active language (emails render under the recipient's)."""
    return reverse("alerts:detail", args=[alert.pk])


@register.filter
def topic_name(topic) -> str:
    return topic.name(get_language())
