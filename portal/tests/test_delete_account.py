"""Delete my account: what is only the person's goes, what the city must keep stays without
them, and nothing of anyone else changes."""

from __future__ import annotations

import os

import pytest
from django.test import TestCase

from alerts.models import Notification, Subscription
from cityhall.models import User
from cityhall.roles import Role
from code_enforcement.models import Follower, ServiceRequest
from permits import services as permit_services
from permits.models import Application, Document
from permits.tests.factories import make_application, pdf_upload
from portal.tests.test_my_data import _world
from tests.personas import PASSWORD, make_resident, make_staff, signed_in_client, verified_client

pytestmark = pytest.mark.django_db

URL = "/me/delete/"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_page_says_what_goes_and_what_is_kept():
    person = make_resident("rosa@example.com")
    page = signed_in_client(person).get(URL).content.decode()
    assert "What is deleted" in page
    assert "What the city keeps, without your contact details" in page
    assert 'href="/me/data/"' in page  # download first


@pytest.mark.parametrize(
    "data, problem",
    [
        ({"password": "wrong", "understood": "on"}, "That is not your password."),
        ({"password": PASSWORD}, "Tick the box to confirm that you understand."),
    ],
)
def test_nothing_is_deleted_without_the_password_and_the_tick(data, problem):
    person = make_resident("rosa@example.com")
    response = signed_in_client(person).post(URL, data)
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert User.objects.get(pk=person.pk).is_active


def test_deleting_my_account(settings):
    mine, application, report = _world("rosa@example.com", language="es", words="Rosa")
    other, other_application, other_report = _world("omar@example.com", language="en", words="Omar")
    draft = make_application(mine, description="Never sent")
    document = permit_services.document_add(
        application=draft, actor=mine, uploaded=pdf_upload("draft-plan.pdf")
    )
    draft_file = document.file.path
    Application.objects.filter(pk=application.pk).update(applicant_phone="(408) 555-0100")
    client = signed_in_client(mine)

    # (files are removed when the deletion commits)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(URL, {"password": PASSWORD, "understood": "on"})

    assert response.status_code == 302 and response["Location"] == "/es/"  # her language
    assert "Su cuenta se eliminó." in client.get("/es/").content.decode()
    assert client.get("/me/").status_code == 302  # signed out, everywhere
    gone = User.objects.get(pk=mine.pk)
    assert not gone.is_active and not gone.has_usable_password()
    assert (gone.email, gone.first_name, gone.phone) == (
        f"deleted-{mine.pk}@deleted.invalid",
        "",
        "",
    )
    assert gone.history.count() == 0
    # Deleted: the draft and its file, the subscription, the inbox, following.
    assert not Application.objects.filter(pk=draft.pk).exists()
    assert not Document.objects.filter(application_id=draft.pk).exists()
    assert not os.path.exists(draft_file)
    assert not Subscription.objects.filter(user=mine).exists()
    assert not Notification.objects.filter(user=mine).exists()
    assert not Follower.objects.filter(user=mine).exists()
    # Kept, without the person: the submitted application and the report.
    kept = Application.objects.get(pk=application.pk)
    assert kept.applicant_phone == "" and kept.number == application.number
    report = ServiceRequest.objects.get(pk=report.pk)
    assert (report.reporter_id, report.contact_email, report.contact_name) == (None, "", "")
    # Nothing of anyone else changed.
    assert User.objects.get(pk=other.pk).email == "omar@example.com"
    assert Subscription.objects.filter(user=other).exists()
    assert Notification.objects.filter(user=other).exists()
    assert ServiceRequest.objects.get(pk=other_report.pk).reporter_id == other.pk
    assert Application.objects.filter(pk=other_application.pk).exists()


def test_staff_accounts_are_closed_by_the_administrator():
    staff = verified_client(make_staff(Role.MANAGER))
    assert staff.post(URL, {"password": PASSWORD, "understood": "on"}).status_code == 403
