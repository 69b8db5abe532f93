"""Browser journeys in headless Chromium, with axe on every page they visit.

Each page is checked the way a person reads it: its heading and the sentence they came for.
Each email is read the same way, and its links are opened in the browser.
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from cityhall.models import User
from cityhall.roles import Role
from tests.browser.messages import read_email, sees
from tests.personas import PASSWORD, make_resident, make_staff, totp_code_from_secret

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_resident_signs_up_verifies_and_sees_my_city_hall_in_spanish(page, a11y, live_server):
    page.goto(f"{live_server.url}/es/")
    sees(page, a11y, "Ayuntamiento Virtual", "Haga sus trámites con City of Riverbend en línea")

    page.get_by_role("navigation").get_by_role("link", name="Crear una cuenta").click()
    sees(page, a11y, "Registrarse", "¿Ya tiene una cuenta?")

    # A mistake first: the error summary takes focus and what was typed stays.
    page.get_by_label("Correo electrónico").fill("rosa@example.com")
    page.get_by_label("Contraseña", exact=True).fill("corta")
    page.get_by_label("Contraseña (de nuevo)").fill("otra")
    page.get_by_role("button", name=re.compile("Registrarse|Crear")).click()
    sees(page, a11y, "Registrarse", "La contraseña es demasiado corta.")
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.get_by_label("Correo electrónico")).to_have_value("rosa@example.com")

    page.get_by_label("Contraseña", exact=True).fill("una-clave-muy-larga-2026")
    page.get_by_label("Contraseña (de nuevo)").fill("una-clave-muy-larga-2026")
    page.get_by_role("button", name=re.compile("Registrarse|Crear")).click()

    # "Check your email", with a way to ask for the link again.
    sees(
        page,
        a11y,
        "Revise su correo electrónico",
        "Le enviamos un enlace para confirmar su correo electrónico.",
    )
    expect(page.get_by_role("link", name="Enviar el enlace de nuevo")).to_be_visible()
    assert User.objects.get(email="rosa@example.com").preferred_language == "es"

    [confirm] = read_email(
        live_server,
        to="rosa@example.com",
        subject="Confirme su dirección de correo electrónico",
        says="Para confirmarla, abra este enlace y oprima el botón:",
    )
    page.goto(confirm)
    sees(
        page,
        a11y,
        "Confirme su dirección de correo electrónico",
        "Confirme que rosa@example.com es su dirección de correo electrónico para el Ayuntamiento.",
    )
    page.get_by_role("button", name="Confirmar").click()
    # Confirming in the browser that signed up signs the person in.
    page.wait_for_url(re.compile(r"/es/me/$"))
    sees(page, a11y, "Mi Ayuntamiento", "Su dirección de correo electrónico rosa@example.com está")

    page.get_by_role("button", name="Cerrar sesión").click()
    sees(page, a11y, "Ayuntamiento Virtual", "Ha cerrado sesión.")
    page.get_by_role("navigation").get_by_role("link", name="Iniciar sesión").click()
    sees(page, a11y, "Iniciar sesión", "Si aún no ha creado una cuenta, por favor regístrese")

    # Sign in with the keyboard alone.
    page.get_by_label("Correo electrónico").focus()
    page.keyboard.type("rosa@example.com")
    page.keyboard.press("Tab")  # the "forgot your password?" link in the password hint
    page.keyboard.press("Tab")
    expect(page.get_by_label("Contraseña")).to_be_focused()
    page.keyboard.type("una-clave-muy-larga-2026")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/es/me/$"))
    sees(page, a11y, "Mi Ayuntamiento", "Ha iniciado sesión como rosa@example.com.")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert not mail.outbox, [email.subject for email in mail.outbox]


def test_staff_signs_in_enrols_an_authenticator_and_reaches_the_console(page, a11y, live_server):
    make_staff(Role.PERMIT_TECHNICIAN, "tomas@riverbend.example")
    page.goto(f"{live_server.url}/console/")
    sees(page, a11y, "Sign in", "Step 1 of 2: your email address and password.")
    page.get_by_label("Email address").fill("tomas@riverbend.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile("/console/enrol/"))
    sees(page, a11y, "Set up two-step sign-in", "In your app, add an account and scan this QR code")

    page.get_by_label("Code").fill("123456")
    page.get_by_role("button", name="Confirm and continue").click()
    sees(page, a11y, "Set up two-step sign-in", "That code is not valid.")
    expect(page.locator("[data-error-summary]")).to_be_focused()

    page.wait_for_timeout(1100)  # a wrong code makes the device wait a second (throttling)
    secret = page.get_by_label("Setup key").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(totp_code_from_secret(secret))
    page.get_by_role("button", name="Confirm and continue").click()
    page.wait_for_url(re.compile("/console/backup-codes/"))
    sees(page, a11y, "Your backup codes", "Your authenticator app is set up.")
    expect(page.get_by_role("list", name="Backup codes").get_by_role("listitem")).to_have_count(10)

    page.get_by_role("link", name=re.compile("I have saved my codes")).click()
    page.wait_for_url(re.compile("/console/$"))
    sees(page, a11y, "My work", "Each number opens the list it counts.")
    expect(page.get_by_role("banner").get_by_role("link", name="City Hall console")).to_be_visible()


def test_skip_link_is_the_first_stop_for_keyboard_users(page, a11y, live_server):
    page.goto(f"{live_server.url}/")
    sees(page, a11y, "Virtual City Hall", "Do your business with the City of Riverbend online")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()


def test_profile_on_a_phone_keeps_input_after_an_error(phone_page, a11y, live_server):
    make_resident("ana@example.com", language="es", first_name="Ana")
    page = phone_page
    page.goto(f"{live_server.url}/es/accounts/login/")
    sees(page, a11y, "Iniciar sesión", "Si aún no ha creado una cuenta, por favor regístrese")
    page.get_by_label("Correo electrónico").fill("ana@example.com")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(re.compile(r"/es/me/$"))
    sees(page, a11y, "Mi Ayuntamiento", "Le damos la bienvenida, Ana.")

    page.get_by_role("link", name="Cambie su perfil y sus preferencias").click()
    sees(page, a11y, "Su perfil", "Usted inicia sesión como ana@example.com.")
    page.get_by_label("Número de teléfono celular").fill("12")
    page.get_by_label("Domicilio").fill("214 Calle Palma")
    page.get_by_role("button", name="Guardar perfil").click()
    sees(page, a11y, "Su perfil", "Ese número de teléfono no existe. Revise el código de área")
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.get_by_label("Domicilio")).to_have_value("214 Calle Palma")
