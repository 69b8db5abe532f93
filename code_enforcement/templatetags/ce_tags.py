from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cityhall.constants import EventKind
from cityhall.text import staff_words

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


@register.filter
def feet_away(meters) -> str:
    """ "about 130 feet away": a distance as residents of a US city read it, to the nearest 10
    feet (closer than 30 feet is "right there")."""
    if meters is None:
        return ""
    feet = float(meters) / 0.3048
    if feet < 30:
        return str(_("less than 30 feet away"))
    return str(_("about %(feet)s feet away") % {"feet": f"{round(feet, -1):,.0f}"})


@register.simple_tag
def staff_text(text, spanish="", plain=False):
    """Staff's free text for the reader, marked with its language (see cityhall.text)."""
    return staff_words(text, spanish, html=not plain)
