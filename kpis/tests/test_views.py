"""The manager dashboard, its CSV export and forecasts page, and the public performance page."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from cityhall.roles import Role
from code_enforcement.constants import RequestStatus
from code_enforcement.models import ServiceCategory, ServiceRequest
from code_enforcement.tests.factories import make_category
from kpis.metrics import HEADLINE, METRICS, REGISTRY
from kpis.models import DailyRollup, PerformanceSettings, Target
from kpis.periods import default_period
from kpis.rollups import rollup_days
from tests.personas import give_totp_device, signed_in_client, verified_client

from .world import at, make_neighborhood

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/kpis/", "/kpis/forecasts/", "/kpis/export/requests_received.csv"]
# Pinned: the dashboard reads the roll-ups with a fixed number of queries whatever the amount
# of data: the user, the second factor, the permissions (2), the city's roll-ups (this period
# and the one before; the same period last year), the chosen metric's breakdown rows, the
# targets, and the names of its dimensions' values (category, neighborhood, department).
# (Sessions live in the cache.)
DASHBOARD_QUERIES = 11
# The settings row, the city's roll-ups (two ranges) and the targets.
PERFORMANCE_QUERIES = 4


def recent_requests(count: int, *, today=None) -> None:
    """`count` requests over the last 3 weeks: every other one closed 2 days later (on time),
    the rest open. bulk_create: the count must not matter to the dashboard."""
    today = today or timezone.localdate()
    category = ServiceCategory.objects.filter(code="pothole").first() or make_category("pothole")
    north = make_neighborhood("north")
    rows = []
    for n in range(count):
        created = at(today - timedelta(days=3 + n % 18))
        closed = created + timedelta(days=2) if n % 2 == 0 else None
        rows.append(
            ServiceRequest(
                category=category,
                neighborhood=north,
                department=category.department,
                description=f"Request {n}",
                created_at=created,
                closed_at=closed,
                resolve_due=(created + timedelta(days=5)).date(),
                status=RequestStatus.CLOSED if closed else RequestStatus.NEW,
            )
        )
    ServiceRequest.objects.bulk_create(rows)


def roll_up_recent() -> None:
    today = timezone.localdate()
    rollup_days(start=today - timedelta(days=60), end=today)


def card(html: str, metric_key: str) -> str:
    """The scorecard of one metric in the dashboard's HTML."""
    for chunk in html.split('<li class="cityhall-scorecard')[1:]:
        if f"metric={metric_key}#detail" in chunk:
            return chunk.split("</li>")[0]
    raise AssertionError(f"no scorecard for {metric_key}")


def all_cards(response) -> dict:
    """Every scorecard on the page by metric key: the headline and each area's."""
    cards = list(response.context["headline"])
    for group in response.context["groups"]:
        cards += group["cards"]
    return {c["metric"].key: c for c in cards}


# --- Access ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_anonymous_is_sent_to_the_console_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/?next=")


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_a_resident_is_sent_to_the_console_sign_in(alice, url):
    response = signed_in_client(alice).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/?next=")


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_without_a_verified_second_factor_is_redirected(manager, url):
    give_totp_device(manager)
    response = signed_in_client(manager).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/")


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_the_language_prefix_does_not_open_a_way_in(alice, url):
    response = signed_in_client(alice).get("/es" + url)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_a_verified_code_inspector_without_the_permission_is_forbidden(staff_user, url):
    client = verified_client(staff_user(Role.CODE_INSPECTOR))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_a_verified_manager_sees_the_pages(manager_client, url):
    assert manager_client.get(url).status_code == 200


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_a_verified_city_administrator_sees_the_pages(staff_user, url):
    client = verified_client(staff_user(Role.CITY_ADMINISTRATOR))
    assert client.get(url).status_code == 200


def test_the_dashboard_only_answers_get(manager_client):
    assert manager_client.post("/kpis/").status_code == 405


# --- Export ----------------------------------------------------------------------------------------


def test_csv_export(manager_client):
    recent_requests(6)
    roll_up_recent()
    response = manager_client.get("/kpis/export/requests_received.csv?period=month")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "metric", "unit", "series", "label", "first_day", "last_day", "value", "records"
    ]  # fmt: skip
    assert {row[0] for row in rows[1:]} == {"requests_received"}
    # The chart's buckets: 30 days, day by day, and the same for the comparisons.
    days = [row for row in rows[1:] if row[2] == "current"]
    assert len(days) == 30
    assert sum(float(row[6]) for row in days if row[6]) == 6
    assert len([row for row in rows[1:] if row[2] == "previous"]) == 30
    assert len([row for row in rows[1:] if row[2] == "last_year"]) == 30
    # The breakdowns of the period by name: 6 potholes, all in the north, all by web.
    today = timezone.localdate()
    first, last = str(today - timedelta(days=29)), str(today)
    pothole = ServiceCategory.objects.get(code="pothole").name_en
    assert ["requests_received", "count", "category", pothole, first, last, "6.0", "6"] in rows
    assert ["requests_received", "count", "neighborhood", "North", first, last, "6.0", "6"] in rows
    assert ["requests_received", "count", "channel", "Website", first, last, "6.0", "6"] in rows


def test_csv_export_of_an_unknown_metric_is_404(manager_client):
    assert manager_client.get("/kpis/export/nonsense.csv").status_code == 404


# --- Periods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "days"), [("week", 7), ("month", 30), ("quarter", 90), ("year", 365)]
)
def test_periods(manager_client, key, days):
    today = timezone.localdate()
    response = manager_client.get(f"/kpis/?period={key}")
    assert response.status_code == 200
    period = response.context["period"]
    assert (period.key, period.end, period.days) == (key, today, days)
    assert period.start == today - timedelta(days=days - 1)
    assert not list(get_messages(response.wsgi_request))


def test_default_period_is_the_last_30_days(manager_client):
    response = manager_client.get("/kpis/")
    assert response.context["period"] == default_period()
    assert response.context["period"].days == 30


def test_custom_period(manager_client):
    today = timezone.localdate()
    start, end = today - timedelta(days=50), today - timedelta(days=10)
    response = manager_client.get(f"/kpis/?period=custom&start={start}&end={end}")
    period = response.context["period"]
    assert (period.key, period.start, period.end) == ("custom", start, end)
    assert period.previous.end == start - timedelta(days=1)
    assert period.previous.days == period.days == 41


def test_dates_alone_choose_a_custom_period(manager_client):
    """No need to also pick "Custom dates": the two days are the period, whatever else."""
    today = timezone.localdate()
    start, end = today - timedelta(days=40), today - timedelta(days=20)
    for query in (f"start={start}&end={end}", f"period=quarter&start={start}&end={end}"):
        response = manager_client.get(f"/kpis/?{query}")
        assert response.status_code == 200
        period = response.context["period"]
        assert (period.key, period.start, period.end) == ("custom", start, end)
        html = response.content.decode()
        # The form keeps the dates, and every link keeps the period: the view can be shared.
        assert f'value="{start}"' in html and f'value="{end}"' in html
        assert f"start={start}&amp;end={end}&amp;metric=closed_within_sla#detail" in html


@pytest.mark.parametrize(
    ("query", "message", "field"),
    [
        (
            "start={late}&end={early}",
            "The last day is before the first day. Swap them, or choose other dates.",
            "end",
        ),
        (
            "start=2026-13-01&end={early}",
            "Enter the first day as a date, like 2026-10-01.",
            "start",
        ),
        ("start=yesterday&end=today", "Enter the first day as a date, like 2026-10-01.", "start"),
        ("start={early}", "Enter the last day as a date, like 2026-10-31.", "end"),
        ("end={early}", "Enter the first day as a date, like 2026-10-01.", "start"),
        ("period=custom", "Enter the first and last day of the period.", "start"),
        (
            "start={early}&end={future}",
            "The last day is in the future. Choose today or an earlier day.",
            "end",
        ),
        ("start={ancient}&end={early}", "Choose a period of at most three years.", "start"),
        ("period=fortnight", "Choose a period from the list.", ""),
    ],
)
def test_a_bad_period_is_an_error_not_a_silent_default(manager_client, query, message, field):
    today = timezone.localdate()
    query = query.format(
        early=today - timedelta(days=20),
        late=today - timedelta(days=5),
        future=today + timedelta(days=3),
        ancient=today - timedelta(days=4 * 365),
    )
    response = manager_client.get(f"/kpis/?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "There is a problem with the dates" in html
    assert "period" not in response.context  # no numbers for some other period
    assert "Headline measures" not in html
    if field:
        assert f'id="{field}" name="{field}"' in html
        assert f'aria-describedby="{field}-error"' in html


def test_a_reversed_range_keeps_what_was_typed(manager_client):
    today = timezone.localdate()
    late, early = today - timedelta(days=5), today - timedelta(days=20)
    html = manager_client.get(f"/kpis/?start={late}&end={early}").content.decode()
    assert f'name="start" value="{late}"' in html
    assert f'name="end" value="{early}"' in html


def test_a_metric_with_no_data_shows_no_data(manager_client):
    recent_requests(4)
    roll_up_recent()
    html = manager_client.get("/kpis/").content.decode()
    assert "No data" in card(html, "fee_revenue")  # no payments at all
    assert "No data" in card(html, "median_days_to_issue")
    assert "No data" not in card(html, "requests_received").split("Previous period")[0]
    cards = all_cards(manager_client.get("/kpis/"))
    assert cards["fee_revenue"]["value"] is None
    assert cards["requests_received"]["value"] == 4


def test_the_dashboard_shows_every_metric_and_the_chosen_detail(manager_client):
    recent_requests(10)
    roll_up_recent()
    response = manager_client.get("/kpis/?metric=open_backlog")
    assert sorted(all_cards(response)) == sorted(m.key for m in METRICS)
    # The headline measures first, in their order.
    assert [c["metric"].key for c in response.context["headline"]] == HEADLINE
    assert response.context["metric"].key == "open_backlog"
    (aging,) = response.context["breakdowns"]
    assert aging["dimension"] == "aging"
    # 5 open requests (odd n), created 3 + n days ago: 4, 6 (0-7) and 8, 10, 12 (8-30).
    numbers = {row["code"]: row["number"] for row in aging["rows"]}
    assert numbers == {"0-7": 2.0, "8-30": 3.0, "31-90": 0.0, "90+": 0.0}
    names = {row["code"]: row["name"] for row in aging["rows"]}
    assert names["0-7"] == "Up to 7 days old"
    html = response.content.decode()
    assert "Download the data for Open reports (backlog) (CSV)" in html


def test_an_unknown_metric_falls_back_to_the_first_headline(manager_client):
    response = manager_client.get("/kpis/?metric=nonsense")
    assert response.context["metric"] == REGISTRY[HEADLINE[0]]


# --- Targets ---------------------------------------------------------------------------------------


def test_targets_on_and_off_track(manager_client, manager):
    today = timezone.localdate()
    category = make_category("pothole")
    # Two requests closed in the last 30 days: one on time after 2 days, one late after 6.
    for created_ago, days, due_in in [(10, 2, 5), (20, 6, 3)]:
        created = at(today - timedelta(days=created_ago))
        ServiceRequest.objects.create(
            category=category,
            description="Targets",
            created_at=created,
            closed_at=created + timedelta(days=days),
            resolve_due=(created + timedelta(days=due_in)).date(),
            status=RequestStatus.CLOSED,
        )
    roll_up_recent()
    # closed_within_sla = 1/2 = 50 % (up: 50 < 80 is off track);
    # median_days_to_close = (2 + 6) / 2 = 4 (down: 4 <= 5 is on track);
    # p90_days_to_close = ceil(0.9 * 2) = 2nd of [2, 6] = 6 (down: 6 > 3 is off track);
    # requests_closed = 2 (up: 2 >= 2 is on track).
    for key, target in [
        ("closed_within_sla", 80),
        ("median_days_to_close", 5),
        ("p90_days_to_close", 3),
        ("requests_closed", 2),
    ]:
        Target.objects.create(metric=key, target=target, set_by=manager)
    response = manager_client.get("/kpis/")
    cards = all_cards(response)
    assert cards["closed_within_sla"]["value"] == 50.0
    assert cards["median_days_to_close"]["value"] == 4.0
    assert cards["p90_days_to_close"]["value"] == 6.0
    html = response.content.decode()
    assert "Off track" in card(html, "closed_within_sla")
    assert "On track" not in card(html, "closed_within_sla")
    assert "On track" in card(html, "median_days_to_close")
    assert "Off track" not in card(html, "median_days_to_close")
    assert "Off track" in card(html, "p90_days_to_close")
    assert "On track" in card(html, "requests_closed")
    assert "Off track" not in card(html, "requests_closed")
    # No target, no verdict: it says so.
    assert "track" not in card(html, "reopen_rate")
    assert "No target set" in card(html, "reopen_rate")
    # Just short of the target (within 10 % of it) is at risk.
    Target.objects.filter(metric="closed_within_sla").update(target=54)
    assert "At risk" in card(manager_client.get("/kpis/").content.decode(), "closed_within_sla")


def test_a_target_without_data_says_so(manager_client, manager):
    Target.objects.create(metric="fee_revenue", target=1000, set_by=manager)
    html = manager_client.get("/kpis/").content.decode()
    fee = card(html, "fee_revenue")
    assert "No data" in fee
    assert "track" not in fee
    assert "At risk" not in fee


def test_a_target_for_one_dimension_value_is_not_the_citys(manager_client, manager):
    Target.objects.create(
        metric="requests_closed", dimension="category", value="pothole", target=1, set_by=manager
    )
    html = card(manager_client.get("/kpis/").content.decode(), "requests_closed")
    assert "· target" not in html
    assert "No target set" in html


# --- Query counts ----------------------------------------------------------------------------------


def test_dashboard_query_count_does_not_grow_with_data(
    manager_client, django_assert_max_num_queries
):
    recent_requests(5)
    roll_up_recent()
    manager_client.get("/kpis/")  # warm up: the session, the content types
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        assert manager_client.get("/kpis/").status_code == 200
    ServiceRequest.objects.all().delete()
    recent_requests(200)
    roll_up_recent()
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = manager_client.get("/kpis/?metric=requests_received")
    assert response.status_code == 200
    assert all_cards(response)["requests_received"]["value"] == 200
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        assert manager_client.get("/kpis/?period=year&metric=open_backlog").status_code == 200


# --- The public performance page -------------------------------------------------------------------


@pytest.fixture
def published():
    settings_row = PerformanceSettings.current()
    settings_row.public_metrics = ["median_days_to_close", "requests_received", "no_such_metric"]
    settings_row.save()
    return settings_row


def _names(html: str) -> list[str]:
    return re.findall(r'<h2 id="measure-[a-z_0-9]+">(.*?)</h2>', html)


def test_performance_page_shows_only_the_published_metrics(client, published):
    recent_requests(4)
    roll_up_recent()
    response = client.get("/performance/")
    assert response.status_code == 200
    # In the chosen order; an unknown key is skipped.
    assert _names(response.content.decode()) == ["Median days to close", "Requests received"]
    assert [item["metric"].key for item in response.context["items"]] == [
        "median_days_to_close",
        "requests_received",
    ]
    items = {item["metric"].key: item for item in response.context["items"]}
    assert items["requests_received"]["value"] == 4
    assert items["requests_received"]["previous"] is None  # nothing 91-180 days ago
    html = response.content.decode()
    assert "Fee revenue" not in html
    assert REGISTRY["fee_revenue"].definition_en not in html


def test_performance_page_in_spanish(client, published):
    recent_requests(4)
    roll_up_recent()
    response = client.get("/es/performance/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _names(html) == ["Mediana de días para cerrar", "Reportes recibidos"]
    assert REGISTRY["requests_received"].definition_es in html
    assert "Requests received" not in html
    assert REGISTRY["requests_received"].definition_en not in html
    assert "Ingresos por tarifas" not in html


def test_performance_page_in_spanish_is_spanish_throughout(client, published):
    """Not only the metric names: the page's own words and units are Spanish under /es/."""
    recent_requests(4)
    roll_up_recent()
    html = client.get("/es/performance/").content.decode()
    for english in ("How the city is doing", "The 90 days before", "compared with", "No data"):
        assert english not in html, english
    assert not re.search(r"\d days<", html)  # "2,0 days": the unit stayed English


def test_performance_page_with_nothing_published(client):
    response = client.get("/performance/")
    assert response.status_code == 200
    assert _names(response.content.decode()) == []


def test_performance_page_query_count_is_pinned(client, published, django_assert_max_num_queries):
    recent_requests(5)
    roll_up_recent()
    client.get("/performance/")
    with django_assert_max_num_queries(PERFORMANCE_QUERIES):
        assert client.get("/performance/").status_code == 200
    recent_requests(200)
    roll_up_recent()
    for url in ("/performance/", "/es/performance/"):
        with django_assert_max_num_queries(PERFORMANCE_QUERIES):
            assert client.get(url).status_code == 200


def test_rollups_are_all_the_pages_read(manager_client, client, published):
    """With the raw rows gone, the pages still show the rolled-up numbers."""
    recent_requests(6)
    roll_up_recent()
    ServiceRequest.objects.all().delete()
    assert DailyRollup.objects.exists()
    assert all_cards(manager_client.get("/kpis/"))["requests_received"]["value"] == 6
    items = {i["metric"].key: i for i in client.get("/performance/").context["items"]}
    assert items["requests_received"]["value"] == 6


def test_targets_per_dimension_value_show_in_the_breakdown(manager_client):
    recent_requests(3)
    today = timezone.localdate()
    rollup_days(start=today - timedelta(days=40), end=today)
    category = ServiceCategory.objects.first()
    Target.objects.create(
        metric="requests_received", dimension="category", value=category.code, target=17
    )
    page = manager_client.get("/kpis/?period=month&metric=requests_received").content.decode()
    # The row is named for people (the category's name, not its code).
    name = re.escape(category.name_en)
    row = re.search(rf"<th scope=\"row\">{name}</th>.*?</tr>", page, re.S).group(0)
    assert "<td>17</td>" in row


def test_charts_draw_the_same_in_spanish(manager_client):
    """Coordinates are numbers for the browser, never "117,0": only the words are Spanish."""
    recent_requests(12)
    roll_up_recent()
    for url in ("/es/kpis/?period=quarter&metric=closed_within_sla", "/es/kpis/print/"):
        html = manager_client.get(url).content.decode()
        assert 'class="cityhall-chart__svg"' in html
        coordinates = re.findall(r'\s(?:x|y|x1|x2|y1|y2|cx|cy|width|height)="([^"]*)"', html)
        assert coordinates
        assert not [c for c in coordinates if "," in c]
        assert "Último valor" in html  # the description is Spanish
