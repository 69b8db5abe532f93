"""Staff accounts: the lockout cannot be reset by changing letter case, a session key seen
before the second factor is worthless after it, sessions end when idle and after a working day,
and every look at a resident's personal data is on record."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from cityhall.models import StaffAccess
from cityhall.roles import Role
from code_enforcement.tests.factories import ensure_city, make_request
from permits.tests.factories import make_application, pdf_upload
from tests.personas import (
    PASSWORD,
    give_totp_device,
    make_resident,
    make_staff,
    totp_code,
    verified_client,
)

pytestmark = pytest.mark.django_db


def _password_step(client, email, password):
    return client.post("/console/login/", {"username": email, "password": password})


def test_changing_letter_case_does_not_reset_the_lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3
    staff = make_staff(Role.PERMIT_TECHNICIAN, "lock.me@riverbend.example")
    client = Client()
    for email in (
        "lock.me@riverbend.example",
        "LOCK.ME@riverbend.example",
        "Lock.Me@Riverbend.Example",
    ):
        _password_step(client, email, "wrong-password-here")
    response = _password_step(client, staff.email, PASSWORD)
    assert response.status_code in (403, 429) or "locked" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session


def test_the_session_key_changes_when_the_second_factor_is_verified():
    staff = make_staff(Role.PERMIT_TECHNICIAN, "fixate@riverbend.example")
    device = give_totp_device(staff)
    client = Client()
    _password_step(client, staff.email, PASSWORD)
    before = client.session.session_key
    client.post("/console/verify/", {"otp_token": totp_code(device)})
    assert client.session.session_key != before
    assert client.get("/console/").status_code == 200


def test_an_idle_or_day_old_staff_session_ends(settings):
    staff = make_staff(Role.PERMIT_TECHNICIAN, "sessions@riverbend.example")
    for key, age in (
        ("staff_session_seen", (settings.STAFF_SESSION_IDLE_MINUTES + 1) * 60),
        ("staff_session_started", (settings.STAFF_SESSION_MAX_HOURS + 1) * 3600),
    ):
        client = verified_client(staff)
        assert client.get("/console/").status_code == 200
        session = client.session
        session[key] = int(time.time()) - age
        session.save()
        response = client.get("/console/")
        assert response.status_code == 302 and "/console/login/" in response["Location"], key
        assert "_auth_user_id" not in client.session
    resident = Client()
    resident.force_login(make_resident("idle.resident@example.com"))
    resident.get("/me/")
    assert "staff_session_seen" not in resident.session


def test_every_look_at_personal_data_is_recorded_and_searchable(alice):
    ensure_city()
    supervisor = make_staff(Role.CODE_SUPERVISOR, "looker@riverbend.example")
    reviewer = make_staff(Role.PLAN_REVIEWER, "reader@riverbend.example")
    request = make_request(reporter=alice)
    application = make_application(alice, status="submitted")
    from permits import services

    document = services.document_add(application=application, actor=reviewer, uploaded=pdf_upload())
    verified_client(supervisor).get(
        f"/console/code_enforcement/servicerequest/{request.pk}/change/"
    )
    reader = verified_client(reviewer)
    reader.get(f"/console/permits/application/{application.pk}/change/")
    reader.get(f"/permits/files/{application.public_id}/{document.pk}/")
    seen = set(StaffAccess.objects.values_list("staff__email", "what"))
    assert seen == {
        ("looker@riverbend.example", "reporter contact details"),
        ("reader@riverbend.example", "applicant details"),
        ("reader@riverbend.example", "application document"),
    }
    admin = verified_client(make_staff(Role.CITY_ADMINISTRATOR, "auditor@riverbend.example"))
    found = admin.get("/console/cityhall/staffaccess/", {"q": "looker"})
    assert found.context["cl"].result_count == 1
    assert "reporter contact details" in found.content.decode()
    other = verified_client(make_staff(Role.MANAGER, "nosy.manager@riverbend.example"))
    assert other.get("/console/cityhall/staffaccess/").status_code == 403
    # Residents looking at their own records are not staff access.
    resident = Client()
    resident.force_login(alice)
    resident.get(f"/permits/files/{application.public_id}/{document.pk}/")
    assert StaffAccess.objects.count() == 3


def test_a_staff_member_signed_in_on_the_residents_page_reaches_nothing_staff_only():
    staff = make_staff(Role.MANAGER, "resident.door@riverbend.example")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    client = Client()
    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    for path in ("/console/", "/kpis/", "/console/cityhall/user/"):
        response = client.get(path)
        assert response.status_code == 302 and "/console/login/" in response["Location"], path


def test_a_second_session_never_sees_the_secret_being_enrolled():
    staff = make_staff(Role.PERMIT_TECHNICIAN, "enrol.race@riverbend.example")
    first, second = Client(), Client()
    for client in (first, second):
        client.force_login(staff)
    secret = re.compile(r'class="cityhall-secret"[^>]*>(.*?)</p>', re.S)
    shown_first = secret.search(first.get("/console/enrol/").content.decode()).group(1)
    shown_second = secret.search(second.get("/console/enrol/").content.decode()).group(1)
    assert shown_first != shown_second
    assert secret.search(first.get("/console/enrol/").content.decode()).group(1) != shown_second
