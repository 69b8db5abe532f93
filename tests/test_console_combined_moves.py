"""Moves that do two things in one step: accepting an application hands it to the least loaded
reviewer, a counter payment that clears an approved application's balance can issue the permit
(all or nothing), and opening a code case from a report can schedule its first inspection."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from cityhall.forms import WORK_QUEUES, StaffChoiceField, suggest, suggested_assignee
from cityhall.roles import Role, role_group_name
from code_enforcement.constants import CaseStatus
from code_enforcement.models import CaseInspection, CodeCase, ServiceRequest
from code_enforcement.tests.factories import make_category, make_request
from permits import services as permit_services
from permits.constants import PaymentMethod, Status
from permits.forms import AcceptForm, PaymentForm
from permits.models import Application, Payment
from permits.tests.factories import factory_staff, make_application
from tests.personas import make_resident, make_staff, verified_client

pytestmark = pytest.mark.django_db

REVIEW_QUEUE = WORK_QUEUES["permit_review"]


def _named(user, first: str, last: str):
    user.first_name, user.last_name = first, last
    user.save()
    return user


def _staff(role: Role, email: str, first: str, last: str):
    return _named(make_staff(role, email), first, last)


def _assign(application, reviewer, actor) -> Application:
    return permit_services.application_assign(
        application=application, actor=actor, reviewer=reviewer
    )


def _fresh(application) -> Application:
    return Application.objects.get(pk=application.pk)


def _action(client, url: str, name: str) -> dict:
    page = client.get(url)
    assert page.status_code == 200
    return next(a for a in page.context["workflow_actions"] if a["move"].name == name)


def _outsiders():
    """People who must never be suggested for plan review, each sorting before every reviewer
    by name and with no open work at all."""
    resident = make_resident("aaron.resident@example.com", first_name="Aaron", last_name="Aa")
    # A resident put in the reviewers' group by mistake is still not staff.
    resident.groups.add(Group.objects.get(name=role_group_name(Role.PLAN_REVIEWER)))
    retired = _staff(Role.PLAN_REVIEWER, "retired.reviewer@riverbend.example", "Aaron", "Ab")
    retired.is_active = False
    retired.save()
    technician = _staff(Role.PERMIT_TECHNICIAN, "abe.tech@riverbend.example", "Abe", "Tech")
    _staff(Role.MANAGER, "abel.manager@riverbend.example", "Abel", "Manager")
    return resident, retired, technician


def _retire_factory_reviewer() -> None:
    """The factories' own plan reviewer (no name, no work) would otherwise be the suggestion.
    Retired only once every application is built: the factories approve as this person."""
    reviewer = factory_staff(Role.PLAN_REVIEWER)
    reviewer.is_active = False
    reviewer.save()


# --- 1. Who is suggested ------------------------------------------------------------------------


def test_nobody_is_suggested_when_nobody_active_holds_the_role():
    _outsiders()
    assert suggested_assignee("permit_review", REVIEW_QUEUE) is None
    field = StaffChoiceField(work="permit_review", label="Review by")
    suggest(field, "permit_review")
    assert field.initial is None and "Suggested" not in str(field.help_text)


def test_the_suggestion_is_the_reviewer_with_the_least_open_work_then_by_name(alice):
    resident, retired, technician = _outsiders()
    ann = _staff(Role.PLAN_REVIEWER, "ann@riverbend.example", "Ann", "Avila")
    bea = _staff(Role.PLAN_REVIEWER, "bea@riverbend.example", "Bea", "Lopez")
    cy = _staff(Role.PLAN_REVIEWER, "cy@riverbend.example", "Cy", "Young")
    for _ in range(2):
        _assign(make_application(alice, status="submitted"), ann, technician)
    _assign(make_application(alice, status="submitted"), bea, technician)
    # Approved work is no longer open: it does not count against Bea.
    for _ in range(2):
        _assign(make_application(alice, status="approved"), bea, technician)
    _assign(make_application(alice, status="in_review"), cy, technician)
    _retire_factory_reviewer()

    # Ann 2 open, Bea 1, Cy 1: Bea and Cy tie, and Bea comes first by name.
    assert suggested_assignee("permit_review", REVIEW_QUEUE) == bea
    _assign(make_application(alice, status="submitted"), bea, technician)
    _retire_factory_reviewer()
    # Bea 2 open now: Cy has the least.
    suggestion = suggested_assignee("permit_review", REVIEW_QUEUE)
    assert suggestion == cy
    assert suggestion not in (resident, retired, technician)


# --- 2. The accept form -------------------------------------------------------------------------


@pytest.fixture
def review_desk(alice):
    """Ann has 1 open application, Bea none, Cy 1: Bea is the suggestion. `new` has no
    reviewer yet; `taken` is already Cy's."""
    technician = _staff(Role.PERMIT_TECHNICIAN, "desk.tech@riverbend.example", "Tess", "Tech")
    ann = _staff(Role.PLAN_REVIEWER, "ann@riverbend.example", "Ann", "Avila")
    bea = _staff(Role.PLAN_REVIEWER, "bea@riverbend.example", "Bea", "Lopez")
    cy = _staff(Role.PLAN_REVIEWER, "cy@riverbend.example", "Cy", "Young")
    _assign(make_application(alice, status="submitted"), ann, technician)
    new = make_application(alice, status="submitted")
    taken = _assign(make_application(alice, status="submitted"), cy, technician)
    _retire_factory_reviewer()
    return {
        "technician": technician,
        "ann": ann,
        "bea": bea,
        "cy": cy,
        "new": _fresh(new),
        "taken": _fresh(taken),
    }


def test_accepting_suggests_the_least_loaded_reviewer_and_says_who(review_desk):
    bea = review_desk["bea"]
    form = AcceptForm(obj=review_desk["new"], actor=review_desk["technician"])
    field = form.fields["reviewer"]
    assert form["reviewer"].value() == bea.pk
    assert field.initial == bea.pk
    assert "Bea Lopez" in str(field.help_text)
    assert field.label == "Review by"


def test_accepting_keeps_the_reviewer_the_application_already_has(review_desk):
    # Built after a form that suggested someone: nothing of that suggestion carries over.
    AcceptForm(obj=review_desk["new"], actor=review_desk["technician"])
    form = AcceptForm(obj=review_desk["taken"], actor=review_desk["technician"])
    assert form["reviewer"].value() == review_desk["cy"].pk
    assert "Suggested" not in str(form.fields["reviewer"].help_text)


def test_the_console_accept_form_names_the_suggested_reviewer(review_desk):
    client = verified_client(review_desk["technician"])
    url = f"/console/permits/application/{review_desk['new'].pk}/change/"
    accept = _action(client, url, "accept")
    assert accept["form"]["reviewer"].value() == review_desk["bea"].pk
    page = client.get(url).content.decode()
    assert "Suggested: Bea Lopez, who has the least open work." in page


# --- 3. Accepting through the console -----------------------------------------------------------


def test_accepting_in_the_console_starts_the_review_by_the_chosen_reviewer(review_desk):
    application, cy = review_desk["new"], review_desk["cy"]
    client = verified_client(review_desk["technician"])
    url = f"/console/permits/application/{application.pk}/change/"
    accept = _action(client, url, "accept")
    # Cy is not the suggestion (Bea is): the person chosen is the one who gets it.
    response = client.post(
        accept["url"], {"reviewer": cy.pk, "once": accept["once"], "seen": accept["seen"]}
    )
    assert response.status_code == 302
    application = _fresh(application)
    assert application.status == Status.IN_REVIEW
    assert application.assigned_reviewer == cy
    assert "is now In review" in client.get(response["Location"]).content.decode()


def test_accepting_with_the_suggestion_as_sent_gives_it_to_the_suggested_reviewer(review_desk):
    application = review_desk["new"]
    client = verified_client(review_desk["technician"])
    accept = _action(client, f"/console/permits/application/{application.pk}/change/", "accept")
    client.post(accept["url"], {"reviewer": accept["form"]["reviewer"].value()})
    application = _fresh(application)
    assert application.status == Status.IN_REVIEW
    assert application.assigned_reviewer == review_desk["bea"]


# --- 4. A counter payment that issues the permit ------------------------------------------------


@pytest.fixture
def counter(alice):
    technician = _staff(Role.PERMIT_TECHNICIAN, "counter.tech@riverbend.example", "Cora", "Desk")
    application = make_application(alice, status="approved")
    assert application.balance == Decimal("100.00")
    return verified_client(technician), application


def _pay(client, application, amount: str, *, issue: bool):
    data = {"amount": amount, "method": "cash", "reference": "R-77"}
    if issue:
        data["issue"] = "on"
    response = client.post(f"/console/permits/application/{application.pk}/act/payment/", data)
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def test_a_payment_of_the_whole_balance_with_issue_checked_issues_the_permit(counter):
    client, application = counter
    page = _pay(client, application, "$100.00", issue=True)
    fresh = _fresh(application)
    assert fresh.status == Status.ISSUED
    assert fresh.issued_at is not None and fresh.balance == Decimal("0.00")
    assert Payment.objects.filter(application=application).count() == 1
    assert "Record payment: done." in page
    assert f"{fresh} is now Issued." in page


def test_a_payment_of_the_whole_balance_without_issue_leaves_it_approved(counter):
    client, application = counter
    page = _pay(client, application, "$100.00", issue=False)
    fresh = _fresh(application)
    assert fresh.status == Status.APPROVED and fresh.issued_at is None
    assert fresh.balance == Decimal("0.00")
    assert Payment.objects.filter(application=application).count() == 1
    assert "Record payment: done." in page and "is now Issued" not in page


def test_a_partial_payment_with_issue_checked_is_recorded_and_issues_nothing(counter):
    client, application = counter
    page = _pay(client, application, "$40.00", issue=True)
    fresh = _fresh(application)
    assert fresh.status == Status.APPROVED and fresh.issued_at is None
    assert [p.amount for p in Payment.objects.filter(application=application)] == [Decimal("40.00")]
    assert fresh.balance == Decimal("60.00")
    assert "Record payment: done." in page and "is now Issued" not in page


def test_the_issue_box_is_offered_on_an_approved_application_only(alice):
    technician = _staff(Role.PERMIT_TECHNICIAN, "box.tech@riverbend.example", "Bo", "Box")
    approved = make_application(alice, status="approved")
    form = PaymentForm(obj=approved, actor=technician)
    assert "issue" in form.fields and form.fields["issue"].initial is True
    for status in ("submitted", "in_review"):
        form = PaymentForm(obj=make_application(alice, status=status), actor=technician)
        assert "issue" not in form.fields
    issued = make_application(alice, status="issued")
    assert "issue" not in PaymentForm(obj=issued, actor=technician).fields
    # The console's payment form on an application in review has no such box either.
    in_review = make_application(alice, status="in_review")
    client = verified_client(technician)
    payment = _action(client, f"/console/permits/application/{in_review.pk}/change/", "payment")
    assert "issue" not in payment["form"].fields


# --- 5. All or nothing --------------------------------------------------------------------------


def _issuing_fails(monkeypatch):
    def refuse(**kwargs):
        raise ValidationError("The permit printer is out of paper.")

    monkeypatch.setattr(permit_services, "application_issue", refuse)


def test_when_issuing_fails_the_console_records_no_payment_either(counter, monkeypatch):
    client, application = counter
    events = application.events.count()
    _issuing_fails(monkeypatch)
    page = _pay(client, application, "$100.00", issue=True)
    fresh = _fresh(application)
    assert not Payment.objects.filter(application=application).exists()
    assert fresh.status == Status.APPROVED and fresh.issued_at is None
    assert fresh.balance == Decimal("100.00")
    assert fresh.events.count() == events  # no "Cash: $100.00" on the timeline
    assert "The permit printer is out of paper." in page
    assert "Record payment: done." not in page


def test_when_issuing_fails_the_service_records_no_payment(counter, monkeypatch):
    _client, application = counter
    _issuing_fails(monkeypatch)
    with pytest.raises(ValidationError):
        permit_services.payment_record(
            application=application,
            actor=factory_staff(Role.PERMIT_TECHNICIAN),
            amount=Decimal("100.00"),
            method=PaymentMethod.CASH,
            reference="R-78",
            issue=True,
        )
    assert not Payment.objects.filter(application=application).exists()
    assert _fresh(application).status == Status.APPROVED


# --- 6. Opening a case that schedules its first inspection --------------------------------------


@pytest.fixture
def report():
    supervisor = _staff(Role.CODE_SUPERVISOR, "case.sup@riverbend.example", "Sue", "Visor")
    inspector = _staff(Role.CODE_INSPECTOR, "ines@riverbend.example", "Ines", "Ortega")
    _staff(Role.CODE_INSPECTOR, "ivan@riverbend.example", "Ivan", "Petrov")
    request = make_request(
        make_category("overgrown-lot", opens_cases=True), address="77 Weed Street"
    )
    return verified_client(supervisor), request, inspector


def _open_case(client, request, data):
    url = f"/console/code_enforcement/servicerequest/{request.pk}/change/"
    case = _action(client, url, "case")
    return client.post(case["url"], {**data, "once": case["once"], "seen": case["seen"]})


def test_opening_a_case_with_a_date_schedules_the_first_inspection(report):
    client, request, inspector = report
    today = timezone.localdate()
    response = _open_case(client, request, {"inspector": inspector.pk, "date": today.isoformat()})
    case = CodeCase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/code_enforcement/codecase/{case.pk}/change/"
    assert case.status == CaseStatus.INSPECTION_SCHEDULED
    assert case.inspector == inspector
    inspection = CaseInspection.objects.get(case=case)
    assert inspection.completed_at is None
    assert inspection.inspector == inspector and inspection.scheduled_for == today
    assert ServiceRequest.objects.get(pk=request.pk).case_id == case.pk
    page = client.get(response["Location"]).content.decode()
    assert "the first inspection is on" in page and "Ines Ortega" in page


def test_opening_a_case_without_a_date_schedules_nothing(report):
    client, request, inspector = report
    response = _open_case(client, request, {"inspector": inspector.pk, "date": ""})
    assert response.status_code == 302
    case = CodeCase.objects.get()
    assert case.status == CaseStatus.OPEN
    assert case.inspector == inspector
    assert not CaseInspection.objects.filter(case=case).exists()


def test_opening_a_case_with_a_past_date_is_refused_and_opens_nothing(report):
    client, request, inspector = report
    yesterday = timezone.localdate() - timedelta(days=1)
    response = _open_case(
        client, request, {"inspector": inspector.pk, "date": yesterday.isoformat()}
    )
    change = f"/console/code_enforcement/servicerequest/{request.pk}/change/"
    assert response.status_code == 302 and response["Location"] == change
    page = client.get(change).content.decode()
    assert "The first inspection cannot be in the past." in page
    assert "Open a code case: please correct the errors below." in page
    assert not CodeCase.objects.exists() and not CaseInspection.objects.exists()
    assert ServiceRequest.objects.get(pk=request.pk).case_id is None
