"""Console sign-in: password, then a second factor; enrolment; throttling; lockout."""

import logging
import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityhall.roles import Role
from tests.personas import (
    PASSWORD,
    give_totp_device,
    signed_in_client,
    totp_code,
    totp_code_from_secret,
)

pytestmark = pytest.mark.django_db


def password_step(client, user, password=PASSWORD, next_url="/console/"):
    return client.post(
        f"/console/login/?next={next_url}",
        {"username": user.email, "password": password, "next": next_url},
    )


def test_console_requires_sign_in(client):
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_password_then_code(client, admin_user):
    device = give_totp_device(admin_user)
    response = password_step(client, admin_user)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/verify/")
    # Password alone is not enough.
    assert client.get("/console/").status_code == 302

    response = client.post(
        response["Location"], {"otp_token": totp_code(device), "next": "/console/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    page = client.get("/console/")
    assert page.status_code == 200
    assert "City Hall console" in page.content.decode()


def test_wrong_password_keeps_the_email(client, admin_user):
    response = password_step(client, admin_user, password="nope")
    assert response.status_code == 200
    body = response.content.decode()
    assert "data-error-summary" in body
    assert f'value="{admin_user.email}"' in body


def test_wrong_code_is_refused_counted_and_logged(client, admin_user, caplog):
    device = give_totp_device(admin_user)
    verify_url = password_step(client, admin_user)["Location"]
    with caplog.at_level(logging.WARNING, logger="cityhall.security"):
        response = client.post(verify_url, {"otp_token": "000000"})
    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert any("console 2FA failed" in r.getMessage() for r in caplog.records)

    # Throttled: even the right code is refused straight after a failure, with a clear message.
    response = client.post(verify_url, {"otp_token": totp_code(device)})
    assert "Too many wrong codes" in response.content.decode()
    assert client.get("/console/").status_code == 302


def test_staff_without_device_is_sent_to_enrolment(client, staff_user):
    user = staff_user(Role.PERMIT_TECHNICIAN)
    response = password_step(client, user)
    assert response["Location"].startswith("/console/enrol/")
    page = client.get(response["Location"])
    body = page.content.decode()
    assert "<svg" in body  # the QR code, inline
    secret = "".join(re.search(r'aria-label="Setup key">([A-Z2-7 ]+)<', body).group(1).split())
    response = client.post(
        response["Location"], {"otp_token": totp_code_from_secret(secret), "next": "/console/"}
    )
    assert response["Location"].startswith("/console/backup-codes/")
    assert TOTPDevice.objects.get(user=user).confirmed

    codes_page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", codes_page)
    assert len(codes) == 10
    assert set(codes) == set(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    )
    # Shown once only.
    again = client.get("/console/backup-codes/").content.decode()
    assert not re.findall(r"<li>([a-z0-9]{8})</li>", again)
    assert client.get("/console/").status_code == 200


def test_enrolment_refused_to_unverified_session_when_a_device_exists(admin_user):
    give_totp_device(admin_user)
    client = signed_in_client(admin_user)
    response = client.get("/console/enrol/")
    assert response["Location"].startswith("/console/verify/")


def test_backup_code_works_once_and_leads_to_enrolment(client, admin_user):
    call_command(
        "createstaff",
        admin_user.email,
        "--role",
        Role.CITY_ADMINISTRATOR.value,
        "--password",
        PASSWORD,
        stdout=StringIO(),
    )
    code = StaticToken.objects.filter(device__user=admin_user).first().token
    verify_url = password_step(client, admin_user)["Location"]
    response = client.post(verify_url, {"otp_token": code})
    assert response["Location"].startswith("/console/enrol/")
    assert not StaticToken.objects.filter(token=code, device__user=admin_user).exists()

    other = Client()
    verify_url = password_step(other, admin_user)["Location"]
    response = other.post(verify_url, {"otp_token": code})
    assert response.status_code == 200


def test_resident_cannot_use_the_console(client, alice):
    response = client.post("/console/login/", {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/console/").status_code == 302


def test_lockout_after_repeated_failures_says_for_how_long(client, admin_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert password_step(client, admin_user, password="wrong").status_code == 200
    response = password_step(client, admin_user, password="wrong")
    assert response.status_code == 429
    body = response.content.decode()
    assert "Sign-in is locked for 15 minutes" in body
    # Even the right password is refused while locked.
    assert password_step(client, admin_user).status_code == 429


def test_staff_password_failures_on_the_residents_page_count_toward_the_console_lockout(
    client, admin_user, settings
):
    """Guessing a staff password on the residents' sign-in page is no way around the console's
    lockout: the failures count for the same (lower-cased) email."""
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post("/accounts/login/", {"login": admin_user.email.upper(), "password": "wrong"})
    response = password_step(client, admin_user)
    assert "Location" not in response or not response["Location"].startswith("/console/")
    assert "_auth_user_id" not in client.session


def test_createstaff_with_a_password_prints_codes_and_assigns_role(capsys):
    call_command(
        "createstaff",
        "first.admin@riverbend.example",
        "--role",
        "city_administrator",
        "--password",
        "a-long-first-admin-passphrase",
    )
    out = capsys.readouterr().out
    assert "Backup codes" in out
    assert len(re.findall(r"^  [a-z0-9]{8}$", out, re.MULTILINE)) == 10
    from cityhall.models import User

    user = User.objects.get(email="first.admin@riverbend.example")
    assert user.is_staff
    assert list(user.groups.all()) == [Group.objects.get(name="City administrator")]
    assert StaticDevice.objects.get(user=user).token_set.count() == 10
