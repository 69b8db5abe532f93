"""What a real installation must never do: load the demo, let the demo password in, write
secrets to its access log, or leave browser features and CSP violations unwatched."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory

from cityhall.gunicorn_conf import redact
from code_enforcement.tests.factories import ensure_city, submit
from tests.personas import make_resident

pytestmark = pytest.mark.django_db


def test_demo_data_is_refused_under_production_settings(settings):
    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError, match="production"):
        call_command("load_demo")


def test_the_published_demo_password_opens_nothing_in_production(settings):
    user = make_resident("demo.left.behind@example.com")
    user.set_password(settings.DEMO_PASSWORD)
    user.save()
    request = RequestFactory().post("/accounts/login/")
    request.session = {}
    found = authenticate(request, username=user.email, password=settings.DEMO_PASSWORD)
    assert found == user
    settings.DEMO_DATA_ALLOWED = False
    assert authenticate(request, username=user.email, password=settings.DEMO_PASSWORD) is None
    response = Client().post(
        "/accounts/login/", {"login": user.email, "password": settings.DEMO_PASSWORD}
    )
    assert "_auth_user_id" not in Client().session and response.status_code == 200


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("POST /open311/v2/requests.json?api_key=k3y-s3cret&x=1", "k3y-s3cret"),
        ("GET /requests/AB12CD34/?key=reporter-secret", "reporter-secret"),
        ("GET /alerts/unsubscribe/eyJjIjoiZW1haWwi:1xX:sig/", "eyJjIjoiZW1haWwi"),
        ("GET /es/alerts/subscribe/code/signed.token:here/", "signed.token"),
        ("GET /accounts/confirm-email/MjA:1xX:abc/", "MjA:1xX"),
    ],
)
def test_secrets_never_reach_the_access_log(line, secret):
    cleaned = redact(line)
    assert secret not in cleaned and "[redacted]" in cleaned


def test_a_key_in_a_tracking_link_leaves_the_address_bar():
    ensure_city()
    request, secret = submit()
    client = Client()
    response = client.get(f"/requests/{request.public_id}/?key={secret}")
    assert response.status_code == 302 and response["Location"] == f"/requests/{request.public_id}/"
    assert 'name="action" value="info"' in client.get(response["Location"]).content.decode()


def test_every_page_switches_off_the_features_it_does_not_use():
    response = Client().get("/")
    policy = response["Permissions-Policy"]
    assert "camera=()" in policy and "microphone=()" in policy and "geolocation=(self)" in policy
    assert "report-uri /csp-report/" in response["Content-Security-Policy"]


def test_csp_violations_are_collected_and_logged(caplog):
    report = {
        "csp-report": {
            "document-uri": "https://cityhall.example/report/",
            "violated-directive": "script-src",
            "blocked-uri": "https://evil.example/x.js",
        }
    }
    with caplog.at_level(logging.WARNING, logger="cityhall.security"):
        response = Client().post(
            "/csp-report/", json.dumps(report), content_type="application/csp-report"
        )
    assert response.status_code == 204
    assert "evil.example/x.js" in caplog.text and "script-src" in caplog.text
    assert (
        Client().post("/csp-report/", "not json", content_type="application/json").status_code
        == 400
    )
