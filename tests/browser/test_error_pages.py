"""The not-found page as a visitor reads it: in their language, in the site's shell, a way
back, on a phone and a desktop; axe-clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("path", "heading", "way_back"),
    [
        ("/no-such-page/", "Page not found", "Go to the services page"),
        ("/es/no-existe/", "Página no encontrada", "Ir a la página de servicios"),
    ],
)
def test_a_lost_visitor_finds_the_way_back(page, a11y, live_server, path, heading, way_back):
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404
        a11y(page)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("link", name=way_back).click()
    a11y(page)
    expect(page).to_have_url(f"{live_server.url}{'/es/' if path.startswith('/es/') else '/'}")
