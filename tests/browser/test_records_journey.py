"""Records retention in the console, as a manager and the city administrator use it: the
retention schedule and what a rule would dispose of tonight, a legal hold on an address that
stops it, the night's run and its log, releasing the hold, a public-records export downloaded
and read; and a Spanish resident under a hold who asks to delete her account. Axe on every
page; screenshots at 390 and 1280 px (test-artifacts/screenshots/test_records_journey/)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cityhall.records import services
from cityhall.records.defaults import create_default_rules
from cityhall.records.models import DisposalLog, LegalHold, RetentionRule
from cityhall.roles import Role
from code_enforcement.constants import RequestStatus
from code_enforcement.models import ServiceRequest
from code_enforcement.tests.factories import make_category
from tests.browser.console import console_sign_in
from tests.personas import PASSWORD, make_resident, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORTERS = [
    ("Ana Ruiz", "ana.ruiz@example.com", "120 Oak Street"),
    ("Tom Becker", "tom.becker@example.com", "88 River Rd"),
    ("Lucía Méndez", "lucia.mendez@example.com", "415 Elm St"),
]


@pytest.fixture(autouse=True)
def default_schedule(transactional_db):
    """The schedule migration 0002 writes (a transactional test's flush empties the table)."""
    create_default_rules(RetentionRule, RetentionRule.history.model)


@pytest.fixture
def old_reports(db):
    """Three reports closed 800 days ago, still with who sent them."""
    category = make_category(code="pothole", name_en="Pothole")
    closed = timezone.now() - timedelta(days=800)
    made = []
    for name, email, address in REPORTERS:
        request = ServiceRequest.objects.create(
            category=category,
            description="Deep pothole by the curb. Call me at (555) 010-7788.",
            address=address,
            contact_name=name,
            contact_email=email,
            contact_phone="(555) 010-7788",
        )
        ServiceRequest.objects.filter(pk=request.pk).update(
            status=RequestStatus.CLOSED, created_at=closed, closed_at=closed
        )
        made.append(request)
    return made


def open_rule(page: Page, a11y, name: str) -> None:
    page.get_by_role("link", name=re.compile(re.escape(name))).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("retention rule")
    a11y(page)


def test_manager_holds_an_address_the_night_spares_it_and_the_export_hides_reporters(
    page, a11y, live_server, old_reports
):
    manager = make_staff(Role.MANAGER)
    console_sign_in(page, a11y, live_server, manager, "/console/records/retentionrule/")

    # The schedule: every record type, its period and what happens then.
    expect(page.get_by_role("heading", level=1)).to_have_text("Select retention rule to view")
    table = page.locator("#result_list")
    expect(table).to_contain_text("Service requests (reports of problems)")
    expect(table).to_contain_text("Permanently")
    expect(table).to_contain_text("30 days")

    # A rule's page says what tonight's run would do; a manager reads it and cannot change it.
    open_rule(page, a11y, "Service requests (reports of problems)")
    expect(page.get_by_text("3 records would be anonymised tonight.")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)

    # A legal hold on the first reporter's address, typed differently.
    page.goto(f"{live_server.url}/console/records/legalhold/add/")
    a11y(page)
    page.get_by_text("Everything about an address").click()
    page.locator("#id_address").fill("120 oak st")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote, .errorlist").first).to_be_visible()
    a11y(page)
    expect(page.locator("#id_address")).to_have_value("120 oak st")
    page.locator("#id_reason").fill("Claim 2026-14 against the city: keep everything at 120 Oak.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    a11y(page)
    expect(page.locator("#result_list")).to_contain_text("120 oak st")

    rule = RetentionRule.objects.get(record_type="code_enforcement.servicerequest")
    page.goto(f"{live_server.url}/console/records/retentionrule/{rule.pk}/change/")
    expect(
        page.get_by_text(
            "2 records would be anonymised tonight (records under a legal hold are not counted)."
        )
    ).to_be_visible()
    a11y(page)

    # The night's run (what beat's records-dispose does).
    services.dispose()
    page.goto(f"{live_server.url}/console/records/disposallog/")
    a11y(page)
    row = page.locator("#result_list tr", has_text="Service requests")
    expect(row).to_contain_text("anonymise")
    expect(page.locator("#result_list")).not_to_contain_text("Ruiz")
    held, *others = old_reports
    held.refresh_from_db()
    assert held.contact_email == "ana.ruiz@example.com"
    assert all(not ServiceRequest.objects.get(pk=o.pk).contact_email for o in others)

    # Releasing the hold needs a reason; the form keeps what was typed otherwise.
    hold = LegalHold.objects.get()
    page.goto(f"{live_server.url}/console/records/legalhold/{hold.pk}/change/")
    a11y(page)
    expect(page.get_by_text("Active: nothing it covers is disposed of")).to_be_visible()
    page.get_by_role("button", name="Release the hold").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    a11y(page)
    page.locator("#id_release_reason").fill("Claim settled on 2026-11-20.")
    page.get_by_role("button", name="Release the hold").click()
    expect(page.locator(".messagelist")).to_contain_text("Released the hold on 120 oak st")
    a11y(page)
    expect(page.get_by_text("Claim settled on 2026-11-20.")).to_be_visible()
    services.dispose()
    held.refresh_from_db()
    assert held.contact_email == ""

    # A public-records request about the address: the ZIP hides the reporters.
    page.goto(f"{live_server.url}/console/records/recordsrequest/add/")
    a11y(page)
    page.locator("#id_address").fill("120 Oak St")
    page.locator("#id_requester").fill("CPRA request 2026-031, a journalist")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("The export about 120 Oak St holds")
    a11y(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the ZIP").click()
    with open(download_info.value.path(), "rb") as downloaded:
        data = downloaded.read()
    archive = zipfile.ZipFile(io.BytesIO(data))
    readme = archive.read("README.txt").decode()
    records = json.loads(archive.read("records.json"))
    assert "complainants in code enforcement are confidential" in readme
    reports = next(s for s in records["sections"] if s["name"] == "reports")["records"]
    assert [r["address"] for r in reports] == ["120 Oak Street"]
    assert "description" not in reports[0]  # what a reporter wrote may say who they are
    text = data.decode("latin-1") + readme + json.dumps(records, ensure_ascii=False)
    for name, email, _address in REPORTERS:
        assert name not in text and email not in text
    assert "010-7788" not in text


def test_city_administrator_changes_a_period_and_the_history_says_so(page, a11y, live_server):
    admin = make_staff(Role.CITY_ADMINISTRATOR)
    rule = RetentionRule.objects.get(record_type="alerts.subscription", status="unconfirmed")
    console_sign_in(
        page, a11y, live_server, admin, f"/console/records/retentionrule/{rule.pk}/change/"
    )
    expect(page.locator("#id_period")).to_have_value("30")
    page.locator("#id_period").fill("14")
    page.locator("#id_reason").fill("Council resolution 2026-88: two weeks to confirm.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    a11y(page)
    expect(page.locator("#result_list")).to_contain_text("14 days")
    page.goto(f"{live_server.url}/console/records/retentionrule/{rule.pk}/history/")
    a11y(page)
    expect(page.locator("body")).to_contain_text("Council resolution 2026-88")
    assert RetentionRule.objects.get(pk=rule.pk).history.count() == 2
    assert DisposalLog.objects.count() == 0


def test_a_resident_under_a_hold_is_told_to_contact_city_hall_in_spanish(
    phone_page, a11y, live_server
):
    maria = make_resident("maria@example.com", language="es", first_name="María")
    LegalHold.objects.create(
        kind="person", person_email="maria@example.com", reason="Public-records request 2026-40"
    )
    page = phone_page
    page.goto(f"{live_server.url}/es/accounts/login/?next=/es/me/delete/")
    a11y(page)
    page.get_by_label("Correo electrónico").fill(maria.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(re.compile(r"/es/me/delete/"))
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Eliminar mi cuenta")
    expect(
        page.get_by_text("Por el momento no se puede eliminar su cuenta en línea")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Descargar mis datos")).to_be_visible()
    expect(page.get_by_role("button", name="Eliminar mi cuenta")).to_have_count(0)
    maria.refresh_from_db()
    assert maria.is_active and maria.email == "maria@example.com"
