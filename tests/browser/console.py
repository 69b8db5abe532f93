"""Signing staff in to the console in a browser: password, then the TOTP code."""

from __future__ import annotations

import re

from tests.personas import PASSWORD, give_totp_device, totp_code


def track(page, a11y) -> None:
    """Record a page's navigations so the harness knows which pages need an axe check."""
    page.on(
        "framenavigated",
        lambda f: a11y.visited.append(f.url.split("#")[0]) if f == page.main_frame else None,
    )


def console_sign_in(page, a11y, live_server, user, path: str, *, device=None):
    """Open `path`, sign in through the console's two steps, land back on `path`."""
    device = device or give_totp_device(user)
    page.goto(f"{live_server.url}{path}")
    a11y(page)
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    a11y(page)
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Verify and continue").click()
    page.wait_for_url(re.compile(re.escape(path.split("?")[0])))
    a11y(page)
    return page


def new_staff_page(browser, a11y, live_server, user, path: str):
    page = browser.new_context().new_page()
    track(page, a11y)
    return console_sign_in(page, a11y, live_server, user, path)
