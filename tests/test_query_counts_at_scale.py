"""Every page `make bench-scale` measures makes as many SQL queries at 10x the data as at 1x.

One test: the demo, then the benchmark dataset at SMALL, a count of each page's queries (one
warm-up request first, as `manage.py bench_scale_queries` does), a rebuild at LARGE, the same
count again. The records a page shows (the newest generated permit and report, the subscribed
resident with the most permits) are picked again from each build.
"""

from __future__ import annotations

import re
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cityhall.benchscale import Plan
from cityhall.benchscale.dataset import DOMAIN, recorded_ranges
from cityhall.models import User
from code_enforcement.models import ServiceRequest
from permits.constants import Status
from permits.models import Application
from tests.personas import signed_in_client, verified_client

pytestmark = pytest.mark.django_db

SMALL = 0.0005
LARGE = 10 * SMALL


def generated(model):
    """The rows of `model` the current build made (by the id range it recorded)."""
    lo, hi, _count = recorded_ranges()[model._meta.db_table]
    return model.objects.filter(pk__range=(lo, hi))


def pages() -> dict[str, tuple[str, str | None]]:
    """{name: (path, who)} for the current build; who is None, "resident" or "admin"."""
    permit = (
        generated(Application)
        .filter(status=Status.IN_REVIEW)
        .order_by("-submitted_at", "-pk")
        .first()
    ) or generated(Application).exclude(number=None).order_by("-pk").first()
    report = (
        generated(ServiceRequest)
        .filter(category__sensitive=False, duplicate_of__isnull=True)
        .order_by("-pk")
        .first()
    )
    own_permit = (
        generated(Application)
        .filter(applicant=resident())
        .exclude(number=None)
        .order_by("-pk")
        .first()
    )
    return {
        "/": ("/", None),
        "/es/": ("/es/", None),
        "/alerts/": ("/alerts/", None),
        "/permits/": ("/permits/", None),
        "/permits/search/?q=Oak Street": ("/permits/search/?q=Oak+Street", None),
        "/requests/map/": ("/requests/map/", None),
        "/requests/map.json": ("/requests/map.json", None),
        "/open311/v2/requests.json": ("/open311/v2/requests.json", None),
        "/performance/": ("/performance/", None),
        "tracking page": (reverse("code_enforcement:track", args=[report.public_id]), None),
        "/me/ (resident)": ("/me/", "resident"),
        "resident's permit": (reverse("permits:detail", args=[own_permit.number]), "resident"),
        "console: My work": ("/console/", "admin"),
        "console: permits": ("/console/permits/application/", "admin"),
        "console: permits ?state=in_review": (
            "/console/permits/application/?state=in_review",
            "admin",
        ),
        "console: permits ?overdue=yes": ("/console/permits/application/?overdue=yes", "admin"),
        "console: triage ?state=new": (
            "/console/code_enforcement/servicerequest/?state=new",
            "admin",
        ),
        "console: permit": (f"/console/permits/application/{permit.pk}/change/", "admin"),
        "console: request": (
            f"/console/code_enforcement/servicerequest/{report.pk}/change/",
            "admin",
        ),
        "/kpis/": ("/kpis/", "admin"),
        "/kpis/?period=year": ("/kpis/?period=year", "admin"),
    }


def resident() -> User:
    """The generated resident with the most permit applications, among those subscribed to
    alerts by email: the busiest /me/ page, with every section filled at either size (a
    subscription adds its own few queries, whatever the size)."""
    return (
        User.objects.filter(
            email__endswith=f"@{DOMAIN}", is_staff=False, alert_subscription__by_email=True
        )
        .annotate(permits=Count("applications"))
        .order_by("-permits", "pk")
        .first()
    )


def busiest() -> str:
    user = resident()
    return f"{user.applications.count()} permits, {user.service_requests.count()} reports"


def get(client: Client, path: str):
    response = client.get(path)
    if response.streaming:
        b"".join(response.streaming_content)  # the queries of a stream run as it is read
    return response


def count_queries() -> dict[str, tuple[int, list[str]]]:
    """{page: (status, SQL of its second request)} over the current build."""
    clients = {
        None: Client(),
        "resident": signed_in_client(resident()),
        "admin": verified_client(User.objects.get(email="admin@riverbend.example")),
    }
    counted = {}
    for name, (path, who) in pages().items():
        client = clients[who]
        get(client, path)  # warm caches, the session
        with CaptureQueriesContext(connection) as queries:
            status = get(client, path).status_code
        counted[name] = (status, [q["sql"] for q in queries.captured_queries])
    return counted


def shape(sql: str) -> str:
    """A query with its literals blanked, so the same query for another row looks the same."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    return re.sub(r"\b\d+(\.\d+)?\b", "?", sql)[:300]


def repeats(small: list[str], large: list[str]) -> list[str]:
    """The query shapes run more often at the larger size."""
    few, many = Counter(map(shape, small)), Counter(map(shape, large))
    return [f"  {few[s]} -> {n}x {s}" for s, n in many.items() if n > few[s]]


def test_no_page_makes_more_queries_when_the_data_grows_tenfold(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", stdout=StringIO())
    call_command("bench_scale_data", scale=SMALL, stdout=StringIO())
    small, small_resident = count_queries(), busiest()
    call_command("bench_scale_data", scale=LARGE, stdout=StringIO())
    assert generated(ServiceRequest).count() == Plan.at(LARGE).requests
    large, large_resident = count_queries(), busiest()

    table = [f"{'page':<40}{'status':>8}{SMALL:>10g}{LARGE:>10g}"]
    for name in small:
        table.append(
            f"{name:<40}{small[name][0]!s:>4}/{large[name][0]!s:<3}"
            f"{len(small[name][1]):>10}{len(large[name][1]):>10}"
        )
    table.append(f"resident at {SMALL:g}: {small_resident}; at {LARGE:g}: {large_resident}")
    report = "\n".join(table)
    print(report)
    broken = {name: (small[name][0], large[name][0]) for name in small}
    assert all(s == 200 and b == 200 for s, b in broken.values()), report
    grows = [
        "\n".join([f"{name}:", *repeats(small[name][1], large[name][1])])
        for name in small
        if len(large[name][1]) != len(small[name][1])
    ]
    assert not grows, report + "\n\n" + "\n".join(grows)
