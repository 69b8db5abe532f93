"""Download my data: everything kept about the person who asks, nothing of anyone else."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.test import Client

from alerts.delivery import notify
from alerts.tests.factories import make_subscription, make_topic
from cityhall.roles import Role
from code_enforcement.models import Follower
from code_enforcement.services.photos import photo_add_to_draft
from code_enforcement.tests.factories import jpeg_upload, make_request
from permits import services as permit_services
from permits.tests.factories import factory_staff, make_application, pdf_upload
from tests.personas import PASSWORD, make_resident, signed_in_client

pytestmark = pytest.mark.django_db

URL = "/me/data/"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _world(email: str, *, language: str, words: str):
    """A resident with an application and its document, a report with a photo, a followed
    report, an alert subscription and an inbox message, each marked with `words`."""
    person = make_resident(email, language=language, first_name=words)
    application = make_application(person, description=f"{words} porch")
    permit_services.document_add(
        application=application, actor=person, uploaded=pdf_upload(f"{words}-plan.pdf")
    )
    application = permit_services.application_submit(application=application, actor=person)
    _photo, _gps = photo_add_to_draft(draft_token=f"draft{words}", uploaded=jpeg_upload())
    report = make_request(
        reporter=person,
        description=f"{words} pothole",
        contact_email=email,
        draft_token=f"draft{words}",
    )
    followed = make_request(description="Someone else's streetlight", address="9 Elm Street")
    Follower.objects.create(request=followed, user=person)
    make_subscription([make_topic(f"topic-{words.lower()}")], user=person)
    notify(
        user=person,
        template="permit_notice",
        context={"event": "submitted", "application": application},
    )
    return person, application, report


def _download(client: Client, password: str = PASSWORD):
    return client.post(URL, {"password": password})


def _unzip(response) -> tuple[dict, zipfile.ZipFile]:
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="city-hall-my-data-')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return json.loads(archive.read("my-data.json")), archive


def test_the_zip_holds_everything_of_mine_and_nothing_of_anyone_else():
    mine, application, report = _world("rosa@example.com", language="es", words="Rosa")
    _other, other_application, other_report = _world(
        "omar@example.com", language="en", words="Omar"
    )
    # A note staff wrote for staff: never the resident's to download.
    permit_services.application_note(
        application=application,
        actor=factory_staff(Role.PERMIT_TECHNICIAN),
        text="Check the setback",
    )

    data, archive = _unzip(_download(signed_in_client(mine)))
    names = archive.namelist()
    text = json.dumps(data, ensure_ascii=False) + " ".join(names)

    assert data["profile"]["email"] == "rosa@example.com"
    assert "password" not in data["profile"]
    (app,) = data["permit_applications"]
    assert app["number"] == application.number and app["description"] == "Rosa porch"
    document = next(d for d in app["documents"] if d["original_name"] == "Rosa-plan.pdf")
    assert archive.read(document["file"]).startswith(b"%PDF")
    (reported,) = data["reports"]
    assert reported["public_id"] == report.public_id and reported["description"] == "Rosa pothole"
    (photo,) = reported["photos"]
    assert archive.read(photo["file"])[:2] == b"\xff\xd8"  # a JPEG
    assert [f["report"] for f in data["reports_followed"]] == [
        Follower.objects.get(user=mine).request.public_id
    ]
    assert data["alert_subscription"]["topics"] == ["topic-rosa"]
    assert any(application.number in m["subject"] for m in data["messages"])
    # The README is in the resident's language.
    assert (
        "Sus datos" in archive.read("README.txt").decode()
        or "Your data" not in archive.read("README.txt").decode()
    )

    for theirs in ("omar@example.com", "Omar", other_application.number, other_report.public_id):
        assert theirs not in text, theirs
    assert "Check the setback" not in text
    assert "reporter_secret" not in text


def test_the_password_is_asked_first():
    person, _application, _report = _world("rosa@example.com", language="en", words="Rosa")
    client = signed_in_client(person)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Download my data" in page.content.decode()
    wrong = _download(client, "not my password")
    assert wrong.status_code == 400
    assert "That is not your password." in wrong.content.decode()
    assert not hasattr(wrong, "streaming_content")


def test_signed_out_visitors_are_sent_to_sign_in():
    response = Client().get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_my_city_hall_links_to_it():
    person = make_resident("rosa@example.com")
    assert 'href="/me/data/"' in signed_in_client(person).get("/me/").content.decode()


def test_password_tries_are_limited(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "my_data": {"ip": "2/h"}}
    from django.core.cache import cache

    cache.clear()
    client = signed_in_client(make_resident("rosa@example.com"))
    assert [_download(client, "guess").status_code for _ in range(2)] == [400, 400]
    limited = client.post("/me/delete/", {"password": "guess", "understood": "on"})
    assert limited.status_code == 429
    assert "Too many attempts" in limited.content.decode()
    assert limited["Retry-After"]
