"""Sign-up in as few screens as possible: confirming in the same browser signs the person in;
"check your email" can send the link again, without telling anyone who has an account."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client

from cityhall.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "una-clave-larga-123"


def _sign_up(client, email="rosa@example.com", prefix="/es"):
    return client.post(
        f"{prefix}/accounts/signup/",
        {"email": email, "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )


def _link(mail) -> str:
    return re.search(r"https?://[^/\s]+(/\S+/accounts/confirm-email/\S+)", mail.body).group(1)


def test_check_your_email_offers_the_link_again(client, mailoutbox):
    page = _sign_up(client).content.decode()

    assert "Revise su correo electrónico" in page
    assert "/es/accounts/confirmation/resend/" in page


def test_confirming_in_the_same_browser_signs_in_and_opens_my_city_hall(client, mailoutbox):
    _sign_up(client)

    link = _link(mailoutbox[-1])
    assert client.get(link).status_code == 200
    response = client.post(link)

    assert response.status_code == 302 and response["Location"].endswith("/es/me/")
    assert int(client.session["_auth_user_id"]) == User.objects.get(email="rosa@example.com").pk


def test_confirming_in_another_browser_confirms_but_does_not_sign_in(client, mailoutbox):
    _sign_up(client)
    other = Client()

    response = other.post(_link(mailoutbox[-1]))

    assert response.status_code == 302
    assert "_auth_user_id" not in other.session
    assert User.objects.get(email="rosa@example.com").emailaddress_set.get().verified


def test_the_link_can_be_sent_again_to_an_account_waiting_for_it(client, mailoutbox):
    _sign_up(client)
    cache.clear()  # allauth allows one confirmation email per address every three minutes

    page = client.post(
        "/es/accounts/confirmation/resend/", {"email": "Rosa@Example.com"}, follow=True
    ).content.decode()

    assert len(mailoutbox) == 2
    assert "/es/accounts/confirm-email/" in mailoutbox[-1].body
    assert "Si una cuenta con Rosa@Example.com espera confirmación" in page


def test_a_burst_of_resends_sends_one_email(client, mailoutbox, settings):
    settings.ACCOUNT_RATE_LIMITS = {"confirm_email": "1/3m/key"}  # as in production
    _sign_up(client)
    cache.clear()
    for _ in range(3):
        client.post("/accounts/confirmation/resend/", {"email": "rosa@example.com"})

    assert len(mailoutbox) == 2


@pytest.mark.parametrize("who", ["nobody@example.com", "confirmed@example.com"])
def test_unknown_or_confirmed_addresses_get_the_same_answer_and_no_email(client, mailoutbox, who):
    confirmed = User.objects.create_user(email="confirmed@example.com", password=PASSWORD)
    confirmed.emailaddress_set.create(email=confirmed.email, verified=True, primary=True)

    page = client.post(
        "/accounts/confirmation/resend/", {"email": who}, follow=True
    ).content.decode()

    assert mailoutbox == []
    assert f"If an account with {who} is waiting for confirmation" in page


def test_a_mistyped_address_is_explained_and_kept(client):
    page = client.post("/es/accounts/confirmation/resend/", {"email": "rosa@"}).content.decode()

    assert "Escriba un correo electrónico como nombre@ejemplo.com." in page
    assert 'value="rosa@"' in page
