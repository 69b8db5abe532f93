"""Private (sensitive) categories: a neighbour's noise complaint or a substandard-housing report
is nobody else's business. Each test is named after what it stops."""

from __future__ import annotations

import pytest
from django.test import Client

from cityhall.roles import Role
from code_enforcement import services
from code_enforcement.models import RequestEvent, RequestPhoto
from code_enforcement.tests.factories import (
    ensure_city,
    jpeg_upload,
    make_category,
    make_request,
    staff,
    submit,
)
from tests.personas import signed_in_client, verified_client

pytestmark = pytest.mark.django_db

DETAILS = "Loud parties every night at 41 Elm Street, upstairs unit"


@pytest.fixture
def noise(db):
    ensure_city()
    return make_category("noise", sensitive=True)


@pytest.fixture
def complaint(noise):
    request, secret = submit(noise, description=DETAILS, address="41 Elm Street")
    content, _gps = services.photo_clean(jpeg_upload())
    photo = RequestPhoto(request=request)
    photo.image.save("photo.jpg", content, save=True)
    return request, secret, photo


def _page(client, request, query=""):
    response = client.get(f"/requests/{request.public_id}/{query}", follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_a_stranger_sees_only_the_reference_kind_and_status(complaint, bob):
    request, _secret, photo = complaint
    for client in (Client(), signed_in_client(bob)):
        page = _page(client, request)
        assert request.public_id in page and "Received" in page
        assert DETAILS not in page and "41 Elm Street" not in page
        assert f"/photos/{photo.pk}.jpg" not in page
        assert "This kind of report is private" in page
        url = f"/requests/{request.public_id}/photos/{photo.pk}.jpg"
        assert client.get(url).status_code == 404


def test_the_reporter_and_staff_still_see_everything(complaint):
    request, secret, photo = complaint
    page = _page(Client(), request, f"?key={secret}")
    assert DETAILS in page and "41 Elm Street" in page
    supervisor = verified_client(staff(Role.CODE_SUPERVISOR))
    assert DETAILS in _page(supervisor, request)
    assert supervisor.get(f"/requests/{request.public_id}/photos/{photo.pk}.jpg").status_code == 200


def test_open311_never_lists_or_serves_a_private_request(complaint, client):
    request, _secret, _photo = complaint
    listed = client.get("/open311/v2/requests.json").json()
    assert request.public_id not in {item["service_request_id"] for item in listed}
    assert client.get(f"/open311/v2/requests/{request.public_id}.json").status_code == 404
    assert client.get(f"/open311/v2/tokens/{request.public_id}.json").status_code == 404


def test_the_report_wizard_never_offers_a_private_report_to_follow(complaint, noise, client):
    request, _secret, _photo = complaint
    client.post("/report/", {"category": noise.pk})
    client.post(
        "/report/location/",
        {"address": "", "latitude": str(request.latitude), "longitude": str(request.longitude)},
    )
    client.post("/report/details/", {"description": "Music again tonight"})
    session = client.session
    draft = session["report"]
    draft.update(latitude=request.latitude, longitude=request.longitude, description="Again")
    session["report"] = draft
    session.save()
    page = client.get("/report/review/").content.decode()
    assert request.public_id not in page
    response = client.post("/report/review/", {"follow": request.public_id})
    assert response.status_code == 404


def test_what_a_reporter_adds_stays_private_until_staff_publish_it(alice):
    ensure_city()
    request = make_request(reporter=alice)
    services.request_add_info(request=request, text="The hole is now 30 cm deep", actor=alice)
    assert "30 cm deep" not in _page(Client(), request)
    assert "30 cm deep" in _page(signed_in_client(alice), request)
    event = RequestEvent.objects.get(kind="info_added")
    supervisor = verified_client(staff(Role.CODE_SUPERVISOR))
    console = f"/console/code_enforcement/servicerequest/{request.pk}/change/"
    assert 'form="act-publish"' in supervisor.get(console).content.decode()
    supervisor.post(
        f"/console/code_enforcement/servicerequest/{request.pk}/act/publish_event/",
        {"event": event.pk},
    )
    assert "30 cm deep" in _page(Client(), request)
    # A role that cannot triage cannot publish.
    officer = verified_client(staff(Role.COMMUNICATIONS_OFFICER))
    other = RequestEvent.objects.create(request=request, kind="info_added", public=False, text="x")
    response = officer.post(
        f"/console/code_enforcement/servicerequest/{request.pk}/act/publish_event/",
        {"event": other.pk},
    )
    assert response.status_code == 403
    assert not RequestEvent.objects.get(pk=other.pk).public
