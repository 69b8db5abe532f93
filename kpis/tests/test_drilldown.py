"""Every number on the dashboard links to the console list of exactly the records behind it:
for every metric, the whole city and every dimension value, the list's count is the number the
dashboard shows (its count, or the records a share, median or sum stands on)."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from cityhall.roles import Role
from kpis import dashboard, drilldown
from kpis.metrics import METRICS, REGISTRY
from kpis.periods import Period
from kpis.rollups import rollup_days
from tests.personas import make_staff, verified_client

from .world import END, START

pytestmark = pytest.mark.django_db

JUNE = Period("custom", START, END)


@pytest.fixture
def numbers(world):
    rollup_days(start=START, end=END)
    return {metric.key: dashboard.compute(JUNE, metric) for metric in METRICS}


def test_every_metric_and_dimension_is_checked():
    """The test below covers every metric and each of its dimensions."""
    assert all(metric.records is not None for metric in METRICS)
    assert sum(len(metric.dimensions) for metric in METRICS) >= 45


@pytest.fixture
def console():
    return verified_client(make_staff(Role.MANAGER, "drill@riverbend.example"))


def listed(console, url: str) -> int:
    response = console.get(url)
    assert response.status_code == 200, url
    changelist = response.context["cl"]
    # The list says which records it shows, and shows nothing but them.
    assert "behind a dashboard number" in response.content.decode()
    return changelist.result_count


def test_every_metric_has_a_console_list():
    for metric in METRICS:
        assert metric.records is not None and metric.listing, metric.key
        if metric.kind == "ratio":
            assert metric.numerator is not None, metric.key


@pytest.mark.parametrize("key", [metric.key for metric in METRICS])
def test_every_number_matches_its_list(numbers, console, key):
    """The whole city's number, then each value of each dimension (one world per metric)."""
    metric = REGISTRY[key]
    item = numbers[key]["metrics"][key]
    assert item["basis"] is not None, f"{key}: the test world has data for every metric"
    assert listed(console, drilldown.link(metric, START, END)) == item["basis"]
    if metric.kind in ("count", "snapshot_count"):
        assert item["value"] == item["basis"]
    if metric.numerator is not None:
        above = drilldown.link(metric, START, END, part="numerator")
        assert listed(console, above) == item["numerator"]
    for dimension in metric.dimensions:
        rows = numbers[key]["breakdowns"][dimension]
        assert rows, f"{key} by {dimension}: the test world has data"
        for row in rows:
            url = drilldown.link(metric, START, END, dimension=dimension, value=row["code"])
            assert listed(console, url) == row["basis"], (dimension, row["code"])
            if metric.kind in ("count", "snapshot_count"):
                assert row["number"] == row["basis"], (dimension, row["code"])
            if metric.numerator is not None:
                above = drilldown.link(
                    metric, START, END, dimension=dimension, value=row["code"], part="numerator"
                )
                assert listed(console, above) == row["numerator"], (dimension, row["code"])


def test_the_dashboards_links_are_these_lists(world, console):
    """The links a manager clicks on the page are the ones checked above, for the same days."""
    rollup_days(start=START, end=END)
    html = console.get(f"/kpis/?start={START}&end={END}&metric=closed_within_sla").content
    links = set(re.findall(r'href="(/console/[^"]*kpi=[^"]*)"', html.decode()))
    links = {link.replace("&amp;", "&") for link in links}
    metric = REGISTRY["closed_within_sla"]
    assert drilldown.link(metric, START, END) in links
    assert drilldown.link(metric, START, END, part="numerator") in links
    assert drilldown.link(metric, START, END, dimension="category", value="pothole") in links
    for link in links:
        query = parse_qs(urlsplit(link).query)
        assert query["kpi_from"] == [str(START)] and query["kpi_to"] == [str(END)]


def test_a_list_explains_what_it_shows_and_how_to_leave(world, console):
    metric = REGISTRY["closed_within_sla"]
    url = drilldown.link(
        metric, START, END, dimension="category", value="pothole", part="numerator"
    )
    html = console.get(url).content.decode()
    assert "Resolved on time, Jun 1, 2026 to Jun 30, 2026, category: Pothole" in html
    assert "All records (leave the dashboard&#x27;s selection)" in html or (
        "All records (leave the dashboard's selection)" in html
    )


@pytest.mark.parametrize(
    "query",
    [
        "kpi=nonsense&kpi_from=2026-06-01&kpi_to=2026-06-30",
        "kpi=requests_closed&kpi_from=June&kpi_to=2026-06-30",
        "kpi=requests_closed&kpi_from=2026-06-30&kpi_to=2026-06-01",
        "kpi=requests_closed&kpi_from=2026-06-01&kpi_to=2026-06-30&kpi_dim=permit_type&kpi_value=x",
        "kpi=requests_closed&kpi_from=2026-06-01&kpi_to=2026-06-30&kpi_part=numerator",
        "kpi=success_rate&kpi_from=2026-06-01&kpi_to=2026-06-30",  # applications, not requests
    ],
)
def test_a_bad_drill_down_shows_the_consoles_error_not_everything(world, console, query):
    response = console.get(f"/console/code_enforcement/servicerequest/?{query}")
    # The admin's answer to parameters it cannot use: back to the list with ?e=1.
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_the_comparisons_link_to_their_own_days(world, console):
    """The previous period's and last year's numbers link to their records, for their days."""
    rollup_days(start=date(2026, 5, 1), end=END)
    html = console.get(f"/kpis/?start={START}&end={END}&metric=requests_closed").content.decode()
    metric = REGISTRY["requests_closed"]
    may = drilldown.link(metric, JUNE.previous.start, JUNE.previous.end)
    assert JUNE.previous.start == date(2026, 5, 1)  # June is compared with May
    assert may.replace("&", "&amp;") in html
    # The number shown for May is the count of May's list.
    shown = int(re.search(rf'href="{re.escape(may.replace("&", "&amp;"))}">(\d+)</a>', html)[1])
    assert listed(console, may) == shown
