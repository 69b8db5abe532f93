"""Playwright + axe harness: headless Chromium from Debian's package, never a downloaded one.

Every page a journey visits must be checked with `a11y(page)`; a test that navigates to a
page it never checked fails at teardown, so no page slips past axe.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright

# The suite shares two cores with PostgreSQL, Redis and the live server: an answer that takes a
# few seconds under load is slow, not wrong. Assertions wait as long as actions do.
expect.set_options(timeout=15_000)

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "Debian's chromium is not installed; `make test` installs it "
            "(scripts/ensure_system_packages.sh)"
        )
    return path


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# The resident journeys leave a screenshot of every page they check, at a phone's width and a
# desktop's, under test-artifacts/screenshots/<module>/<test>/ (ignored by git): open them to
# see what a resident saw (the README says how).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SCREENSHOT_WIDTHS = (390, 1280)
RESIDENT_JOURNEYS = {
    "test_journeys",
    "test_permits_journeys",
    "test_alerts_journeys",
    "test_code_enforcement_journey",
    "test_error_pages",
    "test_kpis_journey",
    "test_records_journey",
}


class Accessibility:
    def __init__(self, screenshots: Path | None = None):
        self.axe = Axe()
        self.checked: set[str] = set()
        self.visited: list[str] = []
        self.screenshots = screenshots
        self.taken = 0

    def __call__(self, page) -> None:
        page.wait_for_load_state("load")
        results = self.axe.run(page, options=AXE_OPTIONS)
        self.checked.add(_strip(page.url))
        violations = results.response["violations"]
        if violations:
            _keep_evidence(page)
            lines = [f"axe found {len(violations)} violation(s) on {page.url}:"]
            for violation in violations:
                targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
                rule = f"{violation['id']} ({violation['impact']})"
                lines.append(f"  - {rule}: {violation['help']} -> {targets}")
            pytest.fail("\n".join(lines))
        if self.screenshots is not None:
            self._screenshot(page)

    def _screenshot(self, page) -> None:
        """The page at both widths, numbered in the order the journey saw them."""
        self.taken += 1
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = _strip(page.url).split("://", 1)[-1].split("/", 1)[-1]
        path = re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "", path)  # a draft's id
        slug = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")[:60] or "home"
        size = page.viewport_size
        for width in SCREENSHOT_WIDTHS:
            if width != page.viewport_size["width"]:
                page.set_viewport_size({"width": width, "height": size["height"]})
            page.screenshot(
                path=str(self.screenshots / f"{self.taken:02d}-{slug}-{width}.png"), full_page=True
            )
        page.set_viewport_size(size)


def _keep_evidence(page) -> None:
    """Screenshot and HTML of a failing page, under test-results/ (ignored by git)."""
    folder = Path(__file__).resolve().parents[2] / "test-results"
    folder.mkdir(exist_ok=True)
    name = _strip(page.url).split("://", 1)[-1].replace("/", "_").replace(":", "_")[:120]
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    (folder / f"{name}.html").write_text(page.content(), encoding="utf-8")


def _strip(url: str) -> str:
    return url.split("#")[0]


@pytest.fixture(autouse=True)
def _links_open_the_live_server(request):
    """Links in the emails and texts a journey sends start from SITE_URL: in a browser test that
    is the live server, so following them opens the server under test."""
    if "live_server" in request.fixturenames:
        settings = request.getfixturevalue("settings")
        settings.SITE_URL = request.getfixturevalue("live_server").url
    yield


@pytest.fixture
def a11y(request):
    module = request.node.module.__name__.rsplit(".", 1)[-1]
    if module not in RESIDENT_JOURNEYS:
        return Accessibility()
    test = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name).strip("-")
    folder = ARTIFACTS / module / test
    shutil.rmtree(folder, ignore_errors=True)  # this run's pictures only
    return Accessibility(screenshots=folder)


def _new_page(browser, a11y, **context_options):
    context = browser.new_context(locale="en-US", **context_options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on(
        "framenavigated",
        lambda frame: a11y.visited.append(_strip(frame.url)) if frame == page.main_frame else None,
    )
    return context, page, errors


@pytest.fixture
def page(browser, a11y, live_server):
    context, page, errors = _new_page(browser, a11y)
    yield page
    context.close()
    _assert_all_checked(a11y, errors)


@pytest.fixture
def phone_page(browser, a11y, live_server):
    context, page, errors = _new_page(
        browser, a11y, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    yield page
    context.close()
    _assert_all_checked(a11y, errors)


def _assert_all_checked(a11y: Accessibility, errors: list[str]) -> None:
    unchecked = [
        url
        for url in dict.fromkeys(a11y.visited)
        if url not in a11y.checked and url != "about:blank"
    ]
    assert not unchecked, f"pages visited without an axe check: {unchecked}"
    csp = [e for e in errors if "Content Security Policy" in e]
    assert not csp, f"CSP violations in the browser console: {csp}"
