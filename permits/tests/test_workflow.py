"""The workflow table, then every service that moves an application along it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.models import Notification
from cityhall.models import Holiday, NumberSequence
from cityhall.numbering import permit_sequence
from cityhall.roles import Role
from permits import services
from permits.constants import FeeKind, InspectionStatus, PaymentMethod, Status
from permits.models import (
    Application,
    DocumentRequirement,
    InfoRequest,
    Payment,
    Question,
    TimelineEvent,
)
from permits.workflow import APPLICATIONS, TransitionNotAllowed
from tests.personas import make_resident, make_staff

from .factories import (
    factory_staff,
    make_application,
    make_inspection_type,
    make_permit_type,
)

pytestmark = pytest.mark.django_db

# The table itself is walked for every workflow, state, move and role in
# tests/test_workflow_engine.py; here, the services that carry the moves out.


def test_a_plan_reviewer_cannot_decide_an_application_they_submitted(alice):
    reviewer = make_staff(Role.PLAN_REVIEWER, "own.reviewer@riverbend.example")
    own = make_application(reviewer, status="in_review")
    for move in ("approve", "deny"):
        with pytest.raises(TransitionNotAllowed, match="submitted"):
            APPLICATIONS.check(own, move, reviewer)
    with pytest.raises(TransitionNotAllowed):
        services.application_approve(application=own, actor=reviewer)
    with pytest.raises(TransitionNotAllowed):
        services.application_deny(application=own, actor=reviewer, reason="Conflict")
    own.refresh_from_db()
    assert own.status == Status.IN_REVIEW and own.decided_at is None
    # Someone else's application, the same reviewer may decide.
    other = make_application(alice, status="in_review")
    services.application_approve(application=other, actor=reviewer)
    assert Application.objects.get(pk=other.pk).status == Status.APPROVED


# --- Submitting -----------------------------------------------------------------------------------


def test_submit_refuses_an_incomplete_application_and_assigns_nothing(alice):
    permit_type = make_permit_type("BLD", fee_kind=FeeKind.PER_VALUATION, fee_amount="12.00")
    Question.objects.create(
        permit_type=permit_type, key="square_feet", label_en="Square feet?", label_es="¿Pies?"
    )
    DocumentRequirement.objects.create(
        permit_type=permit_type, name_en="Site plan", name_es="Plano del sitio"
    )
    draft = make_application(alice, permit_type, complete=False)
    with pytest.raises(ValidationError) as error:
        services.application_submit(application=draft, actor=alice)
    assert set(error.value.messages) == {
        "Enter the property or business address.",
        "Describe the project or business.",
        "Enter the project value.",
        "Answer: Square feet?",
        "Upload: Site plan",
        "Check your answers and confirm the declaration.",
    }
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert draft.number is None and draft.submitted_at is None and draft.due_at is None
    assert draft.fee_total == 0
    assert not NumberSequence.objects.filter(last__gt=0).exists()
    assert not TimelineEvent.objects.filter(application=draft).exists()


def test_only_the_applicant_submits(alice, bob):
    draft = make_application(alice)
    for actor in (bob, factory_staff(Role.PERMIT_TECHNICIAN)):
        with pytest.raises(TransitionNotAllowed):
            services.application_submit(application=draft, actor=actor)
    assert Application.objects.get(pk=draft.pk).number is None


def test_numbers_run_per_type_and_year(alice, bob):
    building, electrical = make_permit_type("BLD"), make_permit_type("ELE")
    year = timezone.localdate().year
    # Last year's sequence does not carry over.
    NumberSequence.objects.create(key=permit_sequence(building.code, year - 1), last=57)
    first = make_application(alice, building, status="submitted")
    second = make_application(bob, building, status="submitted")
    other_type = make_application(alice, electrical, status="submitted")
    assert first.number == f"BLD-{year}-000001"
    assert second.number == f"BLD-{year}-000002"
    assert other_type.number == f"ELE-{year}-000001"
    assert NumberSequence.objects.get(key=permit_sequence(building.code, year)).last == 2
    assert NumberSequence.objects.get(key=permit_sequence(building.code, year - 1)).last == 57


def _business_days_after(start, days, holidays=()):
    current = start
    while days:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            days -= 1
    return current


def test_submit_sets_due_date_in_business_days_skipping_holidays(alice):
    today = timezone.localdate()
    # A holiday on the next weekday: it must not count.
    holiday = _business_days_after(today, 1)
    Holiday.objects.create(date=holiday, name="City holiday")
    permit_type = make_permit_type("BLD", review_sla_days=10)
    application = make_application(alice, permit_type, status="submitted")
    assert application.due_at == _business_days_after(today, 10, {holiday})
    assert application.due_at.weekday() < 5
    assert application.submitted_at is not None
    assert application.due_at > _business_days_after(today, 9, {holiday})


@pytest.mark.parametrize(
    ("fee_kind", "amount", "minimum", "fields", "expected"),
    [
        (FeeKind.FLAT, "100.00", "0", {}, "100.00"),
        (FeeKind.PER_UNIT, "2.50", "50.00", {"units": Decimal("100")}, "250.00"),
        (FeeKind.PER_UNIT, "2.50", "50.00", {"units": Decimal("10")}, "50.00"),  # the minimum
        (FeeKind.PER_VALUATION, "12.00", "250.00", {"valuation": Decimal("50000")}, "600.00"),
        (FeeKind.PER_VALUATION, "12.00", "250.00", {"valuation": Decimal("10000")}, "250.00"),
        (FeeKind.PER_VALUATION, "12.00", "0", {"valuation": Decimal("12345.67")}, "148.15"),
    ],
)
def test_submit_sets_the_fee(alice, fee_kind, amount, minimum, fields, expected):
    permit_type = make_permit_type(
        "BLD", fee_kind=fee_kind, fee_amount=Decimal(amount), minimum_fee=Decimal(minimum)
    )
    application = make_application(alice, permit_type, status="submitted", **fields)
    assert application.fee_total == Decimal(expected)
    assert application.balance == Decimal(expected)


def test_submit_tells_the_applicant_after_commit(alice, django_capture_on_commit_callbacks):
    draft = make_application(alice)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = services.application_submit(application=draft, actor=alice)
    notice = Notification.objects.get(user=alice, template="permit_notice")
    assert submitted.number in notice.subject
    assert notice.link == f"/permits/{submitted.number}/"


# --- Review ---------------------------------------------------------------------------------------


def test_accept_assigns_the_reviewer(alice):
    technician = factory_staff(Role.PERMIT_TECHNICIAN)
    submitted = make_application(alice, status="submitted")
    with pytest.raises(TransitionNotAllowed):
        services.application_accept(application=submitted, actor=alice)
    accepted = services.application_accept(application=submitted, actor=technician)
    assert accepted.status == Status.IN_REVIEW
    assert Application.objects.get(pk=submitted.pk).assigned_reviewer == technician


def test_request_information_then_answer_returns_to_review(alice, bob):
    technician = factory_staff(Role.PERMIT_TECHNICIAN)
    application = make_application(alice, status="in_review")
    with pytest.raises(ValidationError):
        services.application_request_info(application=application, actor=technician, message=" ")
    services.application_request_info(
        application=application, actor=technician, message="Send the survey."
    )
    application.refresh_from_db()
    assert application.status == Status.INFO_REQUESTED
    request = InfoRequest.objects.get(application=application)
    assert request.message == "Send the survey." and request.answered_at is None

    with pytest.raises(ValidationError):
        services.info_answer(application=application, actor=alice, answer="  ")
    for outsider in (bob, technician):
        with pytest.raises(TransitionNotAllowed):
            services.info_answer(application=application, actor=outsider, answer="Here it is.")
    services.info_answer(application=application, actor=alice, answer="Attached the survey.")
    application.refresh_from_db()
    request.refresh_from_db()
    assert application.status == Status.IN_REVIEW
    assert request.answer == "Attached the survey." and request.answered_at is not None
    statuses = list(
        TimelineEvent.objects.filter(application=application, kind="status").values_list(
            "status", flat=True
        )
    )
    assert statuses == ["submitted", "in_review", "info_requested", "in_review"]


def test_approve_with_conditions(alice, django_capture_on_commit_callbacks):
    reviewer = factory_staff(Role.PLAN_REVIEWER)
    technician = factory_staff(Role.PERMIT_TECHNICIAN)
    application = make_application(alice, status="in_review")
    with pytest.raises(TransitionNotAllowed):
        services.application_approve(application=application, actor=technician)
    with django_capture_on_commit_callbacks(execute=True):
        services.application_approve(
            application=application, actor=reviewer, conditions="Work hours 8am to 6pm only."
        )
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert application.conditions == "Work hours 8am to 6pm only."
    assert application.decided_at is not None
    notice = Notification.objects.filter(user=alice, template="permit_notice").latest("pk")
    assert "Work hours 8am to 6pm only." in notice.body_text


def test_deny_requires_a_reason(alice):
    reviewer = factory_staff(Role.PLAN_REVIEWER)
    application = make_application(alice, status="in_review")
    for blank in ("", "   "):
        with pytest.raises(ValidationError):
            services.application_deny(application=application, actor=reviewer, reason=blank)
    application.refresh_from_db()
    assert application.status == Status.IN_REVIEW
    services.application_deny(application=application, actor=reviewer, reason="Setback violation.")
    application.refresh_from_db()
    assert application.status == Status.DENIED
    assert application.decision_reason == "Setback violation."
    assert application.decided_at is not None


# --- Fees and issuing -----------------------------------------------------------------------------


def test_issue_is_refused_while_a_balance_is_due_and_allowed_after_payment(alice):
    technician = factory_staff(Role.PERMIT_TECHNICIAN)
    application = make_application(alice, status="approved")
    assert application.balance == Decimal("100.00")
    with pytest.raises(ValidationError, match="still due"):
        services.application_issue(application=application, actor=technician)
    application.refresh_from_db()
    assert application.status == Status.APPROVED and application.issued_at is None
    assert not TimelineEvent.objects.filter(application=application, status="issued").exists()

    services.payment_record(
        application=application, actor=technician, amount=Decimal("40.00"), method="cash"
    )
    with pytest.raises(ValidationError, match=r"\$60\.00"):
        services.application_issue(application=application, actor=technician)
    with pytest.raises(ValidationError):  # more than is due
        services.payment_record(
            application=application, actor=technician, amount=Decimal("60.01"), method="card"
        )
    with pytest.raises(ValidationError):
        services.payment_record(
            application=application, actor=technician, amount=Decimal("0"), method="card"
        )
    services.payment_record(
        application=application, actor=technician, amount=Decimal("60.00"), method="check"
    )
    issued = services.application_issue(application=application, actor=technician)
    issued.refresh_from_db()
    assert issued.status == Status.ISSUED and issued.balance == 0
    assert issued.issued_at is not None
    assert issued.expires_at == timezone.localdate() + timedelta(
        days=issued.permit_type.validity_days
    )


def test_a_resident_cannot_record_a_payment(alice):
    application = make_application(alice, status="approved")
    with pytest.raises(TransitionNotAllowed):
        services.payment_record(
            application=application, actor=alice, amount=Decimal("100.00"), method="cash"
        )
    assert not Payment.objects.exists()


def test_a_waiver_needs_the_waive_fee_permission(alice):
    technician = factory_staff(Role.PERMIT_TECHNICIAN)
    manager = make_staff(Role.MANAGER, "waiver.manager@riverbend.example")
    application = make_application(alice, status="approved")
    with pytest.raises(TransitionNotAllowed):
        services.payment_record(
            application=application,
            actor=technician,
            amount=Decimal("100.00"),
            method=PaymentMethod.WAIVER,
        )
    assert not Payment.objects.filter(application=application).exists()
    services.payment_record(
        application=application,
        actor=manager,
        amount=Decimal("100.00"),
        method=PaymentMethod.WAIVER,
        reference="Hardship",
    )
    application.refresh_from_db()
    assert application.balance == 0
    services.application_issue(application=application, actor=technician)
    assert Application.objects.get(pk=application.pk).status == Status.ISSUED


def test_a_manager_cannot_issue(alice):
    manager = make_staff(Role.MANAGER, "issue.manager@riverbend.example")
    application = make_application(alice, status="approved")
    services.payment_record(
        application=application, actor=manager, amount=Decimal("100.00"), method="waiver"
    )
    with pytest.raises(TransitionNotAllowed):
        services.application_issue(application=application, actor=manager)


def test_revoke(alice):
    reviewer = factory_staff(Role.PLAN_REVIEWER)
    technician = factory_staff(Role.PERMIT_TECHNICIAN)
    application = make_application(alice, status="issued")
    with pytest.raises(ValidationError):
        services.application_revoke(application=application, actor=reviewer, reason="")
    with pytest.raises(TransitionNotAllowed):
        services.application_revoke(application=application, actor=technician, reason="Unsafe")
    with pytest.raises(TransitionNotAllowed):
        services.application_revoke(application=application, actor=alice, reason="Unsafe")
    services.application_revoke(application=application, actor=reviewer, reason="Unsafe work.")
    application.refresh_from_db()
    assert application.status == Status.REVOKED
    assert application.decision_reason == "Unsafe work."
    # A revoked permit cannot be revoked again, nor issued again.
    with pytest.raises(TransitionNotAllowed):
        services.application_revoke(application=application, actor=reviewer, reason="Again")


def test_withdraw_a_submitted_application(alice, bob):
    application = make_application(alice, status="submitted")
    with pytest.raises(TransitionNotAllowed):
        services.application_withdraw(application=application, actor=bob)
    services.application_withdraw(application=application, actor=alice)
    assert Application.objects.get(pk=application.pk).status == Status.WITHDRAWN


def test_withdraw_a_draft(alice):
    """The table allows DRAFT -> WITHDRAWN (the task list's "Delete this draft" button)."""
    draft = make_application(alice, complete=False)
    services.application_withdraw(application=draft, actor=alice)
    draft.refresh_from_db()
    assert draft.status == Status.WITHDRAWN


# --- Inspections ----------------------------------------------------------------------------------


@pytest.fixture
def inspected_type():
    framing = make_inspection_type("framing", name_en="Framing", name_es="Estructura")
    final = make_inspection_type("final", name_en="Final inspection", name_es="Inspección final")
    return make_permit_type("BLD", inspection_types=[framing, final])


def _schedule_and_record(inspection, actor, result, **kw):
    services.inspection_schedule(
        inspection=inspection,
        actor=actor,
        when=timezone.localdate() + timedelta(days=2),
        inspector=actor,
    )
    return services.inspection_record(inspection=inspection, actor=actor, result=result, **kw)


def test_inspections_only_on_issued_permits_and_only_required_types(alice, inspected_type):
    framing = inspected_type.inspection_types.get(code="framing")
    fire = make_inspection_type("fire", name_en="Fire safety", name_es="Incendios")
    approved = make_application(alice, inspected_type, status="approved")
    with pytest.raises(ValidationError, match="once the permit is issued"):
        services.inspection_request(
            application=approved, actor=alice, inspection_type=framing, preferred_dates="Mon"
        )
    issued = make_application(alice, inspected_type, status="issued")
    with pytest.raises(ValidationError, match="does not need"):
        services.inspection_request(
            application=issued, actor=alice, inspection_type=fire, preferred_dates="Mon"
        )
    bob = make_resident("outsider@example.com")
    with pytest.raises(TransitionNotAllowed):
        services.inspection_request(
            application=issued, actor=bob, inspection_type=framing, preferred_dates="Mon"
        )
    services.inspection_request(
        application=issued, actor=alice, inspection_type=framing, preferred_dates="Mon"
    )
    with pytest.raises(ValidationError, match="already requested"):
        services.inspection_request(
            application=issued, actor=alice, inspection_type=framing, preferred_dates="Tue"
        )


def test_schedule_and_record_need_the_inspect_permission(alice, inspected_type):
    framing = inspected_type.inspection_types.get(code="framing")
    issued = make_application(alice, inspected_type, status="issued")
    inspection = services.inspection_request(
        application=issued, actor=alice, inspection_type=framing, preferred_dates="Mon"
    )
    reviewer = factory_staff(Role.PLAN_REVIEWER)  # no permits.inspect
    when = timezone.localdate() + timedelta(days=1)
    for actor in (alice, reviewer):
        with pytest.raises(TransitionNotAllowed):
            services.inspection_schedule(
                inspection=inspection, actor=actor, when=when, inspector=None
            )
    inspector = make_staff(Role.CODE_INSPECTOR, "field.inspector@riverbend.example")
    with pytest.raises(TransitionNotAllowed):  # not scheduled yet
        services.inspection_record(inspection=inspection, actor=inspector, result="passed")
    services.inspection_schedule(
        inspection=inspection, actor=inspector, when=when, inspector=inspector
    )
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.SCHEDULED
    assert inspection.scheduled_for == when and inspection.inspector == inspector
    with pytest.raises(TransitionNotAllowed):
        services.inspection_record(inspection=inspection, actor=reviewer, result="passed")
    with pytest.raises(ValidationError):
        services.inspection_record(inspection=inspection, actor=inspector, result="requested")


def test_failed_inspection_needs_corrections_and_can_be_requested_again(alice, inspected_type):
    technician = factory_staff(Role.PERMIT_TECHNICIAN)
    framing = inspected_type.inspection_types.get(code="framing")
    issued = make_application(alice, inspected_type, status="issued")
    first = services.inspection_request(
        application=issued, actor=alice, inspection_type=framing, preferred_dates="Mon"
    )
    services.inspection_schedule(
        inspection=first, actor=technician, when=timezone.localdate(), inspector=technician
    )
    with pytest.raises(ValidationError, match="corrections"):
        services.inspection_record(inspection=first, actor=technician, result="failed")
    services.inspection_record(
        inspection=first, actor=technician, result="failed", corrections="Add hurricane ties."
    )
    first.refresh_from_db()
    assert first.status == InspectionStatus.FAILED
    assert first.corrections == "Add hurricane ties." and first.completed_at is not None
    again = services.inspection_request(
        application=issued, actor=alice, inspection_type=framing, preferred_dates="Thu"
    )
    assert again.pk != first.pk and again.status == InspectionStatus.REQUESTED
    assert Application.objects.get(pk=issued.pk).status == Status.ISSUED


def test_passing_every_required_inspection_finals_the_permit(
    alice, inspected_type, django_capture_on_commit_callbacks
):
    technician = factory_staff(Role.PERMIT_TECHNICIAN)
    framing = inspected_type.inspection_types.get(code="framing")
    final = inspected_type.inspection_types.get(code="final")
    issued = make_application(alice, inspected_type, status="issued")
    inspection = services.inspection_request(
        application=issued, actor=alice, inspection_type=framing, preferred_dates="Mon"
    )
    _schedule_and_record(inspection, technician, "passed")
    assert Application.objects.get(pk=issued.pk).status == Status.ISSUED  # one still to go
    inspection = services.inspection_request(
        application=issued, actor=alice, inspection_type=final, preferred_dates="Fri"
    )
    _schedule_and_record(inspection, technician, "partial", notes="Railing missing.")
    assert Application.objects.get(pk=issued.pk).status == Status.ISSUED
    inspection = services.inspection_request(
        application=issued, actor=alice, inspection_type=final, preferred_dates="Fri"
    )
    with django_capture_on_commit_callbacks(execute=True):
        _schedule_and_record(inspection, technician, "passed")
    finaled = Application.objects.get(pk=issued.pk)
    assert finaled.status == Status.FINALED and finaled.finaled_at is not None
    event = TimelineEvent.objects.filter(application=finaled, status="finaled").get()
    assert event.actor is None  # the system finals it
    assert Notification.objects.filter(user=alice, subject__contains="complete").count() == 1
    # Nothing more to request on a finaled permit.
    with pytest.raises(ValidationError):
        services.inspection_request(
            application=finaled, actor=alice, inspection_type=final, preferred_dates="Mon"
        )


def test_factory_reaches_every_state(alice, inspected_type):
    for status in Status:
        application = make_application(alice, inspected_type, status=status.value)
        assert application.status == status
        if status != Status.DRAFT:
            assert application.number
