"""Passwords: twelve characters at least, never one of the common ones."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("weak", ["short-pass1", "password1234", "123456789012"])
def test_a_short_or_common_password_is_refused(weak):
    with pytest.raises(ValidationError):
        validate_password(weak)


def test_a_long_uncommon_password_is_accepted():
    validate_password("river-lantern-orchard-7")


def test_sign_up_refuses_an_eleven_character_password_and_keeps_the_email():
    response = Client().post(
        "/accounts/signup/",
        {
            "email": "new.resident@example.com",
            "password1": "Tq9#xv2Lm4z",
            "password2": "Tq9#xv2Lm4z",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "at least 12 characters" in page and 'value="new.resident@example.com"' in page


# Staff passwords: not one from a published breach, nor one padded out to length.
BREACHED_BUT_LONG = ["Iloveyou2026!", "sunshinesunshine", "1234qwerty1234", "Password1234!!"]


@pytest.mark.parametrize("breached", BREACHED_BUT_LONG)
def test_a_staff_password_from_a_breach_is_refused_even_padded_to_length(breached):
    from cityhall.models import User

    staff = User(email="clerk@riverbend.example", is_staff=True)
    with pytest.raises(ValidationError) as refused:
        validate_password(breached, user=staff)
    assert "published breach" in " ".join(refused.value.messages)


def test_the_breach_list_is_read_from_the_offline_file(settings, tmp_path):
    from cityhall.models import User
    from cityhall.passwords import breached_passwords

    assert len(breached_passwords(str(settings.BREACHED_PASSWORDS_FILE))) > 50_000
    own = tmp_path / "list.txt"
    own.write_text("orchard\n")
    settings.BREACHED_PASSWORDS_FILE = own
    staff = User(email="clerk@riverbend.example", is_staff=True)
    with pytest.raises(ValidationError):
        validate_password("Orchard-2026!!", user=staff)
    validate_password("Iloveyou2026!", user=staff)  # not in this list


def test_a_staff_invitation_refuses_a_breached_password_and_says_why():
    import re
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "createstaff", "new.tech@riverbend.example", "--role", "permit_technician", stdout=out
    )
    link = re.search(r"https?://[^/\s]+(/console/invite/\S+/)", out.getvalue()).group(1)
    response = Client().post(
        link, {"new_password1": "Iloveyou2026!", "new_password2": "Iloveyou2026!"}
    )
    assert response.status_code == 200
    assert "appeared in a published breach of passwords" in response.content.decode()


def test_createstaff_refuses_a_breached_password():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="published breach"):
        call_command(
            "createstaff",
            "first@riverbend.example",
            "--role",
            "city_administrator",
            "--password",
            "sunshinesunshine",
        )


def test_a_resident_is_not_held_to_the_staff_breach_list():
    from cityhall.models import User

    validate_password("Iloveyou2026!", user=User(email="resident@example.com"))
