"""Console lists built for a city's size: their first page is read off an index in the order
shown (never a sort of the whole table), counts are bounded, person filters list staff only,
and the permit search keeps every condition on the permits table."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cityhall.console import EstimatedCountPaginator
from cityhall.roles import Role
from code_enforcement.models import ServiceRequest
from code_enforcement.tests.factories import make_request
from permits.tests.factories import make_application, make_permit_type
from tests.personas import make_resident, make_staff, verified_client

pytestmark = pytest.mark.django_db

REQUESTS = "/console/code_enforcement/servicerequest/"
PERMITS = "/console/permits/application/"


def _page_query(client, url: str, table: str) -> str:
    """The SQL of the list's page (the ordered query over `table`)."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    pages = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and f'FROM "{table}"' in q["sql"]
        and "ORDER BY" in q["sql"]
        and "COUNT(" not in q["sql"]
    ]
    assert pages, [q["sql"][:120] for q in queries.captured_queries]
    return pages[0]


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        # Whatever the table's size: a plan that needs a Sort node means no index gives this
        # order, and at a million rows that sort is the whole page's time.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_sort")
        cursor.execute("RESET enable_seqscan")
    return plan


@pytest.fixture
def reports():
    return [make_request() for _ in range(3)]


@pytest.mark.parametrize("query", ["", "?state=new", "?state=all"])
def test_the_triage_queue_is_read_in_index_order(admin_user, reports, query):
    client = verified_client(admin_user)
    plan = _plan(_page_query(client, REQUESTS + query, "code_enforcement_servicerequest"))
    assert "Sort" not in plan, plan
    assert "queue_order" in plan, plan


@pytest.mark.parametrize("query", ["", "?state=all"])
def test_the_permits_list_is_read_in_index_order(admin_user, alice, query):
    make_application(alice, make_permit_type("BLD"), status="submitted")
    client = verified_client(admin_user)
    plan = _plan(_page_query(client, PERMITS + query, "permits_application"))
    assert "Sort" not in plan, plan
    assert "application_queue_order" in plan, plan


def test_the_permit_search_matches_the_applicants_email_without_a_join(admin_user, alice):
    building = make_permit_type("BLD")
    mine = make_application(alice, building, status="submitted", address="12 Quince Lane")
    bob = make_resident("bob@example.com")
    other = make_application(bob, building, status="submitted", address="40 Oak Street")
    client = verified_client(admin_user)

    def found(term: str) -> set[str]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(PERMITS, {"q": term, "state": "all"}).content.decode()
        page_sql = [
            q["sql"]
            for q in queries.captured_queries
            if 'FROM "permits_application"' in q["sql"] and "ORDER BY" in q["sql"]
        ]
        assert page_sql and all('JOIN "cityhall_user" ON' not in sql.split("WHERE")[0]
                                or "applicant" not in sql for sql in page_sql)  # fmt: skip
        return {number for number in (mine.number, other.number) if number in page}

    assert found("alice@example") == {mine.number}
    assert found("oak street") == {other.number}
    assert found(other.number) == {other.number}
    assert found("quince alice") == {mine.number}  # every word must match somewhere
    assert found("quince bob") == set()


def test_counts_are_exact_when_small_and_estimated_when_large(reports):
    rows = ServiceRequest.objects.all()
    assert EstimatedCountPaginator(rows, 50).count == 3

    class Tiny(EstimatedCountPaginator):
        EXACT_UP_TO = 1

    with CaptureQueriesContext(connection) as queries:
        estimated = Tiny(rows, 50).count
    assert estimated >= 2  # at least what the bounded count saw
    assert any(q["sql"].startswith("EXPLAIN") for q in queries.captured_queries)
    assert not any(
        "COUNT(*)" in q["sql"] and "LIMIT" not in q["sql"] for q in queries.captured_queries
    )


def test_the_assignee_filter_lists_staff_not_residents(admin_user, reports):
    inspector = make_staff(Role.CODE_INSPECTOR, "ines@riverbend.example")
    make_resident("rosa.resident@example.com", first_name="Rosa", last_name="Resident")
    page = verified_client(admin_user).get(REQUESTS).content.decode()
    assert inspector.display_name in page
    assert "Rosa Resident" not in page
