"""On a phone: an anonymous resident reports with a photo; staff triage, inspect, notify in
Spanish and close; the resident's tracking page shows it closed. Axe on every page."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from cityhall.places import DEMO_NEIGHBORHOODS, neighborhoods_load
from cityhall.roles import Role
from code_enforcement import automation
from code_enforcement.constants import CaseStatus, RequestStatus
from code_enforcement.models import (
    Address,
    CodeCase,
    Department,
    ServiceCategory,
    ServiceRequest,
    ViolationType,
)
from tests.browser.console import new_staff_page
from tests.personas import make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def choose(page, label: str) -> None:
    page.locator("label", has_text=re.compile(f"^{re.escape(label)}")).first.click()


@pytest.fixture
def city(db):
    neighborhoods_load(path=DEMO_NEIGHBORHOODS)
    department = Department.objects.create(name="Code Enforcement")
    ServiceCategory.objects.create(
        code="overgrown-vegetation",
        name_en="Overgrown vegetation",
        name_es="Vegetación crecida",
        description_en="Weeds or brush that are a fire risk.",
        description_es="Maleza que es riesgo de incendio.",
        group="Property",
        department=department,
        opens_cases=True,
    )
    Address.objects.create(line="120 Oak Street", latitude=36.405, longitude=-121.300)
    ViolationType.objects.create(
        code_section="RMC 8.12.030",
        title_en="Overgrown vegetation",
        title_es="Vegetación crecida",
        correction_en="Cut the weeds.",
        correction_es="Corte la maleza.",
    )


def test_report_triage_case_notice_reinspection_closed(
    phone_page, browser, a11y, live_server, city
):
    page = phone_page
    page.goto(f"{live_server.url}/report/")
    a11y(page)
    choose(page, "Overgrown vegetation")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile("/report/location/"))
    a11y(page)
    page.get_by_label("Address or nearest address").fill("120 Oak Street")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile("/report/details/"))
    a11y(page)
    page.get_by_label("Describe the problem").fill(
        "Dry weeds taller than the fence, next to the garage."
    )
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile("/report/photos/"))
    a11y(page)
    page.get_by_label("Add a photo").set_input_files(
        {"name": "weeds.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}
    )
    page.get_by_role("button", name="Add this photo").click()
    a11y(page)
    expect(page.get_by_role("img", name="Your photo 1")).to_be_visible()
    page.get_by_role("button", name="Continue", exact=True).click()
    page.wait_for_url(re.compile("/report/contact/"))
    a11y(page)
    page.get_by_label("Email").fill("neighbor@example.com")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile("/report/review/"))
    a11y(page)
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url(re.compile("/submitted/"))
    a11y(page)
    request = ServiceRequest.objects.get()
    assert request.photos.count() == 1 and request.reporter is None

    supervisor = make_staff(Role.CODE_SUPERVISOR, "sam@riverbend.example")
    staff = new_staff_page(
        browser,
        a11y,
        live_server,
        supervisor,
        f"/console/code_enforcement/servicerequest/{request.pk}/change/",
    )
    # Opening a case can schedule its first inspection at once (today, by default); here the
    # supervisor leaves the date empty and schedules it on the case's page.
    staff.get_by_label("First inspection (YYYY-MM-DD)").fill("")
    staff.get_by_role("button", name="Open a code case").click()
    # The new case's own page (a full navigation: another record).
    staff.wait_for_url(re.compile(r"/console/code_enforcement/codecase/\d+/change/"))
    a11y(staff)
    case = CodeCase.objects.get()
    staff.get_by_role("button", name="Schedule inspection").click()
    expect(staff.locator(".messagelist")).to_contain_text("is now Inspection scheduled")
    a11y(staff)

    inspector = make_staff(Role.CODE_INSPECTOR, "isabel@riverbend.example")
    CodeCase.objects.filter(pk=case.pk).update(inspector=inspector)
    field = new_staff_page(
        browser,
        a11y,
        live_server,
        inspector,
        f"/console/code_enforcement/codecase/{case.pk}/change/",
    )
    field.get_by_label("What was found").fill("Weeds over 3 feet along the east fence.")
    field.get_by_role("button", name="Record violation").click()
    expect(field.locator(".messagelist")).to_contain_text("is now Violation confirmed")
    a11y(field)
    field.get_by_label("Notice language").select_option("es")
    field.get_by_role("button", name="Issue notice of violation…").click()
    expect(field.locator("#content-main")).to_contain_text("The notice is a legal record")
    a11y(field)
    field.get_by_role("button", name="Yes, issue notice of violation").click()
    field.wait_for_url(re.compile(r"/console/code_enforcement/codecase/notice/\d+/"))
    a11y(field)
    expect(field.locator("html")).to_have_attribute("lang", "es")
    expect(field.get_by_role("heading", level=1)).to_have_text("Aviso de infracción")
    case.refresh_from_db()
    assert case.status == CaseStatus.NOTICE_ISSUED

    assert automation.reinspections_due(today=case.comply_by) == 1  # beat, on the comply-by date
    field.goto(f"{live_server.url}/console/code_enforcement/codecase/{case.pk}/change/")
    a11y(field)
    field.get_by_label("Reinspection result").select_option("complied")
    field.get_by_role("button", name="Record reinspection").click()
    expect(field.locator(".messagelist")).to_contain_text("is now Complied")
    a11y(field)
    field.get_by_role("button", name="Close case…").click()
    expect(field.locator("#content-main")).to_contain_text("The case closes")
    a11y(field)
    field.get_by_role("button", name="Yes, close case").click()
    expect(field.locator(".messagelist")).to_contain_text("is now Closed")
    a11y(field)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED

    page.goto(f"{live_server.url}/requests/{request.public_id}/")
    a11y(page)
    expect(page.locator(".usa-tag").first).to_have_text("Closed")
    request.refresh_from_db()
    assert request.status == RequestStatus.CLOSED
    unchecked = [
        u for u in dict.fromkeys(a11y.visited) if u not in a11y.checked and u != "about:blank"
    ]
    assert not unchecked, unchecked


def test_public_map_and_list(page, a11y, live_server, city):
    page.goto(f"{live_server.url}/requests/map/")
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
