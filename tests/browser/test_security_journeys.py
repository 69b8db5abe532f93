"""Security as residents meet it, in Chromium with axe on every page: confirming a new phone
number by its code, and a private report seen by a stranger."""

import re

import pytest
from playwright.sync_api import expect

from cityhall.models import User
from code_enforcement.tests.factories import ensure_city, make_category, submit
from tests.personas import PASSWORD, make_resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_spanish(page, a11y, live_server, email):
    page.goto(f"{live_server.url}/es/accounts/login/")
    a11y(page)
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    a11y(page)


def test_a_new_phone_number_is_confirmed_by_its_code_in_spanish(page, a11y, live_server):
    make_resident("lucia@example.com", language="es", first_name="Lucía", last_name="Vega")
    _sign_in_spanish(page, a11y, live_server, "lucia@example.com")
    page.goto(f"{live_server.url}/es/me/profile/")
    a11y(page)
    page.get_by_label(re.compile("teléfono", re.I)).first.fill("(408) 555-0177")
    page.get_by_role("button", name="Guardar perfil").click()
    page.wait_for_url(re.compile(r"/es/me/phone/$"))
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirme su número de teléfono")
    expect(page.locator(".usa-intro")).to_contain_text("(408) 555-0177")

    user = User.objects.get(email="lucia@example.com")
    wrong = "111111" if user.phone_code == "000000" else "000000"
    page.get_by_label(re.compile("código")).fill(wrong)
    page.get_by_role("button", name="Confirmar").click()
    a11y(page)
    expect(page.locator(".usa-error-message")).to_contain_text("Ese código no es correcto")

    page.get_by_label(re.compile("código")).fill(User.objects.get(pk=user.pk).phone_code)
    page.get_by_role("button", name="Confirmar").click()
    page.wait_for_url(re.compile(r"/es/me/profile/$"))
    a11y(page)
    expect(page.locator(".usa-alert")).to_contain_text("Su número de teléfono está confirmado")
    assert User.objects.get(pk=user.pk).phone_confirmed_at is not None


def test_a_stranger_sees_only_the_kind_and_status_of_a_private_report(page, a11y, live_server):
    ensure_city()
    noise = make_category("noise", sensitive=True)
    request, _secret = submit(noise, description="Parties at 41 Elm Street every night")
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/es/requests/{request.public_id}/")
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(request.public_id)
    expect(page.locator("main")).to_contain_text("Este tipo de reporte es privado")
    expect(page.locator("main")).not_to_contain_text("41 Elm Street")
