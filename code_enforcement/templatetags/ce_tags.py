from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

register = template.Library()

EVENT_LABELS = {
    "received": _("Report received"),
    "acknowledged": _("Acknowledged by staff"),
    "in_progress": _("Work in progress"),
    "closed": _("Closed"),
    "reopened": _("Reopened"),
    "case_opened": _("Code enforcement case opened"),
    "info_added": _("Information added by the reporter"),
}


@register.filter
def t(obj, field: str) -> str:
    return obj.t(field, get_language())


@register.filter
def event_label(event) -> str:
    return str(EVENT_LABELS.get(event.kind, event.kind))
