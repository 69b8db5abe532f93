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
