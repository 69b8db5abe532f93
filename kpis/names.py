"""Human names for what the roll-ups store as codes: dimensions ("permit_type") and their values
("el-barrio-norte", "open311", "BLD"), in the language of the page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from alerts.constants import Channel
from cityhall.models import Neighborhood
from code_enforcement.constants import Source
from code_enforcement.models import Department, ServiceCategory
from permits.models import PermitType

DIMENSIONS = {
    "category": _("Category"),
    "neighborhood": _("Neighborhood"),
    "department": _("Department"),
    "channel": pgettext_lazy("how a message or report came", "Channel"),
    "permit_type": _("Permit or license type"),
    "aging": _("Age"),
}
AGES = {
    "0-7": _("Up to 7 days old"),
    "8-30": _("8 to 30 days old"),
    "31-90": _("31 to 90 days old"),
    "90+": _("Over 90 days old"),
}
NO_VALUE = _("Not recorded")


def dimension_name(dimension: str) -> str:
    return str(DIMENSIONS.get(dimension, dimension.replace("_", " ").capitalize()))


def _channels(metric_key: str) -> dict[str, str]:
    if metric_key == "requests_received":
        return {value: str(label) for value, label in Source.choices}
    return {value: str(label) for value, label in Channel.choices}


def value_names(metric_key: str, dimension: str, values) -> dict[str, str]:
    """{stored value: its name} for one dimension: one query at most, whatever the count."""
    values = [value for value in values if value != "—"]
    names: dict[str, str] = {"—": str(NO_VALUE)}
    if dimension == "category":
        names |= {c.code: c.t("name") for c in ServiceCategory.objects.filter(code__in=values)}
    elif dimension == "neighborhood":
        names |= dict(Neighborhood.objects.filter(slug__in=values).values_list("slug", "name"))
    elif dimension == "department":
        names |= {d.name: d.t() for d in Department.objects.filter(name__in=values)}
    elif dimension == "permit_type":
        names |= {t.code: t.t("name") for t in PermitType.objects.filter(code__in=values)}
    elif dimension == "channel":
        names |= _channels(metric_key)
    elif dimension == "aging":
        names |= {key: str(label) for key, label in AGES.items()}
    return {value: names.get(value, value) for value in [*values, "—"]}
