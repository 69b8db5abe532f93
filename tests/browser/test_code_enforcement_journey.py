"""On a phone: an anonymous resident reports with a photo; staff triage, inspect, notify in
Spanish and close; the resident reads each email the city sends and follows its link to the
report's page. Axe on every page."""

import io
import re

import pytest
from django.core import mail
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
from tests.browser.messages import choose, read_email, sees, worker_sends
from tests.personas import make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


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
    sees(page, a11y, "Step 1 of 6 What is the problem?", "For emergencies call 911.")
    choose(page, "Overgrown vegetation")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile("/report/location/"))
    sees(page, a11y, "Step 2 of 6 Where is it?", "Or choose the place on the map")
    page.get_by_label("Address or nearest address").fill("120 Oak Street")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile("/report/details/"))
    sees(page, a11y, "Step 3 of 6 Tell us more", "What, where exactly, and since when.")
    page.get_by_label("Describe the problem").fill(
        "Dry weeds taller than the fence, next to the garage."
    )
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile("/report/photos/"))
    sees(page, a11y, "Step 4 of 6 Photos (optional)", "We remove the camera details")
    page.get_by_label("Add a photo").set_input_files(
        {"name": "weeds.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}
    )
    page.get_by_role("button", name="Add this photo").click()
    sees(page, a11y, "Step 4 of 6 Photos (optional)", "Photo added.")
    expect(page.get_by_role("img", name="Your photo 1")).to_be_visible()
    page.get_by_role("button", name="Continue", exact=True).click()
    page.wait_for_url(re.compile("/report/contact/"))
    sees(page, a11y, "Step 5 of 6 How can we reach you?", "Leave them empty to report anonymously")
    page.get_by_label("Email").fill("neighbor@example.com")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile("/report/review/"))
    sees(page, a11y, "Step 6 of 6 Check your report", "Dry weeds taller than the fence")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url(re.compile("/submitted/"))
    request = ServiceRequest.objects.get()
    number = request.public_id
    sees(page, a11y, "Report received", f"Your report number is {number}. Keep it")
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
    case = CodeCase.objects.get()
    sees(staff, a11y, "Change code case", f"Case {case.number} opened.")

    # The reporter hears that staff looked at it and that it became a case; both emails lead
    # to the report's page.
    worker_sends()
    [looking] = read_email(
        live_server,
        to="neighbor@example.com",
        subject=f"We are looking at your report {number}.",
        says=f"We are looking at your report {number}.",
    )
    [report] = read_email(
        live_server,
        to="neighbor@example.com",
        subject=f"Your report {number} became a code enforcement case.",
        says=f"Your report {number} became a code enforcement case.",
    )
    assert looking == report
    page.goto(report)
    sees(page, a11y, f"Report {number}", f"Code case {case.number}")
    expect(page.locator(".usa-tag").first).to_have_text("In progress")

    staff.get_by_role("button", name="Schedule inspection").click()
    sees(staff, a11y, "Change code case", "is now Inspection scheduled")

    inspector = make_staff(Role.CODE_INSPECTOR, "isabel@riverbend.example")
    CodeCase.objects.filter(pk=case.pk).update(inspector=inspector)
    field = new_staff_page(
        browser,
        a11y,
        live_server,
        inspector,
        f"/console/code_enforcement/codecase/{case.pk}/change/",
    )
    field.get_by_label("What was found", exact=True).fill("Weeds over 3 feet along the east fence.")
    field.get_by_role("button", name="Record violation").click()
    sees(field, a11y, "Change code case", "is now Violation confirmed")
    field.get_by_label("Notice language").select_option("es")
    field.get_by_role("button", name="Issue notice of violation…").click()
    sees(field, a11y, "Issue notice of violation: are you sure?", "The notice is a legal record")
    field.get_by_role("button", name="Yes, issue notice of violation").click()
    field.wait_for_url(re.compile(r"/console/code_enforcement/codecase/notice/\d+/"))
    sees(field, a11y, "Aviso de infracción", "Corrija estas infracciones a más tardar el")
    expect(field.locator("html")).to_have_attribute("lang", "es")
    case.refresh_from_db()
    assert case.status == CaseStatus.NOTICE_ISSUED

    assert automation.reinspections_due(today=case.comply_by) == 1  # beat, on the comply-by date
    field.goto(f"{live_server.url}/console/code_enforcement/codecase/{case.pk}/change/")
    sees(field, a11y, "Change code case", f"{case.number}: Reinspection")
    field.get_by_label("Reinspection result").select_option("complied")
    field.get_by_role("button", name="Record reinspection").click()
    sees(field, a11y, "Change code case", "is now Complied")
    field.get_by_role("button", name="Close case…").click()
    sees(field, a11y, "Close case: are you sure?", "The case closes")
    field.get_by_role("button", name="Yes, close case").click()
    sees(field, a11y, "Change code case", "is now Closed")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED

    # The reporter's last email: closed, with the case's note; its link shows it closed.
    worker_sends()
    [report] = read_email(
        live_server,
        to="neighbor@example.com",
        subject=f"Your report {number} was closed.",
        says=f"Case {case.number} closed.",
    )
    page.goto(report)
    sees(page, a11y, f"Report {number}", f"Case {case.number} closed.")
    expect(page.locator(".usa-tag").first).to_have_text("Closed")
    request.refresh_from_db()
    assert request.status == RequestStatus.CLOSED
    assert not mail.outbox, [(email.to, email.subject) for email in mail.outbox]
    unchecked = [
        u for u in dict.fromkeys(a11y.visited) if u not in a11y.checked and u != "about:blank"
    ]
    assert not unchecked, unchecked


def test_public_map_and_list(page, a11y, live_server, city):
    page.goto(f"{live_server.url}/requests/map/")
    sees(page, a11y, "Open reports near you", "No open reports.")
