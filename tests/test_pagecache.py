"""Public pages are rendered once and served from Redis to anonymous visitors: each response with
its own CSP nonce, per language, never to someone signed in, and a change they show (an
emergency alert) reaches the next visitor at once."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from alerts import services as alert_services
from alerts.constants import Severity
from alerts.tests.factories import make_alert, make_topic
from cityhall.pagecache import _next_generation
from tests.personas import signed_in_client

pytestmark = pytest.mark.django_db

NONCE = re.compile(r'nonce="([^"]+)"')


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PUBLIC_PAGE_SECONDS = 60
    _next_generation()  # nothing stored by an earlier test is served here


def _get(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries.captured_queries)


@pytest.mark.parametrize(
    "url", ["/", "/es/", "/alerts/", "/permits/", "/performance/", "/permits/search/?q=Oak"]
)
def test_the_second_visitor_gets_the_stored_page_with_a_nonce_of_its_own(url):
    first, _queries = _get(Client(), url)
    second, queries = _get(Client(), url)
    assert queries == 0
    nonces = [NONCE.findall(r.content.decode()) for r in (first, second)]
    assert nonces[0] and nonces[1]
    assert set(nonces[0]).isdisjoint(nonces[1])  # never the last visitor's nonce
    for response, found in zip((first, second), nonces, strict=True):
        assert f"'nonce-{found[0]}'" in response["Content-Security-Policy"]
    strip = lambda r: NONCE.sub("", r.content.decode())  # noqa: E731
    assert strip(first) == strip(second)


def test_each_language_has_its_own_copy():
    _get(Client(), "/alerts/")
    spanish, _ = _get(Client(), "/es/alerts/")
    assert 'lang="es"' in spanish.content.decode()
    again, queries = _get(Client(), "/es/alerts/")
    assert queries == 0 and 'lang="es"' in again.content.decode()
    assert 'lang="en"' in _get(Client(), "/alerts/")[0].content.decode()


def test_an_emergency_alert_reaches_the_next_visitor_at_once(
    admin_user, django_capture_on_commit_callbacks
):
    _get(Client(), "/")
    _get(Client(), "/")  # stored
    alert = make_alert(
        topic=make_topic("safety"),
        severity=Severity.EXTREME,
        title_en="Evacuate the river district now",
    )
    with django_capture_on_commit_callbacks(execute=True):
        alert_services.alert_publish(alert=alert, actor=admin_user)
    page, queries = _get(Client(), "/")
    assert queries > 0
    assert "Evacuate the river district now" in page.content.decode()


def test_someone_signed_in_never_gets_a_stored_page(alice):
    _get(Client(), "/")
    mine, queries = _get(signed_in_client(alice), "/")
    assert queries > 0
    assert "Sign out" in mine.content.decode()


def test_a_visitor_with_a_message_waiting_gets_a_fresh_page():
    _get(Client(), "/permits/")
    visitor = Client()
    visitor.cookies["messages"] = "pending"
    _response, queries = _get(visitor, "/permits/")
    assert queries > 0


@pytest.mark.parametrize(
    "url", ["/requests/map.json", "/open311/v2/requests.json", "/requests/map/?page=1"]
)
def test_map_data_and_open311_lists_are_stored_too(url):
    first, _ = _get(Client(), url)
    second, queries = _get(Client(), url)
    assert queries == 0
    assert NONCE.sub("", second.content.decode()) == NONCE.sub("", first.content.decode())


def test_made_up_query_strings_are_not_stored():
    url = "/alerts/?" + "x=1&" * 60
    _get(Client(), url)
    _response, queries = _get(Client(), url)
    assert queries > 0


def test_a_permit_type_edit_replaces_the_stored_permits_page(django_capture_on_commit_callbacks):
    from permits.tests.factories import make_permit_type

    _get(Client(), "/permits/")
    with django_capture_on_commit_callbacks(execute=True):
        make_permit_type("SGN", name_en="Sidewalk café seating")
    page, queries = _get(Client(), "/permits/")
    assert queries > 0
    assert "Sidewalk café seating" in page.content.decode()
