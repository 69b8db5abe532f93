"""An account an administrator makes enrols through a single-use, expiring invitation link sent
by email (createstaff prints it too): no password ever travels by chat or sticky note."""

from __future__ import annotations

import re
import time
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from cityhall.models import User
from cityhall.roles import Role
from tests.personas import make_staff, verified_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "quiet-harbor-lantern-2026"


def _invite_path(text: str) -> str:
    return re.search(r"https?://[^/\s]+(/console/invite/\S+/)", text).group(1)


def test_createstaff_emails_a_link_that_works_once_and_leads_to_enrolment():
    out = StringIO()
    call_command(
        "createstaff", "new.clerk@riverbend.example", "--role", "permit_technician", stdout=out
    )
    printed = _invite_path(out.getvalue())
    assert mail.outbox[-1].to == ["new.clerk@riverbend.example"]
    assert _invite_path(mail.outbox[-1].body) == printed
    user = User.objects.get(email="new.clerk@riverbend.example")
    assert not user.has_usable_password()

    client = Client()
    assert "Choose your password" in client.get(printed).content.decode()
    response = client.post(printed, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/console/enrol/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # Used: the same link is refused, in another browser too.
    again = Client().get(printed)
    assert again.status_code == 400 and "expired or was already used" in again.content.decode()


def test_an_expired_invitation_is_refused(monkeypatch, settings):
    out = StringIO()
    call_command("createstaff", "late@riverbend.example", "--role", "plan_reviewer", stdout=out)
    link = _invite_path(out.getvalue())
    later = time.time() + (settings.STAFF_INVITATION_HOURS + 1) * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert Client().get(link).status_code == 400


def test_an_administrator_sends_an_invitation_from_the_console():
    admin = verified_client(make_staff(Role.CITY_ADMINISTRATOR, "boss@riverbend.example"))
    clerk = make_staff(Role.PERMIT_TECHNICIAN, "forgot@riverbend.example")
    admin.post(
        "/console/cityhall/user/",
        {"action": "send_invitation", "_selected_action": [clerk.pk]},
    )
    assert mail.outbox[-1].to == ["forgot@riverbend.example"]
    clerk.refresh_from_db()
    assert not clerk.has_usable_password()
    assert "/console/invite/" in mail.outbox[-1].body
