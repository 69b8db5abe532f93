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


def test_a_denial_after_a_long_pause_asks_for_a_fresh_code_and_keeps_the_reason(
    browser, a11y, live_server
):
    """A reviewer back from lunch: denying a permit asks for the code again, and the reason
    typed before is still there to confirm."""
    from django.contrib.sessions.backends.cached_db import SessionStore

    from cityhall.roles import Role
    from permits.tests.factories import make_application
    from tests.browser.console import console_sign_in, track
    from tests.personas import give_totp_device, make_staff, totp_code

    applicant = make_resident("owner@example.com")
    application = make_application(applicant, status="in_review")
    reviewer = make_staff(Role.PLAN_REVIEWER, "pat.reviewer@riverbend.example")
    device = give_totp_device(reviewer)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    track(page, a11y)
    path = f"/console/permits/application/{application.pk}/change/"
    console_sign_in(page, a11y, live_server, reviewer, path, device=device)

    # Sixteen minutes pass.
    key = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key=key)
    session["otp_verified_at"] -= 16 * 60
    session.save()

    reason = "The fence is 8 feet tall; the zoning code allows 6 feet in front yards."
    page.get_by_label("Reason for denial (the applicant sees it)").fill(reason)
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(re.compile(r"/console/verify/\?again=1"))
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    expect(page.locator("#content-main")).to_contain_text("more than 15 minutes ago")
    expect(page.locator(".messagelist")).to_contain_text("Deny was not done yet")
    page.get_by_label("Code").fill(totp_code(device, offset=1))
    page.get_by_role("button", name="Verify and continue").click()
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    a11y(page)
    expect(page.get_by_label("Reason for denial (the applicant sees it)")).to_have_value(reason)
    application.refresh_from_db()
    assert application.status == "in_review"
    page.get_by_role("button", name="Deny…").click()
    expect(page.locator("#content-main")).to_contain_text("closes as denied")
    a11y(page)
    page.get_by_role("button", name="Yes, deny").click()
    expect(page.locator(".messagelist")).to_contain_text("is now Denied")
    a11y(page)
    application.refresh_from_db()
    assert application.status == "denied" and application.decision_reason == reason


def test_a_resident_downloads_her_data_after_her_password_in_spanish(page, a11y, live_server):
    """My City Hall → "Descargar mis datos" → a wrong password is refused in words → the right
    one downloads a ZIP of her data, at a phone's width."""
    import json
    import zipfile

    make_resident("lucia@example.com", language="es", first_name="Lucía", last_name="Vega")
    page.set_viewport_size({"width": 390, "height": 800})
    _sign_in_spanish(page, a11y, live_server, "lucia@example.com")
    page.goto(f"{live_server.url}/es/me/")
    a11y(page)
    page.get_by_role("link", name="Descargar mis datos").click()
    page.wait_for_url(re.compile(r"/es/me/data/$"))
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Descargar mis datos")
    expect(page.locator("main")).to_contain_text("Una copia de todo lo que el Ayuntamiento guarda")

    page.get_by_label("Su contraseña").fill("not her password")
    page.get_by_role("button", name="Descargar mis datos").click()
    a11y(page)
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.locator(".usa-error-message")).to_contain_text("Esa no es su contraseña")
    expect(page).to_have_title(re.compile(r"^Error: "))

    page.get_by_label("Su contraseña").fill(PASSWORD)
    with page.expect_download() as download:
        page.get_by_role("button", name="Descargar mis datos").click()
    archive = zipfile.ZipFile(download.value.path())
    data = json.loads(archive.read("my-data.json"))
    assert data["profile"]["email"] == "lucia@example.com"
    assert archive.read("README.txt").decode().startswith("Sus datos en")


def test_a_resident_deletes_her_account_in_spanish(page, a11y, live_server):
    """The page says what goes and what the city keeps; the password and the tick confirm it;
    she is signed out and cannot sign in again."""
    make_resident("lucia@example.com", language="es", first_name="Lucía", last_name="Vega")
    page.set_viewport_size({"width": 390, "height": 800})
    _sign_in_spanish(page, a11y, live_server, "lucia@example.com")
    page.goto(f"{live_server.url}/es/me/")
    page.get_by_role("link", name="Eliminar mi cuenta").click()
    page.wait_for_url(re.compile(r"/es/me/delete/$"))
    a11y(page)
    expect(page.get_by_role("heading", level=2).first).to_have_text("Lo que se elimina")
    expect(page.locator("main")).to_contain_text("Lo que la ciudad conserva")

    page.get_by_label("Su contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Eliminar mi cuenta").click()
    a11y(page)
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.locator("main")).to_contain_text("Marque la casilla")
    expect(page.get_by_label("Su contraseña")).to_have_value("")  # a password is never echoed

    page.get_by_label("Su contraseña").fill(PASSWORD)
    page.locator("label", has_text="Entiendo que mi cuenta").click()
    page.get_by_role("button", name="Eliminar mi cuenta").click()
    page.wait_for_url(re.compile(r"/es/$"))
    a11y(page)
    expect(page.locator(".usa-alert")).to_contain_text("Su cuenta se eliminó.")
    assert not User.objects.get(first_name="", email__startswith="deleted-").is_active

    _sign_in_spanish(page, a11y, live_server, "lucia@example.com")
    expect(page).to_have_url(re.compile(r"/es/accounts/login/"))
