"""The console as a clerk works in it, in Chromium with axe on every page state a person sees: a
reviewer reads a complete permit page and approves through an "are you sure?" step shown in place
(a double click, or a stale confirmation in a second tab, applies nothing twice), a supervisor's
inspector picker lists inspectors by name only, the report queue opens on open work with the
overdue first and walks on to the next record, and closing a report on a phone asks first.

The record page's action bar and its confirmation post in the background (htmx) and replace the
page's main area; the address stays the record's. So each step waits for what a person reads
(the message, the confirmation's heading) before axe runs, never for a navigation."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cityhall.roles import Role
from code_enforcement.constants import RequestStatus
from code_enforcement.models import ServiceRequest
from code_enforcement.services import requests as request_services
from code_enforcement.tests.factories import make_case, make_request
from permits import services as permit_services
from permits.constants import Status
from permits.models import Application, DocumentRequirement
from permits.tests.factories import _move_to, make_application, make_permit_type, pdf_upload
from tests.browser.console import console_sign_in, track
from tests.personas import make_resident, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def named_staff(role: Role, email: str, first: str, last: str):
    user = make_staff(role, email)
    user.first_name, user.last_name = first, last
    user.save()
    return user


# --- A complete permit page, then an approval that asks first ----------------------------------


def _in_review_with_documents(alice) -> Application:
    """A building permit in review with a site plan (its requirement) and an elevation."""
    permit_type = make_permit_type("BLD")
    site_plan = DocumentRequirement.objects.create(
        permit_type=permit_type, name_en="Site plan", name_es="Plano del sitio", required=False
    )
    draft = make_application(alice, permit_type)
    permit_services.document_add(
        application=draft, actor=alice, uploaded=pdf_upload("site-plan.pdf"), requirement=site_plan
    )
    permit_services.document_add(
        application=draft, actor=alice, uploaded=pdf_upload("elevation.pdf")
    )
    return _move_to(draft, Status.IN_REVIEW)


def test_a_reviewer_reads_the_whole_application_then_approves_once(page, a11y, live_server, alice):
    application = _in_review_with_documents(alice)
    # Separation of duties (`not_own`) only keeps the applicant from deciding on their own
    # application; the reviewer who asked may decide.
    reviewer = named_staff(Role.PLAN_REVIEWER, "rita@riverbend.example", "Rita", "Moreno")
    permit_services.application_request_info(
        application=application, actor=reviewer, message="Show the fence height."
    )
    permit_services.info_answer(
        application=Application.objects.get(pk=application.pk),
        actor=alice,
        answer="It is 6 feet tall, drawn on sheet 2.",
    )
    assert Application.objects.get(pk=application.pk).status == Status.IN_REVIEW

    pdf_loads = []
    page.on("request", lambda r: pdf_loads.append(r.url) if "inline=1" in r.url else None)
    path = f"/console/permits/application/{application.pk}/change/"
    record_url = re.compile(re.escape(path) + "$")
    console_sign_in(page, a11y, live_server, reviewer, path)

    # Everything a reviewer reads before deciding.
    expect(page.locator("#summary-heading")).to_contain_text(application.number)
    documents = page.locator("section", has=page.locator("#documents-heading"))
    expect(documents.get_by_role("heading", level=2)).to_have_text("Documents")
    site_plan_row = documents.get_by_role("row").filter(has_text="site-plan.pdf")
    expect(site_plan_row.get_by_role("rowheader")).to_have_text("✓ Site plan")
    elevation_row = documents.get_by_role("row").filter(has_text="elevation.pdf")
    expect(elevation_row.get_by_role("rowheader")).to_have_text("Other document")
    expect(documents.get_by_role("link", name="site-plan.pdf")).to_be_visible()
    answers = page.locator("section", has=page.locator("#info-heading"))
    expect(answers.get_by_role("heading", level=2)).to_have_text(
        "Information requests and the applicant's answers"
    )
    expect(answers).to_contain_text("by Rita Moreno")
    expect(answers).to_contain_text("Show the fence height.")
    expect(answers.locator("blockquote")).to_have_text("It is 6 feet tall, drawn on sheet 2.")
    facts = page.locator(".case-facts")
    next_step = facts.locator("div", has=page.get_by_text("Next step", exact=True))
    expect(next_step.locator("dd")).to_have_text(
        "Review the documents and answers below, then approve, deny or request information."
    )
    clock = facts.locator("div", has=page.get_by_text("Decision clock", exact=True))
    expect(clock.locator("dd")).not_to_be_empty()

    # The PDF previews stay closed, and unloaded, until the reviewer opens one.
    preview = page.locator("details.case-preview").filter(has_text="Preview site-plan.pdf")
    expect(preview.locator("summary")).to_have_text("Preview site-plan.pdf (Site plan)")
    expect(preview).not_to_have_attribute("open", re.compile(".*"))
    expect(preview.locator("iframe")).to_be_hidden()
    assert not pdf_loads, f"a closed preview loaded its PDF: {pdf_loads}"
    preview.locator("summary").click()
    expect(preview.locator("iframe")).to_be_visible()
    expect(preview.locator("iframe")).to_have_attribute("title", "site-plan.pdf")
    a11y(page)
    site_plan_pk = application.documents.get(original_name="site-plan.pdf").pk
    assert [url for url in pdf_loads if f"/{site_plan_pk}/?inline=1" in url], pdf_loads
    # Read, the preview is closed again. (Chromium's PDF viewer takes the focus when it has
    # loaded, and while it has it, the next click on the page only takes the focus back.)
    preview.locator("summary").click()
    expect(preview.locator("iframe")).to_be_hidden()

    expect(page.locator(".alert-workflow")).not_to_contain_text("{#")  # no template source

    # Approve asks first, in place of the record, and says what happens.
    conditions = "Keep the fence 2 feet back from the sidewalk."
    page.get_by_label("Conditions of approval (optional)").fill(conditions)
    approve = page.locator('form[action$="/act/approve/"] [type="submit"]')
    expect(approve).to_have_value("Approve…")  # the "…" says a question comes next
    page.get_by_role("button", name="Approve…", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approve: are you sure?")
    a11y(page)
    expect(page).to_have_url(record_url)  # shown in place: the address is still the record's
    consequence = page.locator(".console-confirm__consequence")
    expect(consequence).to_contain_text(f"{application.number} is approved")
    expect(consequence).to_contain_text("A decision cannot be undone")
    expect(page.locator(".console-confirm__typed")).to_contain_text(conditions)
    expect(page.get_by_role("link", name="No, go back")).to_have_attribute("href", path)
    assert Application.objects.get(pk=application.pk).status == Status.IN_REVIEW

    # Meanwhile the same reviewer has the record open in a second tab, on its own confirmation
    # of "Approve" (without conditions).
    other = page.context.new_page()
    track(other, a11y)
    other.goto(f"{live_server.url}{path}")
    a11y(other)
    other.get_by_role("button", name="Approve…", exact=True).click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Approve: are you sure?")
    a11y(other)

    # "Yes, approve" clicked twice in a row (an impatient double click) approves once.
    sent = []  # every confirmation of "Approve" the browser sends, answered or not

    def keep_approvals(request):
        if request.method == "POST" and request.url.endswith("/act/approve/"):
            sent.append(request)

    page.on("request", keep_approvals)
    page.get_by_role("button", name="Yes, approve").dblclick()
    expect(page.locator(".messagelist")).to_contain_text("is now Approved")
    # Keyboard and screen-reader users are taken to the main area, where the message is.
    expect(page.locator("#content-start")).to_be_focused()
    a11y(page)
    expect(page).to_have_url(record_url)
    expect(page.locator(".case-facts strong").first).to_have_text("Approved")
    for request in sent:  # a second confirmation, had the browser sent one, is answered too
        request.response()
    application.refresh_from_db()
    assert application.status == Status.APPROVED and application.conditions == conditions
    assert application.events.filter(status=Status.APPROVED).count() == 1
    decided_at = application.decided_at
    assert decided_at is not None

    # Reloading the record page sends nothing again, and Approve is no longer offered.
    page.reload()
    a11y(page)
    expect(page.locator(".case-facts strong").first).to_have_text("Approved")
    expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)

    # The stale confirmation in the other tab still submits, but changes nothing and says why.
    other.get_by_role("button", name="Yes, approve").click()
    expect(other.locator(".messagelist")).to_contain_text("it is now Approved. Nothing was done")
    a11y(other)
    expect(other).to_have_url(record_url)
    expect(other.locator(".case-facts strong").first).to_have_text("Approved")
    application.refresh_from_db()
    assert application.status == Status.APPROVED and application.decided_at == decided_at
    assert application.conditions == conditions  # not overwritten by the empty second form
    assert application.events.filter(status=Status.APPROVED).count() == 1


# --- The inspector picker ------------------------------------------------------------------------


def test_the_inspector_picker_names_inspectors_and_never_a_resident(page, a11y, live_server):
    make_resident("neighbour@example.com", first_name="Nosy", last_name="Neighbour")
    inspector = named_staff(Role.CODE_INSPECTOR, "isabel@riverbend.example", "Isabel", "Cruz")
    supervisor = named_staff(Role.CODE_SUPERVISOR, "sam@riverbend.example", "Sam", "Ortiz")
    case = make_case(actor=inspector)

    console_sign_in(
        page, a11y, live_server, supervisor, f"/console/code_enforcement/codecase/{case.pk}/change/"
    )
    # Scheduling an inspection picks its inspector; any other move that picks one (assigning
    # the case) must list the same people, so every "Inspector" picker on the page is checked.
    schedule = page.locator('form[action$="/act/schedule/"]')
    expect(schedule.get_by_label("Inspector", exact=True)).to_have_count(1)
    pickers = page.get_by_label("Inspector", exact=True).all()
    for picker in pickers:
        options = [text.strip() for text in picker.locator("option").all_inner_texts()]
        assert "Isabel Cruz" in options, options
        assert not [o for o in options if "Nosy" in o or "Neighbour" in o or "@example.com" in o], (
            options
        )


# --- The report queue at 1280 px, then on to the next record ------------------------------------


def test_the_report_queue_opens_on_open_work_overdue_first_and_walks_on(page, a11y, live_server):
    supervisor = named_staff(Role.CODE_SUPERVISOR, "queue.sup@riverbend.example", "Sam", "Ortiz")
    late = make_request(address="1 Late Street")
    fresh = make_request(address="2 Fresh Street")
    closed = make_request(address="3 Closed Street")
    ServiceRequest.objects.filter(pk=late.pk).update(
        triage_due=timezone.localdate() - timezone.timedelta(days=3)
    )
    request_services.request_close(request=closed, actor=supervisor, resolution="resolved")

    page.set_viewport_size({"width": 1280, "height": 900})
    listing = "/console/code_enforcement/servicerequest/"
    console_sign_in(page, a11y, live_server, supervisor, listing)
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).not_to_contain_text("3 Closed Street")
    expect(rows.first).to_contain_text("1 Late Street")
    expect(rows.first).to_contain_text("OVERDUE 3 d")
    expect(rows.nth(1)).to_contain_text("2 Fresh Street")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the queue scrolls sideways at 1280 px: {width} px wide"

    rows.first.get_by_role("link", name=late.public_id).click()
    page.wait_for_url(re.compile(rf"/servicerequest/{late.pk}/change/"))
    a11y(page)
    expect(page.locator("#triage-heading")).to_contain_text(late.public_id)
    nav = page.get_by_role("navigation", name="Records in this list")
    expect(nav).to_contain_text("1 of 2")
    nav.get_by_role("link", name="Next in the list →").click()
    page.wait_for_url(re.compile(rf"/servicerequest/{fresh.pk}/change/"))
    a11y(page)
    expect(page.locator("#triage-heading")).to_contain_text(fresh.public_id)
    expect(page.locator("#content-main")).to_contain_text("2 Fresh Street")


# --- Closing a report on a phone asks first -------------------------------------------------------


def test_closing_a_report_on_a_phone_asks_first_then_closes(phone_page, a11y, live_server):
    page = phone_page
    supervisor = named_staff(Role.CODE_SUPERVISOR, "close.sup@riverbend.example", "Sam", "Ortiz")
    report = make_request(address="14 Birch Street")
    path = f"/console/code_enforcement/servicerequest/{report.pk}/change/"
    console_sign_in(page, a11y, live_server, supervisor, path)

    expect(page.locator(".alert-workflow")).not_to_contain_text("{#")  # no template source
    note = "The city crew filled the pothole this morning."
    page.get_by_label("Resolution").select_option(label="Resolved")
    page.get_by_label("Note to the reporter", exact=True).fill(note)
    close = page.locator('form[action$="/act/close/"] [type="submit"]')
    expect(close).to_have_value("Close or refer…")  # the "…": a page that asks first comes next
    page.get_by_role("button", name="Close or refer…", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Close or refer: are you sure?")
    a11y(page)
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))  # shown in place
    expect(page.locator(".console-confirm__consequence")).to_contain_text(
        f"{report.public_id} closes and its reporter is told"
    )
    typed = page.locator(".console-confirm__typed")
    expect(typed).to_contain_text("Resolved")
    expect(typed).to_contain_text(note)
    assert ServiceRequest.objects.get(pk=report.pk).status != RequestStatus.CLOSED

    page.get_by_role("button", name="Yes, close or refer").click()
    expect(page.locator(".messagelist")).to_contain_text("is now Closed")
    a11y(page)
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.locator("#triage-heading")).to_contain_text(f"{report.public_id}: Closed")
    report.refresh_from_db()
    assert report.status == RequestStatus.CLOSED and report.resolution == "resolved"
