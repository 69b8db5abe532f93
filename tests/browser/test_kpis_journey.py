"""A manager reads the dashboard: changes the period, drills down, exports CSV. Axe on every page."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cityhall.roles import Role
from code_enforcement.models import Department, ServiceCategory, ServiceRequest
from kpis.models import PerformanceSettings
from kpis.rollups import rollup_days
from tests.browser.console import console_sign_in
from tests.personas import make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(db):
    department = Department.objects.create(name="Public Works")
    category = ServiceCategory.objects.create(
        code="pothole",
        name_en="Pothole",
        name_es="Bache",
        description_en="A hole.",
        description_es="Un hoyo.",
        group="Streets",
        department=department,
    )
    now = timezone.now()
    ServiceRequest.objects.bulk_create(
        ServiceRequest(
            category=category,
            description="demo",
            latitude=36.405,
            longitude=-121.3,
            created_at=now - timedelta(days=n % 60),
            public_id=f"K{n:07d}",
        )
        for n in range(120)
    )
    today = timezone.localdate()
    rollup_days(start=today - timedelta(days=400), end=today)
    settings_row = PerformanceSettings.current()
    settings_row.public_metrics = ["requests_received", "closed_within_sla"]
    settings_row.save()


def test_manager_changes_period_drills_down_and_exports(page, a11y, live_server, history):
    manager = make_staff(Role.MANAGER, "morgan@riverbend.example")
    console_sign_in(page, a11y, live_server, manager, "/kpis/")
    expect(page.get_by_role("heading", level=1)).to_have_text("City performance dashboard")

    page.get_by_label("Period").select_option("quarter")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile("period=quarter"))
    a11y(page)
    expect(page.locator(".cityhall-kpi-value").first).to_have_text("120")

    # A reversed custom range: a clear message, and the default period instead.
    page.get_by_label("Period").select_option("custom")
    page.get_by_label("From (for custom dates)").fill("2026-06-30")
    page.get_by_label("To", exact=True).fill("2026-06-01")
    page.get_by_role("button", name="Show").click()
    a11y(page)
    expect(page.locator(".usa-alert--error")).to_contain_text(
        "The end date is before the start date."
    )

    page.get_by_role("link", name="Requests closed").click()
    a11y(page)
    expect(page.get_by_role("heading", name="Requests closed", level=2)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the data")).click()
    assert download.value.suggested_filename.startswith("requests_closed-")
    page.get_by_role("link", name="See the records in the console").click()
    page.wait_for_url(re.compile("/console/code_enforcement/servicerequest/"))
    a11y(page)


def test_public_performance_page_in_both_languages(page, a11y, live_server, history):
    page.goto(f"{live_server.url}/performance/")
    a11y(page)
    expect(page.get_by_role("heading", name="Requests received")).to_be_visible()
    page.goto(f"{live_server.url}/es/performance/")
    a11y(page)
    expect(page.get_by_role("heading", name="Reportes recibidos")).to_be_visible()
