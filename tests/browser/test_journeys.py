"""Browser journeys in headless Chromium, with axe on every page they visit."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from cityhall.models import User
from cityhall.roles import Role
from tests.personas import PASSWORD, make_staff, totp_code_from_secret

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_resident_signs_up_verifies_and_sees_my_city_hall_in_spanish(page, a11y, live_server):
    page.goto(f"{live_server.url}/es/")
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ayuntamiento Virtual")

    page.get_by_role("navigation").get_by_role("link", name="Crear una cuenta").click()
    a11y(page)

    # A mistake first: the error summary takes focus and what was typed stays.
    page.get_by_label("Correo electrónico").fill("rosa@example.com")
    page.get_by_label("Contraseña", exact=True).fill("corta")
    page.get_by_label("Contraseña (de nuevo)").fill("otra")
    page.get_by_role("button", name=re.compile("Registrarse|Crear")).click()
    a11y(page)
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.get_by_label("Correo electrónico")).to_have_value("rosa@example.com")

    page.get_by_label("Contraseña", exact=True).fill("una-clave-muy-larga-2026")
    page.get_by_label("Contraseña (de nuevo)").fill("una-clave-muy-larga-2026")
    page.get_by_role("button", name=re.compile("Registrarse|Crear")).click()
    a11y(page)
    assert User.objects.get(email="rosa@example.com").preferred_language == "es"

    # "Check your email", with a way to ask for the link again.
    expect(page.get_by_role("heading", level=1)).to_have_text("Revise su correo electrónico")
    expect(page.get_by_role("link", name="Enviar el enlace de nuevo")).to_be_visible()

    link = re.search(r"https?://\S+/es/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    a11y(page)
    page.get_by_role("button", name="Confirmar").click()
    # Confirming in the browser that signed up signs the person in.
    page.wait_for_url(re.compile(r"/es/me/$"))
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Mi Ayuntamiento")
    page.get_by_role("button", name="Cerrar sesión").click()
    a11y(page)
    page.get_by_role("navigation").get_by_role("link", name="Iniciar sesión").click()
    a11y(page)

    # Sign in with the keyboard alone.
    page.get_by_label("Correo electrónico").focus()
    page.keyboard.type("rosa@example.com")
    page.keyboard.press("Tab")  # the "forgot your password?" link in the password hint
    page.keyboard.press("Tab")
    expect(page.get_by_label("Contraseña")).to_be_focused()
    page.keyboard.type("una-clave-muy-larga-2026")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/es/me/$"))
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Mi Ayuntamiento")
    expect(page.locator("html")).to_have_attribute("lang", "es")


def test_staff_signs_in_enrols_an_authenticator_and_reaches_the_console(page, a11y, live_server):
    make_staff(Role.PERMIT_TECHNICIAN, "tomas@riverbend.example")
    page.goto(f"{live_server.url}/console/")
    a11y(page)
    page.get_by_label("Email address").fill("tomas@riverbend.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile("/console/enrol/"))
    a11y(page)

    page.get_by_label("Code").fill("123456")
    page.get_by_role("button", name="Confirm and continue").click()
    a11y(page)
    expect(page.locator("[data-error-summary]")).to_be_focused()

    page.wait_for_timeout(1100)  # a wrong code makes the device wait a second (throttling)
    secret = page.get_by_label("Setup key").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(totp_code_from_secret(secret))
    page.get_by_role("button", name="Confirm and continue").click()
    page.wait_for_url(re.compile("/console/backup-codes/"))
    a11y(page)
    expect(page.get_by_role("list", name="Backup codes").get_by_role("listitem")).to_have_count(10)

    page.get_by_role("link", name=re.compile("I have saved my codes")).click()
    page.wait_for_url(re.compile("/console/$"))
    a11y(page)
    expect(page.get_by_role("banner").get_by_role("link", name="City Hall console")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")


def test_skip_link_is_the_first_stop_for_keyboard_users(page, a11y, live_server):
    page.goto(f"{live_server.url}/")
    a11y(page)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()


def test_profile_on_a_phone_keeps_input_after_an_error(phone_page, a11y, live_server):
    from tests.personas import make_resident

    make_resident("ana@example.com", language="es", first_name="Ana")
    page = phone_page
    page.goto(f"{live_server.url}/es/accounts/login/")
    a11y(page)
    page.get_by_label("Correo electrónico").fill("ana@example.com")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(re.compile(r"/es/me/$"))
    a11y(page)
    page.get_by_role("link", name="Cambie su perfil y sus preferencias").click()
    a11y(page)
    page.get_by_label("Número de teléfono celular").fill("12")
    page.get_by_label("Domicilio").fill("214 Calle Palma")
    page.get_by_role("button", name="Guardar perfil").click()
    a11y(page)
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.get_by_label("Domicilio")).to_have_value("214 Calle Palma")
