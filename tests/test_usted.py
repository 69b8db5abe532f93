"""Spanish speaks to residents as "usted", everywhere (issue 13, item 8).

Our own catalog is written in the usted register; allauth's Spanish mixes "tú" and "usted" (its
sign-up email reads "Estás recibiendo… vete a…"). The account emails and the flash messages
allauth sends are therefore ours (templates/account/email/, templates/account/messages/), and
this module drives the real account flows under /es/ through the test client: sign-up (with
Django's password validators failing), the new confirmation link, confirming, signing in and
out, a wrong password, a password reset for a known and an unknown address, sign-up with an
address that has an account, changing and setting a password, and managing email addresses. Every
page, flash message and email a resident gets on the way is searched for "tú" forms.

The markers (TU)
----------------
Whole words, case-insensitive, that only the tú register uses:
- pronouns and possessives: tú, tu, tus, te, ti, contigo, tuyo, tuya, tuyos, tuyas;
- second-person verbs: eres, estás, has (usted: "ha"), tienes, puedes, debes, quieres, deseas,
  necesitas, recibes;
- tú imperatives and preterites allauth's catalog uses: haz, vete, introduce, introdúcelo,
  inténtalo, regístrate, contáctanos, hiciste, solicitaste, olvidaste.

Left out on purpose: tú imperatives spelled like the third person ("confirma", "verifica",
"revisa", "sigue", "usa"), which usted Spanish uses all the time ("lo que sigue", "su cuenta usa
otra dirección").

False positives kept out:
- \\b is Unicode-aware in Python, so "te" does not match inside "este", "tenemos", "cliente",
  nor does it match "té" or "éste".
- Links and email addresses are removed before the search: a confirmation key, a reset token or
  an address can hold "-te-" or "tu." by chance.
- Hidden form fields (CSRF token, "next") are not read; what people read is the visible text and
  the title, alt, aria-label, placeholder and button values.

One known false positive: the English word "has". An English sentence left untranslated on a
Spanish page or email trips it, which is a defect too (tests/test_spanish_pages.py looks for
English on pages); the failure names the word and quotes it in context.

The last test checks that each of our allauth overrides is translated: an override whose msgid is
missing from the Spanish catalog would reach residents in English.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

from portal.adapters import CitySite
from tests.personas import PASSWORD

TU = re.compile(
    r"\b("
    r"tú|tu|tus|te|ti|contigo|tuyo|tuya|tuyos|tuyas"
    r"|eres|estás|has|tienes|puedes|debes|quieres|deseas|necesitas|recibes"
    r"|haz|vete|introduce|introdúcelo|inténtalo|regístrate|contáctanos"
    r"|hiciste|solicitaste|olvidaste"
    r")\b",
    re.IGNORECASE,
)
LINKS_AND_ADDRESSES = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

NEW_PASSWORD = "river-otter-lantern-42"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "account"


# --- Reading what a resident reads ---------------------------------------------------------------


class _VisibleText(HTMLParser):
    READ_ATTRIBUTES = {"title", "alt", "aria-label", "placeholder"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "template"}:
            self._hidden += 1
        attrs = dict(attrs)
        self.parts += [v for k, v in attrs.items() if k in self.READ_ATTRIBUTES and v]
        if tag == "input" and attrs.get("type") in {"submit", "button"} and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in {"script", "style", "template"}:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    parser = _VisibleText()
    parser.feed(response.content.decode())
    return "\n".join(parser.parts)


def mail_text(message) -> str:
    bodies = [message.subject, message.body]
    bodies += [content for content, _mimetype in getattr(message, "alternatives", [])]
    return "\n".join(bodies)


def tu_forms(text: str) -> list[str]:
    """Each tú marker in `text`, quoted with a little of what surrounds it."""
    text = " ".join(LINKS_AND_ADDRESSES.sub(" ", text).split())
    return [
        f"{match.group(0)!r} in «{text[max(match.start() - 40, 0) : match.end() + 40]}»"
        for match in TU.finditer(text)
    ]


def assert_usted(seen: dict[str, str]) -> None:
    failures = [f"{name}: {hit}" for name, text in seen.items() for hit in tu_forms(text)]
    assert not failures, "Spanish in the tú register:\n" + "\n".join(failures)


def sent_to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def link_in(message, fragment: str) -> str:
    """The path of the first link in `message` containing `fragment`."""
    links = [url for url in re.findall(r"https?://\S+", message.body) if fragment in url]
    assert links, f"no link with {fragment!r} in:\n{message.body}"
    return urlsplit(links[0]).path


# --- The markers themselves ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        # allauth's own Spanish, as residents got it before our overrides.
        "Estás recibiendo este correo electrónico porque el usuario ha facilitado tu dirección.",
        "Para confirmar que esto es correcto, vete a https://riverbend.example/es/",
        "Has iniciado sesión.",
        "Ten paciencia, estás enviando muchas solicitudes.",
        "Introduce el código de verificación del correo electrónico",
        "Si decides confiar en este navegador, no se te pedirá un código.",
        "Tú decides.",
    ],
)
def test_the_markers_catch_tu(sentence):
    assert tu_forms(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Este correo electrónico es para usted: Ha iniciado sesión.",
        "Escriba su contraseña. Tenemos su solicitud; vea lo que sigue.",
        "Si su cuenta usa otra dirección de correo electrónico, intente con esa.",
        "¿Un té? Éste es el cliente de siempre. Siete días.",
        "Abra https://riverbend.example/es/accounts/confirm-email/Mw:1x-te-tu/ o escriba a "
        "te.tu@example.com",
    ],
)
def test_the_markers_leave_usted_alone(sentence):
    assert not tu_forms(sentence)


# --- The flows -----------------------------------------------------------------------------------


def test_sign_up_confirm_sign_out(db):
    client = Client()
    seen = {"sign-up page": page_text(client.get("/es/accounts/signup/"))}

    response = client.post(
        "/es/accounts/signup/",
        {"email": "carla@example.com", "password1": "12345678", "password2": "1234567"},
    )
    seen["sign-up with a short, common, numeric password"] = page_text(response)

    response = client.post(
        "/es/accounts/signup/",
        {"email": "carla@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )
    seen["after sign-up (confirmation sent)"] = page_text(response)
    (signup_email,) = sent_to("carla@example.com")
    seen["sign-up confirmation email"] = mail_text(signup_email)

    response = client.post(
        "/es/accounts/confirmation/resend/", {"email": "carla@example.com"}, follow=True
    )
    seen["new confirmation link page"] = page_text(response)
    resent_email = sent_to("carla@example.com")[-1]
    assert resent_email is not signup_email
    seen["new confirmation link email"] = mail_text(resent_email)

    confirm = link_in(resent_email, "/confirm-email/")
    seen["confirm email page"] = page_text(client.get(confirm))
    response = client.post(confirm, follow=True)
    assert response.context["user"].is_authenticated
    seen["after confirming (email confirmed, signed in)"] = page_text(response)

    seen["sign-out page"] = page_text(client.get("/es/accounts/logout/"))
    response = client.post("/es/accounts/logout/", follow=True)
    assert not response.context["user"].is_authenticated
    seen["after signing out"] = page_text(response)

    assert_usted(seen)


def test_sign_in(bob):
    client = Client()
    seen = {"sign-in page": page_text(client.get("/es/accounts/login/"))}
    seen["wrong password"] = page_text(
        client.post("/es/accounts/login/", {"login": "bob@example.com", "password": "wrong"})
    )
    seen["unknown address"] = page_text(
        client.post("/es/accounts/login/", {"login": "nadie@example.com", "password": "wrong"})
    )
    response = client.post(
        "/es/accounts/login/", {"login": "bob@example.com", "password": PASSWORD}, follow=True
    )
    assert response.context["user"].is_authenticated
    seen["after signing in"] = page_text(response)
    assert_usted(seen)


def test_password_reset_for_a_known_address(bob):
    client = Client()
    seen = {"password reset page": page_text(client.get("/es/accounts/password/reset/"))}
    response = client.post(
        "/es/accounts/password/reset/", {"email": "bob@example.com"}, follow=True
    )
    seen["after asking for a reset"] = page_text(response)
    (reset_email,) = sent_to("bob@example.com")
    seen["password reset email"] = mail_text(reset_email)

    # The link leads, through a redirect that keeps the key out of the address, to the form.
    response = client.get(link_in(reset_email, "/password/reset/key/"), follow=True)
    seen["new password page"] = page_text(response)
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": "another-one"})
    seen["new passwords that differ"] = page_text(response)
    response = client.post(
        form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True
    )
    seen["after the reset (password changed)"] = page_text(response)
    bob.refresh_from_db()
    assert bob.check_password(NEW_PASSWORD)

    seen["used reset link"] = page_text(
        client.get(link_in(reset_email, "/password/reset/key/"), follow=True)
    )
    assert_usted(seen)


def test_password_reset_for_an_unknown_address(db):
    client = Client()
    response = client.post(
        "/es/accounts/password/reset/", {"email": "nadie@example.com"}, follow=True
    )
    (unknown_email,) = sent_to("nadie@example.com")
    assert_usted(
        {
            "after asking for a reset": page_text(response),
            "unknown account email": mail_text(unknown_email),
        }
    )


def test_sign_up_with_an_address_that_has_an_account(bob):
    client = Client()
    response = client.post(
        "/es/accounts/signup/",
        {"email": "bob@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )
    (exists_email,) = sent_to("bob@example.com")
    assert_usted(
        {
            "after sign-up": page_text(response),
            "account already exists email": mail_text(exists_email),
        }
    )


def test_change_and_set_a_password(bob):
    client = Client()
    client.force_login(bob)
    seen = {"change password page": page_text(client.get("/es/accounts/password/change/"))}
    seen["wrong current password"] = page_text(
        client.post(
            "/es/accounts/password/change/",
            {"oldpassword": "wrong", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )
    )
    response = client.post(
        "/es/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )
    seen["after changing the password"] = page_text(response)

    bob.set_unusable_password()
    bob.save()
    client.force_login(bob)
    seen["set password page"] = page_text(client.get("/es/accounts/password/set/", follow=True))
    response = client.post(
        "/es/accounts/password/set/",
        {"password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )
    seen["after setting the password"] = page_text(response)
    bob.refresh_from_db()
    assert bob.check_password(PASSWORD)
    assert_usted(seen)


def test_manage_email_addresses(bob):
    client = Client()
    client.force_login(bob)
    page = "/es/accounts/email/"
    seen = {"email addresses page": page_text(client.get(page))}

    def act(name: str, data: dict) -> None:
        seen[name] = page_text(client.post(page, data, follow=True))

    act("after adding an address", {"action_add": "", "email": "bob.trabajo@example.com"})
    act("after sending the link again", {"action_send": "", "email": "bob.trabajo@example.com"})
    confirmations = sent_to("bob.trabajo@example.com")
    assert len(confirmations) == 2
    for number, message in enumerate(confirmations, start=1):
        seen[f"confirmation email {number}"] = mail_text(message)
    act(
        "unconfirmed address as primary", {"action_primary": "", "email": "bob.trabajo@example.com"}
    )
    act("removing the primary address", {"action_remove": "", "email": "bob@example.com"})
    act("after removing an address", {"action_remove": "", "email": "bob.trabajo@example.com"})

    EmailAddress.objects.create(user=bob, email="bob.casa@example.com", verified=True)
    act(
        "after choosing a new primary address",
        {"action_primary": "", "email": "bob.casa@example.com"},
    )
    assert EmailAddress.objects.get_primary_email(bob) == "bob.casa@example.com"
    assert_usted(seen)


# --- Our overrides, one by one -------------------------------------------------------------------

OVERRIDES = sorted(
    f"account/{path.parent.name}/{path.name}"
    for path in TEMPLATES.glob("*/*.txt")
    if path.parent.name in {"email", "messages"}
)


@pytest.mark.parametrize("template", OVERRIDES)
def test_override_is_in_spanish_and_usted(template, bob):
    """Each override rendered on its own, so the messages no flow above reaches are read too
    (an address confirmed by another account), and so a msgid missing from the Spanish
    catalog shows up here: its English would reach residents."""
    context = {
        "user": bob,
        "email": "bob@example.com",
        "current_site": CitySite(),
        "activate_url": "https://riverbend.example/es/accounts/confirm-email/KEY/",
        "password_reset_url": "https://riverbend.example/es/accounts/password/reset/key/KEY/",
        "signup_url": "https://riverbend.example/es/accounts/signup/",
    }
    with translation.override("en"):
        english = render_to_string(template, context)
    with translation.override("es"):
        spanish = render_to_string(template, context)

    assert_usted({template: spanish})
    fixed = {"", context["current_site"].name, context["current_site"].domain}
    untranslated = [
        line
        for line in english.splitlines()
        if LINKS_AND_ADDRESSES.sub("", line).strip() not in fixed and line in spanish.splitlines()
    ]
    assert not untranslated, f"{template} shows English on the Spanish side: {untranslated}"
