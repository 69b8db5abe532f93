"""Error pages with DEBUG off: the site's shell, the visitor's language, a way back."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from cityhall.roles import Role
from tests.personas import make_resident, make_staff, verified_client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.error_urls")]


@pytest.fixture(autouse=True)
def _production_errors(settings):
    settings.DEBUG = False


def test_not_found_in_english_and_spanish_with_a_way_back():
    english = Client().get("/no-such-page/")
    spanish = Client().get("/es/no-existe/")

    assert english.status_code == 404 and spanish.status_code == 404
    page = english.content.decode()
    assert "<h1>Page not found</h1>" in page
    assert 'href="/"' in page and "Call City Hall at" in page
    page = spanish.content.decode()
    assert '<html lang="es">' in page
    assert "<h1>Página no encontrada</h1>" in page
    assert 'href="/es/"' in page


def test_another_residents_record_is_not_found_in_their_language():
    maria = make_resident("maria.errors@example.com")
    client = Client()
    client.force_login(maria)

    page = client.get("/es/permits/NOPE-2026-000001/").content.decode()

    assert "Página no encontrada" in page


def test_server_error_page_in_the_visitors_language():
    client = Client(raise_request_exception=False)

    english = client.get("/broken/")
    spanish = client.get("/es/broken/")

    assert english.status_code == 500 and spanish.status_code == 500
    assert "<h1>Something went wrong on our side</h1>" in english.content.decode()
    assert "Nothing you saved before this page is lost." in english.content.decode()
    assert "<h1>Algo salió mal de nuestro lado</h1>" in spanish.content.decode()


def test_the_console_says_not_allowed_in_its_own_shell():
    manager = verified_client(make_staff(Role.MANAGER))

    response = manager.get("/console/permits/application/1/act/approve/")

    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>You cannot do this</h1>" in page
    assert "Back to My work" in page
    assert "Traceback" not in page


def test_a_bad_request_says_what_to_do(settings):
    settings.ALLOWED_HOSTS = ["city.example"]

    response = Client(HTTP_HOST="evil.example").get("/")

    assert response.status_code == 400
    assert "Something in the request was wrong" in response.content.decode()


def test_a_form_that_fails_its_csrf_check_says_what_to_do_in_spanish():
    response = Client(enforce_csrf_checks=True).post(
        "/es/accounts/login/", {"login": "maria@example.com", "password": "x"}
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert '<html lang="es">' in page
    assert "<h1>No se pudo enviar el formulario</h1>" in page
    assert "Vuelva atrás, recargue la página" in page
    assert "Estás" not in page and "tu navegador" not in page


@pytest.mark.parametrize(
    ("url", "heading", "next_step"),
    [
        (
            "/es/accounts/confirm-email/roto/",
            "Este enlace ya no funciona",
            'href="/es/accounts/confirmation/resend/"',
        ),
        (
            "/es/accounts/password/reset/key/1-roto/",
            "Este enlace ya no funciona",
            'href="/es/accounts/password/reset/"',
        ),
    ],
)
def test_an_old_or_garbled_account_link_says_what_to_do_next(url, heading, next_step):
    response = Client().get(url, follow=True)
    page = response.content.decode()
    assert re.search(rf"<h1[^>]*>\s*{heading}\s*</h1>", page), page[-3000:]
    assert next_step in page and "Envíenme un enlace nuevo" in page
