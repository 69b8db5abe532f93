"""The dashboard's numbers are computed from the roll-ups once per roll-up run, then read from
Redis: the second view decodes no roll-up rows; a new run shows new numbers at once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityhall.roles import Role
from kpis.rollups import _numbers_changed, rollup_days
from tests.personas import make_staff, verified_client

from .test_views import recent_requests

pytestmark = pytest.mark.django_db
NONCE = re.compile(r'(nonce|value)="[A-Za-z0-9_+/=-]{20,}"')


def _view(client) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/kpis/")
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries]


def test_numbers_are_read_from_redis_until_the_next_roll_up(
    settings, django_capture_on_commit_callbacks
):
    manager_client = verified_client(make_staff(Role.MANAGER))
    settings.KPI_NUMBERS_SECONDS = 3600
    _numbers_changed()  # nothing computed by another test
    today = timezone.localdate()
    recent_requests(6)
    with django_capture_on_commit_callbacks(execute=True):
        rollup_days(start=today - timedelta(days=30), end=today)

    first, first_queries = _view(manager_client)
    second, second_queries = _view(manager_client)
    assert any("kpis_dailyrollup" in sql for sql in first_queries)
    assert not any("kpis_dailyrollup" in sql for sql in second_queries)
    # The same page from the stored numbers (only the CSP nonce and CSRF token differ).
    assert NONCE.sub("", second) == NONCE.sub("", first)

    recent_requests(12)
    with django_capture_on_commit_callbacks(execute=True):
        rollup_days(start=today - timedelta(days=30), end=today)
    _third, third_queries = _view(manager_client)
    assert any("kpis_dailyrollup" in sql for sql in third_queries)
