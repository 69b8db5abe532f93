"""The console as a clerk works in it all day (issue 12): complete permit pages, queues that
open on open work, pickers with the right people, confirmation before irreversible moves,
double clicks and stale pages that apply nothing twice, previous/next through a list."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from alerts.tests.factories import make_alert, make_subscription, make_topic
from cityhall.roles import Role
from code_enforcement.constants import RequestStatus
from code_enforcement.tests.factories import make_case, make_request
from permits import services as permit_services
from permits.constants import Status
from permits.models import Application, TimelineEvent
from permits.tests.factories import _move_to, make_application, pdf_upload
from tests.personas import make_resident, make_staff, verified_client

pytestmark = pytest.mark.django_db


def _options(page: str, select_name: str) -> list[str]:
    select = re.search(rf'<select name="{select_name}".*?</select>', page, re.S).group(0)
    return [label.strip() for label in re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)<", select)]


# --- Complete case pages ------------------------------------------------------------------------


def _in_review_with_documents(alice):
    draft = make_application(alice)
    for name in ("site-plan.pdf", "elevation.pdf"):
        permit_services.document_add(application=draft, actor=alice, uploaded=pdf_upload(name))
    return _move_to(draft, Status.IN_REVIEW)


def test_the_reviewer_sees_every_document_and_the_applicants_answer_before_deciding(alice):
    application = _in_review_with_documents(alice)
    reviewer_user = make_staff(Role.PLAN_REVIEWER, "page.reviewer@riverbend.example")
    permit_services.application_request_info(
        application=application, actor=reviewer_user, message="Show the fence height."
    )
    permit_services.info_answer(
        application=Application.objects.get(pk=application.pk),
        actor=alice,
        answer="It is 6 feet tall, drawn on sheet 2.",
    )
    page = (
        verified_client(reviewer_user)
        .get(f"/console/permits/application/{application.pk}/change/")
        .content.decode()
    )
    documents = list(application.documents.all())
    assert len(documents) >= 2
    for document in documents:
        assert document.original_name in page
        assert f"/permits/files/{application.public_id}/{document.pk}/?inline=1" in page
    assert "Show the fence height." in page and "It is 6 feet tall, drawn on sheet 2." in page
    assert "Review the documents and answers below" in page  # the next step
    assert "{#" not in page and "{%" not in page  # no template source shown to staff
    assert "Decision clock" in page and f"balance ${application.balance}" in page
    # "View on site" opens the public record, never a 404.
    assert f'href="/permits/search/?q={application.number}"' in page


def test_a_document_preview_may_be_framed_by_our_own_pages_only(alice):
    application = _in_review_with_documents(alice)
    document = application.documents.first()
    client = verified_client(make_staff(Role.PLAN_REVIEWER, "frame.reviewer@riverbend.example"))
    url = f"/permits/files/{application.public_id}/{document.pk}/"
    inline = client.get(url + "?inline=1")
    assert inline["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in inline["Content-Security-Policy"]
    assert client.get(url)["X-Frame-Options"] == "DENY"  # a download is never framed


# --- Queues -------------------------------------------------------------------------------------


def test_the_request_queue_opens_on_open_work_soonest_due_first():
    supervisor = verified_client(make_staff(Role.CODE_SUPERVISOR, "queue.sup@riverbend.example"))
    late = make_request(address="1 Late Street")
    fresh = make_request(address="2 Fresh Street")
    closed = make_request(address="3 Closed Street")
    type(late).objects.filter(pk=late.pk).update(
        triage_due=timezone.localdate() - timezone.timedelta(days=3)
    )
    type(closed).objects.filter(pk=closed.pk).update(status=RequestStatus.CLOSED)
    page = supervisor.get("/console/code_enforcement/servicerequest/").content.decode()
    assert "3 Closed Street" not in page
    assert page.index("1 Late Street") < page.index("2 Fresh Street")
    assert "OVERDUE 3 d" in page
    everything = supervisor.get("/console/code_enforcement/servicerequest/?state=all")
    assert "3 Closed Street" in everything.content.decode()
    assert fresh.public_id in page


# --- Pickers ------------------------------------------------------------------------------------


def test_the_inspector_picker_lists_inspectors_by_name_and_never_a_resident():
    make_resident("neighbour@example.com", first_name="Nosy", last_name="Neighbour")
    inspector = make_staff(Role.CODE_INSPECTOR, "isabel@riverbend.example")
    inspector.first_name, inspector.last_name = "Isabel", "Cruz"
    inspector.save()
    make_staff(Role.COMMUNICATIONS_OFFICER, "comms.picker@riverbend.example")
    supervisor = make_staff(Role.CODE_SUPERVISOR, "picker.sup@riverbend.example")
    case = make_case(actor=inspector)
    page = (
        verified_client(supervisor)
        .get(f"/console/code_enforcement/codecase/{case.pk}/change/")
        .content.decode()
    )
    assert _options(page, "inspector") == ["Isabel Cruz"]


def test_the_reviewer_picker_lists_plan_reviewers_only(alice):
    application = make_application(alice, status="submitted")
    reviewer = make_staff(Role.PLAN_REVIEWER, "rita@riverbend.example")
    reviewer.first_name, reviewer.last_name = "Rita", "Moreno"
    reviewer.save()
    for role in (Role.MANAGER, Role.COMMUNICATIONS_OFFICER, Role.CITY_ADMINISTRATOR):
        make_staff(role, f"{role.value}.picker@riverbend.example")
    page = (
        verified_client(reviewer)
        .get(f"/console/permits/application/{application.pk}/change/")
        .content.decode()
    )
    offered = _options(page, "assigned_reviewer")
    assert "Rita Moreno" in offered
    assert not [name for name in offered if "manager" in name or "communications" in name]
    assert not [name for name in offered if "administrator" in name]


def test_bulk_assign_asks_for_the_person_then_assigns_every_selected_report():
    supervisor = make_staff(Role.CODE_SUPERVISOR, "bulk.sup@riverbend.example")
    inspector = make_staff(Role.CODE_INSPECTOR, "bulk.inspector@riverbend.example")
    requests = [make_request(address=f"{n} Bulk Street") for n in (1, 2)]
    client = verified_client(supervisor)
    listing = "/console/code_enforcement/servicerequest/"
    chosen = {"action": "assign_to", "_selected_action": [r.pk for r in requests]}
    page = client.post(listing, chosen).content.decode()
    assert "Assign 2 service requests" in page and "1 Bulk Street" in page
    assert "bulk.inspector@riverbend.example" in page and "@example.com" not in page
    response = client.post(listing, {**chosen, "confirmed": "yes", "person": inspector.pk})
    assert response.status_code == 302
    assert {
        r.assigned_to_id for r in type(requests[0]).objects.filter(pk__in=[r.pk for r in requests])
    } == {inspector.pk}


# --- Safe moves ---------------------------------------------------------------------------------


def test_denying_asks_first_on_a_page_that_says_what_happens(alice):
    application = make_application(alice, status="in_review")
    client = verified_client(make_staff(Role.PLAN_REVIEWER, "safe.reviewer@riverbend.example"))
    act = f"/console/permits/application/{application.pk}/act/deny/"
    asked = client.post(act, {"reason": "Outside the city limits."})
    page = asked.content.decode()
    assert asked.status_code == 200 and "Deny: are you sure?" in page
    assert "closes as denied and the applicant is emailed the reason" in page
    assert "Outside the city limits." in page  # what was typed, shown and carried along
    assert f'action="{act}"' in page  # never the record's own form, whatever the address bar says
    assert Application.objects.get(pk=application.pk).status == Status.IN_REVIEW
    client.post(act, {"reason": "Outside the city limits.", "confirmed": "yes"})
    assert Application.objects.get(pk=application.pk).status == Status.DENIED


def test_a_deny_without_a_reason_never_reaches_the_confirmation(alice):
    application = make_application(alice, status="in_review")
    client = verified_client(make_staff(Role.PLAN_REVIEWER, "noreason@riverbend.example"))
    response = client.post(
        f"/console/permits/application/{application.pk}/act/deny/", {"reason": ""}
    )
    assert response.status_code == 302
    assert "Give the reason for the denial" in client.get(response["Location"]).content.decode()


def test_publishing_states_how_many_emails_and_texts_go_out():
    topic = make_topic("weather")
    for n in range(3):
        make_subscription(topic, email=f"s{n}@example.com")
    make_subscription(topic, phone="+14155550100")
    alert = make_alert(topic=topic, status="draft")
    client = verified_client(make_staff(Role.COMMUNICATIONS_OFFICER, "pub@riverbend.example"))
    page = client.post(f"/console/alerts/alert/{alert.pk}/act/publish/").content.decode()
    assert "Publishing sends 3 emails and 1 text now" in page
    alert.refresh_from_db()
    assert alert.status == "draft"


def test_a_double_click_makes_one_move(alice):
    application = make_application(alice, status="in_review")
    reviewer = make_staff(Role.PLAN_REVIEWER, "double@riverbend.example")
    client = verified_client(reviewer)
    page = client.get(f"/console/permits/application/{application.pk}/change/")
    note = next(a for a in page.context["workflow_actions"] if a["move"].name == "note")
    form = {"text": "Called the contractor.", "once": note["once"], "seen": note["seen"]}
    first = client.post(note["url"], form)
    second = client.post(note["url"], form)
    assert first.status_code == second.status_code == 302
    assert (
        TimelineEvent.objects.filter(application=application, text="Called the contractor.").count()
        == 1
    )
    assert "already done" in client.get(second["Location"]).content.decode()


def test_a_move_on_a_record_someone_else_moved_meanwhile_applies_nothing(alice):
    application = make_application(alice, status="in_review")
    client = verified_client(make_staff(Role.PLAN_REVIEWER, "stale@riverbend.example"))
    response = client.post(
        f"/console/permits/application/{application.pk}/act/request_info/",
        {"message": "Need the site plan.", "seen": Status.SUBMITTED},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "changed after this page was opened" in page and "Nothing was done" in page
    assert not application.info_requests.exists()


# --- Previous / next ----------------------------------------------------------------------------


def test_previous_and_next_walk_the_list_the_clerk_came_from():
    supervisor = verified_client(make_staff(Role.CODE_SUPERVISOR, "walk.sup@riverbend.example"))
    rows = [make_request(address=f"{n} Walk Street") for n in (1, 2, 3)]
    listing = supervisor.get("/console/code_enforcement/servicerequest/?q=Walk+Street")
    ids = [row.pk for row in listing.context["cl"].result_list]
    assert sorted(ids) == sorted(r.pk for r in rows)
    middle = supervisor.get(f"/console/code_enforcement/servicerequest/{ids[1]}/change/")
    nav = middle.context["list_nav"]
    assert nav["position"] == 2 and nav["count"] == 3
    assert f"/servicerequest/{ids[0]}/change/" in nav["previous"]
    assert f"/servicerequest/{ids[2]}/change/" in nav["next"]
    assert "Walk+Street" in nav["list"]


def test_assigning_from_the_record_page_offers_reviewers_by_name_and_records_it(alice):
    application = make_application(alice, status="submitted")
    technician = make_staff(Role.PERMIT_TECHNICIAN, "assign.tech@riverbend.example")
    reviewer = make_staff(Role.PLAN_REVIEWER, "assign.reviewer@riverbend.example")
    reviewer.first_name, reviewer.last_name = "Rita", "Moreno"
    reviewer.save()
    client = verified_client(technician)
    page = client.get(f"/console/permits/application/{application.pk}/change/")
    assign = next(a for a in page.context["workflow_actions"] if a["move"].name == "assign")
    labels = [label for _pk, label in assign["form"].fields["reviewer"].choices if _pk]
    assert "Rita Moreno" in labels and "assign.tech@riverbend.example" not in labels
    client.post(assign["url"], {"reviewer": reviewer.pk, "once": assign["once"]})
    application.refresh_from_db()
    assert application.assigned_reviewer == reviewer
    assert TimelineEvent.objects.filter(
        application=application, text="Assigned to Rita Moreno"
    ).exists()


def test_closing_a_report_without_a_fix_needs_the_reason_and_the_page_counts_followers():
    supervisor = verified_client(make_staff(Role.CODE_SUPERVISOR, "reason.sup@riverbend.example"))
    request = make_request(address="9 Reason Street")
    page = f"/console/code_enforcement/servicerequest/{request.pk}/change/"
    assert "0 followers" in supervisor.get(page).content.decode()
    act = f"/console/code_enforcement/servicerequest/{request.pk}/act/close/"
    response = supervisor.post(act, {"resolution": "referred", "note": "", "confirmed": "yes"})
    assert response.status_code == 302
    shown = supervisor.get(page).content.decode()
    assert "Say why it is closed without a fix" in shown
    request.refresh_from_db()
    assert request.status == RequestStatus.NEW
    supervisor.post(
        act,
        {"resolution": "referred", "note": "County roads: sent to the county.", "confirmed": "yes"},
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.CLOSED
