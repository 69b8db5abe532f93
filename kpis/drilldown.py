"""Every number on the dashboard links to the console list of exactly the records behind it.

The list is found with the same queryset the number was computed from (`Metric.records`), for
the same days and dimension value, so the list's count is the number on the card (a test checks
every metric and dimension). The console learns how to read `?kpi=…` from `resolve`, registered
in KpisConfig.ready: no other app imports kpis.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.utils import translation

from .metrics import REGISTRY, Metric, records
from .names import dimension_name, value_names


def link(
    metric: Metric, start: date, end: date, *, dimension: str = "", value: str = "", part=""
) -> str:
    """The console list of the records behind a number ("" when the metric has none)."""
    if metric.records is None or not metric.listing:
        return ""
    query = {"kpi": metric.key, "kpi_from": start.isoformat(), "kpi_to": end.isoformat()}
    if dimension:
        query |= {"kpi_dim": dimension, "kpi_value": value}
    if part:
        query["kpi_part"] = part
    return f"{metric.listing}?{urlencode(query)}"


def resolve(model, params: dict[str, str]):
    """(the records, a sentence saying which) for the console's list of `model`."""
    metric = REGISTRY.get(params.get("kpi", ""))
    if metric is None or metric.records is None:
        raise ValueError("No such dashboard measure.")
    start = date.fromisoformat(params.get("kpi_from", ""))
    end = date.fromisoformat(params.get("kpi_to", ""))
    if end < start:
        raise ValueError("The end date is before the start date.")
    dimension, value = params.get("kpi_dim", ""), params.get("kpi_value", "")
    if dimension and dimension not in metric.dimensions:
        raise ValueError(f"{metric.name_en} is not broken down by {dimension}.")
    part = params.get("kpi_part", "")
    if part not in ("", "numerator") or (part and metric.numerator is None):
        raise ValueError("No such part of this measure.")
    queryset = records(metric, start, end, dimension=dimension, value=value, part=part)
    if queryset.model is not model:
        raise ValueError(f"The records behind {metric.name_en} are not listed here.")
    return queryset, describe(metric, start, end, dimension, value, part)


def describe(metric: Metric, start: date, end: date, dimension: str, value: str, part: str) -> str:
    with translation.override("en"):  # the console is in English
        when = (
            f"at the end of {end:%b %-d, %Y}"
            if metric.is_snapshot
            else f"{start:%b %-d, %Y} to {end:%b %-d, %Y}"
        )
        text = f"{metric.name_en}, {when}"
        if dimension:
            name = value_names(metric.key, dimension, [value])[value]
            text += f", {dimension_name(dimension).lower()}: {name}"
        if part == "numerator":
            text += " (only those that count toward the share)"
    return text
