import json
import re

import pytest

from cityhall.models import User
from tests.personas import PASSWORD, signed_in_client

pytestmark = pytest.mark.django_db


def test_home_lists_services_in_both_languages(client):
    english = client.get("/").content.decode()
    assert "Virtual City Hall" in english and "Report a problem" in english
    spanish = client.get("/es/").content.decode()
    assert 'lang="es"' in spanish
    assert "Ayuntamiento Virtual" in spanish
    assert "Report a problem" not in spanish


def test_shell_has_skip_link_switcher_and_footer(client):
    body = client.get("/es/accessibility/").content.decode()
    assert 'class="usa-skipnav" href="#main-content"' in body
    assert 'href="/accessibility/" lang="en"' in body  # the same page in English
    assert 'href="/es/accessibility/"' in body
    assert "(555) 010-4400" in body


def test_me_requires_sign_in(client):
    response = client.get("/es/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/es/accounts/login/")


def test_me_shows_only_my_own_details(alice, bob):
    page = signed_in_client(alice).get("/me/").content.decode()
    assert "Alice" in page
    assert "Bob" not in page and bob.email not in page
    for section in ("My permits and licenses", "My reports", "My alert subscriptions", "Messages"):
        assert section in page


def test_profile_edits_only_the_signed_in_resident(alice, bob):
    client = signed_in_client(bob)
    client.post(
        "/me/profile/",
        {
            "first_name": "Mallory",
            "last_name": "X",
            "preferred_language": "en",
            "notify_by_email": "on",
            "user": alice.pk,
            "email": alice.email,
        },
    )
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.first_name == "Alice"
    assert bob.first_name == "Mallory"
    assert bob.email == "bob@example.com"


def test_invalid_phone_is_a_field_error_and_keeps_what_was_typed(alice):
    client = signed_in_client(alice)
    response = client.post(
        "/me/profile/",
        {
            "first_name": "Alicia",
            "last_name": "Adams",
            "phone": "555-12",
            "home_address": "120 Oak Street",
            "preferred_language": "en",
            "notify_by_sms": "on",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "data-error-summary" in body
    assert 'href="#id_phone"' in body
    assert 'id="id_phone_error"' in body and 'aria-invalid="true"' in body
    assert (
        'value="Alicia"' in body and 'value="120 Oak Street"' in body and 'value="555-12"' in body
    )
    alice.refresh_from_db()
    assert alice.first_name == "Alice"


def test_text_messages_need_a_phone(alice):
    response = signed_in_client(alice).post(
        "/me/profile/",
        {
            "first_name": "Alice",
            "preferred_language": "en",
            "notify_by_sms": "on",
        },
    )
    assert "Enter a mobile number to get text messages." in response.content.decode()


def test_profile_saves_phone_in_e164_and_switches_language(alice):
    client = signed_in_client(alice)
    response = client.post(
        "/me/profile/",
        {
            "first_name": "Alice",
            "last_name": "Adams",
            "phone": "(408) 210-4412",
            "home_address": "1 Main",
            "preferred_language": "es",
            "notify_by_email": "on",
            "notify_by_sms": "on",
        },
    )
    assert response.status_code == 302
    # A new number is confirmed by a texted code before anything else is texted to it.
    assert response["Location"] == "/es/me/phone/"
    alice.refresh_from_db()
    assert alice.phone == "+14082104412"
    assert alice.preferred_language == "es"
    page = client.get("/es/me/profile/").content.decode()
    assert "(408) 210-4412" in page


def test_manifest_for_the_home_screen(client):
    response = client.get("/es/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["lang"] == "es"
    assert data["start_url"] == "/es/"
    assert {icon["sizes"] for icon in data["icons"]} >= {"192x192", "512x512"}


def test_signup_can_be_closed(client, settings):
    settings.SIGNUP_OPEN = False
    response = client.post(
        "/accounts/signup/",
        {"email": "eve@example.com", "password1": "x" * 12, "password2": "x" * 12},
    )
    assert not User.objects.filter(email="eve@example.com").exists()
    assert response.status_code in (200, 403)


def test_signup_records_language_and_sends_spanish_verification(client, mailoutbox):
    response = client.post(
        "/es/accounts/signup/",
        {
            "email": "rosa@example.com",
            "password1": "una-clave-larga-123",
            "password2": "una-clave-larga-123",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="rosa@example.com")
    assert user.preferred_language == "es"
    assert len(mailoutbox) == 1
    assert "/es/accounts/confirm-email/" in mailoutbox[0].body
    assert "Confirme su dirección de correo electrónico" in mailoutbox[0].subject
    assert "Confirm your" not in mailoutbox[0].subject


def test_password_reset_email_in_the_residents_language(client, bob, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": bob.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [bob.email]
    # Bob prefers Spanish, so the email is Spanish even though he asked on the English site.
    assert "/es/accounts/password/reset/key/" in message.body
    assert "contraseña" in (message.subject + message.body).lower()
    assert "City of Riverbend" in message.body


def test_sign_in_rate_limit_is_counted_in_redis(client, alice, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip"}
    for _ in range(3):
        response = client.post("/accounts/login/", {"login": alice.email, "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The counts live in the shared Redis cache, so every web process sees them.
    from django.core.cache import cache

    redis = cache._cache.get_client()
    assert any(b"allauth" in key or b"rl" in key for key in redis.keys("*"))


def test_confirming_the_email_signs_in_and_lands_where_sign_up_started(client, mailoutbox):
    """Sign-up from "Apply" (?next=…) → the link in the email → signed in, back at "Apply"."""
    start = "/es/permits/apply/?type=FEN"
    login = client.get("/es/permits/apply/?type=FEN", follow=True).content.decode()
    assert "/es/accounts/signup/?next=%2Fes%2Fpermits%2Fapply%2F%3Ftype%3DFEN" in login
    # The header's "Create an account" keeps it too, not only the link in the page.
    assert (
        login.count('href="/es/accounts/signup/?next=%2Fes%2Fpermits%2Fapply%2F%3Ftype%3DFEN"') == 2
    )
    page = client.get(f"/es/accounts/signup/?next={start}").content.decode()
    assert 'name="next"' in page  # the form carries where the resident started
    response = client.post(
        "/es/accounts/signup/",
        {
            "email": "lucia@example.com",
            "password1": "una-clave-larga-123",
            "password2": "una-clave-larga-123",
            "next": start,
        },
    )
    assert response.status_code == 302
    link = re.search(r"https?://\S+/es/accounts/confirm-email/\S+", mailoutbox[-1].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    confirm = client.get(f"/{path}")
    assert confirm.status_code == 200
    response = client.post(f"/{path}")
    assert response.status_code == 302
    assert response["Location"] == start
    assert client.get("/es/me/").status_code == 200  # signed in
