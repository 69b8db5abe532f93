"""Sensitive console actions ask for a fresh second factor when the last code is more than 15
minutes old: denying or revoking a permit, publishing or cancelling an alert, any deletion, and
any change to a second-factor device. A stolen, still-open session cannot do them; the staff
member who was asked loses nothing they typed."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.messages import get_messages
from django_otp.plugins.otp_totp.models import TOTPDevice

from alerts.tests.factories import make_alert
from cityhall.models import Neighborhood
from cityhall.roles import Role
from permits.tests.factories import make_application
from tests.personas import give_totp_device, make_staff, totp_code, verified_client

pytestmark = pytest.mark.django_db


def _superuser(email):
    user = make_staff(Role.CITY_ADMINISTRATOR, email)
    user.is_superuser = True
    user.save()
    return user


def _stale(client):
    session = client.session
    session["otp_verified_at"] = int(time.time()) - 16 * 60
    session.save()
    return client


def _asks_for_code(response, back: str) -> None:
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == "/console/verify/"
    query = parse_qs(location.query)
    assert query["again"] == ["1"] and query["next"] == [back]


def test_a_stale_session_cannot_deny_a_permit_and_keeps_the_reason(alice):
    reviewer = make_staff(Role.PLAN_REVIEWER, "reviewer2@riverbend.example")
    application = make_application(alice, status="in_review")
    client = _stale(verified_client(reviewer))
    page = f"/console/permits/application/{application.pk}/change/"
    reason = "The setback is 2 feet short of the 5 feet the zoning code requires."
    response = client.post(
        f"/console/permits/application/{application.pk}/act/deny/", {"reason": reason}
    )
    _asks_for_code(response, page)
    application.refresh_from_db()
    assert application.status == "in_review"
    shown = client.get(page).content.decode()
    assert reason in shown and "needs a fresh code" in shown

    # The code page explains why it asks again; a right code comes back to the permit.
    device = TOTPDevice.objects.get(user=reviewer)
    asked = client.get(response["Location"])
    assert "Confirm it is you" in asked.content.decode()
    assert "more than 15 minutes ago" in asked.content.decode()
    back = client.post(response["Location"], {"otp_token": totp_code(device)})
    assert back.status_code == 302 and back["Location"] == page
    client.post(
        f"/console/permits/application/{application.pk}/act/deny/",
        {"reason": reason, "confirmed": "yes"},
    )
    application.refresh_from_db()
    assert application.status == "denied"


def test_a_stale_session_cannot_publish_an_alert():
    officer = make_staff(Role.COMMUNICATIONS_OFFICER, "comms2@riverbend.example")
    alert = make_alert(status="draft")
    client = _stale(verified_client(officer))
    response = client.post(f"/console/alerts/alert/{alert.pk}/act/publish/")
    _asks_for_code(response, f"/console/alerts/alert/{alert.pk}/change/")
    alert.refresh_from_db()
    assert alert.status == "draft"


def test_a_fresh_session_is_not_asked_again(alice):
    reviewer = make_staff(Role.PLAN_REVIEWER, "reviewer3@riverbend.example")
    application = make_application(alice, status="in_review")
    client = verified_client(reviewer)  # the code was just entered
    client.post(
        f"/console/permits/application/{application.pk}/act/deny/",
        {"reason": "Outside the city.", "confirmed": "yes"},
    )
    application.refresh_from_db()
    assert application.status == "denied"


def test_a_stale_session_cannot_delete_a_record():
    admin = _superuser("admin2@riverbend.example")
    box = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    place = Neighborhood.objects.create(name="Test Flats", slug="test-flats", boundary=box)
    client = _stale(verified_client(admin))
    url = f"/console/cityhall/neighborhood/{place.pk}/delete/"
    _asks_for_code(client.post(url, {"post": "yes"}), url)
    assert Neighborhood.objects.filter(pk=place.pk).exists()
    # Bulk deletion from the list too.
    listing = "/console/cityhall/neighborhood/"
    response = client.post(
        listing, {"action": "delete_selected", "_selected_action": [place.pk], "post": "yes"}
    )
    _asks_for_code(response, listing)
    assert Neighborhood.objects.filter(pk=place.pk).exists()


def test_a_stale_session_cannot_remove_a_second_factor_device():
    admin = _superuser("admin3@riverbend.example")
    clerk = make_staff(Role.PERMIT_TECHNICIAN, "clerk3@riverbend.example")
    device = give_totp_device(clerk)
    client = _stale(verified_client(admin))
    url = f"/console/otp_totp/totpdevice/{device.pk}/delete/"
    _asks_for_code(client.post(url, {"post": "yes"}), url)
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    # Fresh: the deletion goes through.
    session = client.session
    session["otp_verified_at"] = int(time.time())
    session.save()
    client.post(url, {"post": "yes"})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not [m for m in get_messages(client.get("/console/").wsgi_request) if "fresh" in str(m)]
