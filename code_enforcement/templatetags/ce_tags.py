from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cityhall.constants import EventKind

register = template.Library()

# What the reporter reads for each status a request reaches (other events use their kind).
STATUS_LABELS = {
    "new": _("Report received"),
    "acknowledged": _("Acknowledged by staff"),
    "in_progress": _("Work in progress"),
    "closed": _("Closed"),
}


@register.filter
def t(obj, field: str) -> str:
    return obj.t(field, get_language())


@register.filter
def event_label(event) -> str:
    if event.kind == EventKind.STATUS and event.status in STATUS_LABELS:
        return str(STATUS_LABELS[event.status])
    return event.label
