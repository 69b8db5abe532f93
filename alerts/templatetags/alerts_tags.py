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


@register.filter
def how_serious(alert) -> str:
    """CAP's severity in words a resident acts on (the CAP terms stay in the CAP message)."""
    from django.utils.translation import gettext

    if alert.severity == "Extreme":
        return gettext("Danger to life: follow the instructions now")
    if alert.severity == "Severe":
        return gettext("Serious: follow the instructions")
    if alert.severity == "Moderate":
        return gettext("May affect you: take note")
    return gettext("For your information")
