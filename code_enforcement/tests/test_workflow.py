"""The two workflow tables, then every service that moves a request or a case along them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from cityhall.calendar import add_business_days
from cityhall.roles import ROLE_PERMISSIONS, Role
from cityhall.workflow import OWNER, SYSTEM
from code_enforcement import automation, services
from code_enforcement.constants import (
    DEFAULT_COMPLY_DAYS,
    REPEAT_WINDOW_DAYS,
    CaseStatus,
    InspectionKind,
    InspectionResult,
    RequestStatus,
    Resolution,
    Severity,
)
from code_enforcement.models import (
    CaseEvent,
    CaseInspection,
    CodeCase,
    Follower,
    Notice,
    RequestEvent,
    RequestPhoto,
    ServiceRequest,
    Violation,
)
from code_enforcement.workflow import (
    CASES,
    HIDE_PHOTO,
    MANAGE,
    REQUESTS,
    TRIAGE,
    TransitionNotAllowed,
)
from tests.personas import make_staff, verified_client

from .factories import (
    case_with_notice,
    closed_days_ago,
    jpeg_bytes,
    make_case,
    make_category,
    make_request,
    make_violation_type,
    staff,
    submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(alice, bob, admin_user):
    """Everyone who might try a move: the reporter, another resident, one staff member per
    role and a superuser. (None, the system, is added by the tests.)"""
    by_role = {role: make_staff(role, f"table.{role.value}@riverbend.example") for role in Role}
    return {"reporter": alice, "other_resident": bob, "superuser": admin_user, **by_role}


def _has(role: Role, permission: str) -> bool:
    return permission in ROLE_PERMISSIONS[role]


# --- The tables (walked move by move in tests/test_workflow_engine.py) ------------------------------


def test_the_tables_cover_only_known_statuses_and_rules():
    for workflow, statuses in ((REQUESTS, set(RequestStatus)), (CASES, set(CaseStatus))):
        for move in workflow.moves.values():
            assert set(move.sources) <= statuses and set(move.targets) <= statuses
            assert not set(move.sources) & set(move.targets) or not move.targets
    assert {m.who for m in REQUESTS.moves.values()} <= {TRIAGE, MANAGE, HIDE_PHOTO, OWNER}
    assert {m.who for m in CASES.moves.values()} <= {MANAGE, SYSTEM}
    # The roles the brief names: inspectors and supervisors triage and manage cases.
    for permission in (TRIAGE, MANAGE):
        holders = {role for role in Role if _has(role, permission)}
        assert {Role.CODE_INSPECTOR, Role.CODE_SUPERVISOR} <= holders
        assert not holders & {
            Role.PERMIT_TECHNICIAN,
            Role.PLAN_REVIEWER,
            Role.COMMUNICATIONS_OFFICER,
            Role.MANAGER,
        }


def test_a_permission_without_staff_status_is_refused(bob):
    bob.user_permissions.add(
        Permission.objects.get(codename="triage_request"),
        Permission.objects.get(codename="manage_case"),
    )
    bob = type(bob).objects.get(pk=bob.pk)
    assert bob.has_perm(TRIAGE) and bob.has_perm(MANAGE)
    with pytest.raises(TransitionNotAllowed):
        REQUESTS.check(ServiceRequest(status="new"), "acknowledge", bob)
    with pytest.raises(TransitionNotAllowed):
        CASES.check(CodeCase(status="open"), "schedule", bob)


@pytest.mark.parametrize("role", [Role.PERMIT_TECHNICIAN, Role.COMMUNICATIONS_OFFICER])
def test_staff_of_another_role_cannot_triage_or_manage_cases(role):
    outsider = staff(role)
    request = make_request()
    for move in (
        lambda: services.request_acknowledge(request=request, actor=outsider),
        lambda: services.request_close(
            request=request, actor=outsider, resolution=Resolution.RESOLVED
        ),
        lambda: services.request_assign(request=request, actor=outsider, assignee=outsider),
        lambda: services.case_open(requests=[request], actor=outsider),
    ):
        with pytest.raises(TransitionNotAllowed):
            move()
    request.refresh_from_db()
    assert request.status == RequestStatus.NEW and request.assigned_to is None
    assert not CodeCase.objects.exists()

    case = make_case(make_request(address="9 Pine Way"))
    with pytest.raises(TransitionNotAllowed):
        services.case_schedule_inspection(case=case, actor=outsider, when=timezone.localdate())
    assert CodeCase.objects.get(pk=case.pk).status == CaseStatus.OPEN
    assert not CaseInspection.objects.exists()


def test_only_the_supervisor_hides_photos():
    request = make_request()
    photo = RequestPhoto(request=request)
    photo.image.save("p.jpg", ContentFile(jpeg_bytes()), save=True)
    for role in (Role.CODE_INSPECTOR, Role.COMMUNICATIONS_OFFICER, Role.PERMIT_TECHNICIAN):
        with pytest.raises(TransitionNotAllowed):
            services.photo_set_hidden(photo=photo, actor=staff(role), hidden=True)
    assert not RequestPhoto.objects.get(pk=photo.pk).hidden
    services.photo_set_hidden(photo=photo, actor=staff(Role.CODE_SUPERVISOR), hidden=True)
    assert RequestPhoto.objects.get(pk=photo.pk).hidden
    event = RequestEvent.objects.get(request=request, kind="photo_hidden")
    assert event.public is False


# --- Requests -------------------------------------------------------------------------------------


def test_submit_sets_the_deadlines_and_the_first_event():
    category = make_category(triage_sla_days=2, resolution_sla_days=10)
    request = make_request(category)
    today = timezone.localdate()
    assert request.status == RequestStatus.NEW
    assert request.neighborhood.name == "Downtown"
    assert request.department == category.department
    assert request.triage_due == add_business_days(today, 2)
    assert request.resolve_due == add_business_days(today, 10)
    assert list(request.events.values_list("kind", "status")) == [("status", "new")]


def test_acknowledge_start_close():
    inspector = staff(Role.CODE_INSPECTOR)
    request = make_request()

    acknowledged = services.request_acknowledge(
        request=request, actor=inspector, note="On our list"
    )
    assert acknowledged.status == RequestStatus.ACKNOWLEDGED
    assert acknowledged.acknowledged_at is not None
    assert acknowledged.status_notes == "On our list"

    started = services.request_start(request=acknowledged, actor=inspector, note="Crew sent")
    assert started.status == RequestStatus.IN_PROGRESS

    closed = services.request_close(
        request=started, actor=inspector, resolution=Resolution.RESOLVED, note="Filled"
    )
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert closed.status == stored.status == RequestStatus.CLOSED
    assert stored.resolution == Resolution.RESOLVED
    assert stored.closed_at is not None and stored.status_notes == "Filled"
    assert stored.acknowledged_at == acknowledged.acknowledged_at
    assert list(stored.events.values_list("kind", "status", "text")) == [
        ("status", "new", ""),
        ("status", "acknowledged", "On our list"),
        ("status", "in_progress", "Crew sent"),
        ("status", "closed", "Filled"),
    ]
    assert stored.history.first().history_user == inspector

    # Nothing moves a closed request but a reopen.
    with pytest.raises(TransitionNotAllowed):
        services.request_start(request=stored, actor=inspector)
    with pytest.raises(TransitionNotAllowed):
        services.request_acknowledge(request=stored, actor=inspector)


def test_closing_a_new_request_acknowledges_it_first():
    supervisor = staff(Role.CODE_SUPERVISOR)
    request = make_request()
    services.request_close(request=request, actor=supervisor, resolution=Resolution.REFERRED)
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert stored.status == RequestStatus.CLOSED and stored.resolution == Resolution.REFERRED
    assert stored.acknowledged_at is not None
    assert list(stored.events.values_list("status", flat=True)) == [
        "new",
        "acknowledged",
        "closed",
    ]


@pytest.mark.parametrize("resolution", ["", "fixed", "RESOLVED", None])
def test_close_needs_a_valid_resolution(resolution):
    inspector = staff(Role.CODE_INSPECTOR)
    request = services.request_acknowledge(request=make_request(), actor=inspector)
    with pytest.raises(ValidationError, match="Choose a resolution"):
        services.request_close(request=request, actor=inspector, resolution=resolution)
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert stored.status == RequestStatus.ACKNOWLEDGED
    assert stored.resolution == "" and stored.closed_at is None


def test_merge_closes_the_duplicate_and_its_reporter_follows_the_original(alice, bob):
    supervisor = staff(Role.CODE_SUPERVISOR)
    original = make_request(reporter=bob, language="es")
    duplicate = make_request(reporter=alice, lat=36.4051)

    services.request_merge(request=duplicate, original=original, actor=supervisor)

    duplicate.refresh_from_db()
    assert duplicate.status == RequestStatus.CLOSED
    assert duplicate.resolution == Resolution.DUPLICATE
    assert duplicate.duplicate_of == original
    assert duplicate.closed_at is not None
    assert original.public_id in duplicate.events.get(status="closed").text
    follower = Follower.objects.get(request=original)
    assert follower.user == alice and follower.language == "en"
    original.refresh_from_db()
    assert original.status == RequestStatus.NEW and original.duplicate_of is None
    assert not Follower.objects.filter(request=duplicate).exists()


def test_merging_an_anonymous_duplicate_keeps_its_contact_as_a_follower():
    supervisor = staff(Role.CODE_SUPERVISOR)
    original = make_request()
    duplicate = make_request(
        contact_email="pat.private@example.com", contact_phone="+14155552671", language="es"
    )
    services.request_merge(request=duplicate, original=original, actor=supervisor)
    follower = Follower.objects.get(request=original)
    assert (follower.user, follower.email, follower.phone, follower.language) == (
        None,
        "pat.private@example.com",
        "+14155552671",
        "es",
    )
    assert ServiceRequest.objects.get(pk=duplicate.pk).duplicate_of == original


def test_merge_refuses_itself_a_closed_original_and_other_roles(alice):
    supervisor = staff(Role.CODE_SUPERVISOR)
    request = make_request(reporter=alice)
    with pytest.raises(ValidationError):
        services.request_merge(request=request, original=request, actor=supervisor)
    closed = services.request_close(
        request=make_request(), actor=supervisor, resolution=Resolution.RESOLVED
    )
    with pytest.raises(ValidationError):
        services.request_merge(request=request, original=closed, actor=supervisor)
    other = make_request()
    with pytest.raises(TransitionNotAllowed):
        services.request_merge(
            request=request, original=other, actor=staff(Role.COMMUNICATIONS_OFFICER)
        )
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert stored.status == RequestStatus.NEW and stored.duplicate_of is None
    assert not Follower.objects.exists()  # the refused merge left no follower behind


def _closed(request, actor=None):
    actor = actor or staff(Role.CODE_INSPECTOR)
    return services.request_close(
        request=request, actor=actor, resolution=Resolution.RESOLVED, note="Fixed"
    )


def test_the_signed_in_reporter_reopens_within_14_days(alice):
    request = closed_days_ago(_closed(make_request(reporter=alice)), 13)
    reopened = services.request_reopen(request=request, reason="Still there", actor=alice)
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert reopened.status == stored.status == RequestStatus.ACKNOWLEDGED
    assert stored.resolution == "" and stored.closed_at is None
    assert stored.reopened_count == 1
    assert stored.triage_due == add_business_days(
        timezone.localdate(), stored.category.triage_sla_days
    )
    event = stored.events.get(kind="reopened")
    assert (event.text, event.actor, event.public) == (
        "Still there",
        alice,
        False,
    )  # private until staff publish


def test_the_anonymous_reporter_reopens_with_the_secret():
    request, secret = submit(contact_email="pat.private@example.com")
    request = closed_days_ago(_closed(request), 2)
    with pytest.raises(TransitionNotAllowed):
        services.request_reopen(request=request, reason="Still there", secret="wrong")
    with pytest.raises(TransitionNotAllowed):
        services.request_reopen(request=request, reason="Still there")
    services.request_reopen(request=request, reason="Still there", secret=secret)
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert stored.status == RequestStatus.ACKNOWLEDGED and stored.reopened_count == 1
    assert stored.events.get(kind="reopened").actor is None


@pytest.mark.parametrize("days", [14.1, 15, 60])
def test_reopening_after_14_days_is_refused_with_a_message(alice, days):
    request, secret = submit(reporter=alice)
    request = closed_days_ago(_closed(request), days)
    for attempt in (
        {"actor": alice},
        {"secret": secret},
    ):
        with pytest.raises(ValidationError) as error:
            services.request_reopen(request=request, reason="Still there", **attempt)
        assert error.value.messages == [
            "Requests can be reopened up to 14 days after they close. Please report it again."
        ]
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert stored.status == RequestStatus.CLOSED and stored.reopened_count == 0


def test_only_the_reporter_reopens_and_only_with_a_reason(alice, bob):
    request = closed_days_ago(_closed(make_request(reporter=alice)), 1)
    for actor in (bob, staff(Role.CODE_SUPERVISOR), staff(Role.CODE_INSPECTOR)):
        with pytest.raises(TransitionNotAllowed):
            services.request_reopen(request=request, reason="Still there", actor=actor)
    with pytest.raises(ValidationError):
        services.request_reopen(request=request, reason="   ", actor=alice)
    assert ServiceRequest.objects.get(pk=request.pk).status == RequestStatus.CLOSED


def test_an_open_request_cannot_be_reopened(alice):
    request = make_request(reporter=alice)
    with pytest.raises(TransitionNotAllowed):
        services.request_reopen(request=request, reason="Hurry", actor=alice)
    assert ServiceRequest.objects.get(pk=request.pk).status == RequestStatus.NEW


def test_add_info_only_by_the_reporter(alice, bob):
    signed_in = make_request(reporter=alice)
    anonymous, secret = submit()

    event = services.request_add_info(request=signed_in, text="It is getting deeper", actor=alice)
    assert (event.kind, event.text, event.actor, event.public) == (
        "info_added",
        "It is getting deeper",
        alice,
        False,  # private to the reporter and staff until staff publish it
    )
    services.request_add_info(request=anonymous, text="A car hit it", secret=secret)
    assert anonymous.events.get(kind="info_added").text == "A car hit it"

    for request, attempt in (
        (signed_in, {"actor": bob}),
        (signed_in, {"actor": staff(Role.CODE_SUPERVISOR)}),
        (signed_in, {}),
        (anonymous, {"secret": "wrong"}),
        (anonymous, {"actor": alice}),
        (anonymous, {}),
    ):
        with pytest.raises(TransitionNotAllowed):
            services.request_add_info(request=request, text="Let me in", **attempt)
    with pytest.raises(ValidationError):
        services.request_add_info(request=signed_in, text="  ", actor=alice)
    assert RequestEvent.objects.filter(kind="info_added").count() == 2


# --- Code cases -----------------------------------------------------------------------------------


def test_case_lifecycle_to_compliance_closes_the_requests_as_resolved(admin_user):
    supervisor, inspector = staff(Role.CODE_SUPERVISOR), staff(Role.CODE_INSPECTOR)
    weeds = make_category("overgrown-lot", opens_cases=True)
    first = make_request(weeds, address="45 Birch Avenue")
    second = services.request_acknowledge(
        request=make_request(weeds, address="45 Birch Avenue", lat=36.4051), actor=supervisor
    )
    today = timezone.localdate()

    case = services.case_open(
        requests=[first, second],
        actor=supervisor,
        inspector=inspector,
        owner_name="Rosa Owner",
        owner_email="owner@example.com",
        owner_language="es",
    )
    assert case.status == CaseStatus.OPEN
    assert case.number == f"CE-{today.year}-00001"
    assert case.address == "45 Birch Avenue" and case.neighborhood.name == "Downtown"
    assert case.opened_by == supervisor and case.repeat_violation is False
    for request in (first, second):
        stored = ServiceRequest.objects.get(pk=request.pk)
        assert stored.status == RequestStatus.IN_PROGRESS
        assert stored.case == case
        assert stored.events.filter(kind="case_opened", text=case.number).exists()

    when = today + timedelta(days=1)
    inspection = services.case_schedule_inspection(case=case, actor=inspector, when=when)
    case.refresh_from_db()
    assert case.status == CaseStatus.INSPECTION_SCHEDULED and case.inspector == inspector
    assert (inspection.kind, inspection.scheduled_for, inspection.inspector) == (
        InspectionKind.INITIAL,
        when,
        inspector,
    )

    # comply-by: the type's own days for the severity, else the default for the severity.
    fence = make_violation_type("RMC 8.24.040", comply_days={"high": 5})
    junk = make_violation_type("RMC 8.28.010", title_en="Junk in the yard")
    case.refresh_from_db()
    high = services.case_record_violation(
        case=case,
        actor=inspector,
        violation_type=fence,
        description="Weeds over the fence",
        severity=Severity.HIGH,
    )
    case.refresh_from_db()
    medium = services.case_record_violation(
        case=case,
        actor=inspector,
        violation_type=junk,
        description="Old mattresses",
        severity=Severity.MEDIUM,
    )
    case.refresh_from_db()
    low = services.case_record_violation(
        case=case,
        actor=inspector,
        violation_type=fence,
        description="Hedge over the sidewalk",
        severity=Severity.LOW,
    )
    assert high.comply_by == today + timedelta(days=5)
    assert medium.comply_by == today + timedelta(days=DEFAULT_COMPLY_DAYS[Severity.MEDIUM])
    assert low.comply_by == today + timedelta(days=DEFAULT_COMPLY_DAYS[Severity.LOW])
    case.refresh_from_db()
    assert case.status == CaseStatus.VIOLATION_CONFIRMED
    initial = CaseInspection.objects.get(pk=inspection.pk)
    assert initial.result == InspectionResult.VIOLATION and initial.completed_at is not None

    notice = services.case_issue_notice(case=case, actor=inspector, language="es")
    case.refresh_from_db()
    assert case.status == CaseStatus.NOTICE_ISSUED
    assert notice.language == "es" and notice.issued_by == inspector
    assert notice.comply_by == case.comply_by == today + timedelta(days=5)

    # The printable letter is in Spanish, with the types' Spanish text.
    letter = verified_client(admin_user).get(
        f"/console/code_enforcement/codecase/notice/{notice.pk}/"
    )
    assert letter.status_code == 200
    html = letter.content.decode()
    assert '<html lang="es">' in html
    assert "Vegetación descuidada" in html and "Corte la maleza" in html

    # Nothing is due the day before comply-by; on the day, one reinspection, however often.
    assert automation.reinspections_due(today=case.comply_by - timedelta(days=1)) == 0
    assert automation.reinspections_due(today=case.comply_by) == 1
    assert automation.reinspections_due(today=case.comply_by) == 0
    assert automation.reinspections_due(today=case.comply_by + timedelta(days=1)) == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.REINSPECTION
    reinspection = CaseInspection.objects.get(case=case, kind=InspectionKind.REINSPECTION)
    assert reinspection.scheduled_for == add_business_days(case.comply_by, 1)
    assert reinspection.inspector == inspector and reinspection.completed_at is None
    system_event = CaseEvent.objects.get(case=case, status=CaseStatus.REINSPECTION)
    assert system_event.actor is None

    services.case_record_reinspection(case=case, actor=inspector, complied=True, notes="Clean")
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLIED
    assert not Violation.objects.filter(case=case, corrected_at__isnull=True).exists()
    reinspection.refresh_from_db()
    assert reinspection.result == InspectionResult.COMPLIED and reinspection.notes == "Clean"

    services.case_close(case=case, actor=supervisor)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    for request in (first, second):
        stored = ServiceRequest.objects.get(pk=request.pk)
        assert stored.status == RequestStatus.CLOSED
        assert stored.resolution == Resolution.RESOLVED
        assert stored.status_notes == f"Case {case.number} closed."
    assert list(
        CaseEvent.objects.filter(case=case, kind="status")
        .order_by("pk")
        .values_list("status", flat=True)
    ) == [
        "open",
        "inspection_scheduled",
        "violation_confirmed",
        "notice_issued",
        "reinspection",
        "complied",
        "closed",
    ]


def test_not_complied_needs_a_fine_then_the_case_is_escalated():
    inspector = staff(Role.CODE_INSPECTOR)
    request = make_request(address="8 Willow Lane")
    case = case_with_notice(request, actor=inspector, inspector=inspector)
    assert automation.reinspections_due(today=case.comply_by) == 1

    for fine in (None, Decimal("0"), Decimal("-50")):
        with pytest.raises(ValidationError, match="fine"):
            services.case_record_reinspection(case=case, actor=inspector, complied=False, fine=fine)
    assert CodeCase.objects.get(pk=case.pk).status == CaseStatus.REINSPECTION

    services.case_record_reinspection(
        case=case, actor=inspector, complied=False, fine=Decimal("250.00"), notes="No change"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.ESCALATED
    assert case.fine_amount == Decimal("250.00")
    assert case.fine_due == timezone.localdate() + timedelta(days=30)
    reinspection = CaseInspection.objects.get(case=case, kind=InspectionKind.REINSPECTION)
    assert reinspection.result == InspectionResult.NOT_COMPLIED
    assert Violation.objects.filter(case=case, corrected_at__isnull=True).exists()

    services.case_close(case=case, actor=inspector)
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert (stored.status, stored.resolution) == (RequestStatus.CLOSED, Resolution.RESOLVED)


def test_no_violation_closes_the_requests_as_no_violation():
    inspector = staff(Role.CODE_INSPECTOR)
    requests = [make_request(address="3 Aspen Row"), make_request(address="3 Aspen Row")]
    case = make_case(*requests, actor=inspector)
    services.case_schedule_inspection(case=case, actor=inspector, when=timezone.localdate())
    case.refresh_from_db()

    services.case_no_violation(case=case, actor=inspector, notes="Lot was mowed")
    case.refresh_from_db()
    assert case.status == CaseStatus.NO_VIOLATION
    inspection = CaseInspection.objects.get(case=case)
    assert inspection.result == InspectionResult.NO_VIOLATION
    for request in requests:
        stored = ServiceRequest.objects.get(pk=request.pk)
        assert (stored.status, stored.resolution) == (
            RequestStatus.CLOSED,
            Resolution.NO_VIOLATION,
        )

    services.case_close(case=case, actor=inspector)
    assert CodeCase.objects.get(pk=case.pk).status == CaseStatus.CLOSED
    assert not Notice.objects.exists() and not Violation.objects.exists()


def test_cases_move_only_in_order():
    inspector = staff(Role.CODE_INSPECTOR)
    case = make_case(actor=inspector)
    vtype = make_violation_type()
    # No violation, no inspection, no notice before their time.
    with pytest.raises(ValidationError):
        services.case_record_violation(
            case=case, actor=inspector, violation_type=vtype, description="x", severity="low"
        )
    with pytest.raises(TransitionNotAllowed):
        services.case_issue_notice(case=case, actor=inspector, language="en")
    with pytest.raises(TransitionNotAllowed):
        services.case_close(case=case, actor=inspector)
    with pytest.raises(TransitionNotAllowed):
        services.case_record_reinspection(case=case, actor=inspector, complied=True)

    case = case_with_notice(make_request(address="5 Spruce Road"), actor=inspector)
    # Comply-by not reached: staff cannot jump to reinspection; only the system moves it.
    with pytest.raises(TransitionNotAllowed):
        CASES.transition(case, "reinspect", actor=inspector)
    with pytest.raises(TransitionNotAllowed):
        services.case_record_reinspection(case=case, actor=inspector, complied=True)
    assert CodeCase.objects.get(pk=case.pk).status == CaseStatus.NOTICE_ISSUED


def test_case_numbers_run_per_year():
    inspector = staff(Role.CODE_INSPECTOR)
    year = timezone.localdate().year
    first = make_case(make_request(address="1 A Street"), actor=inspector)
    second = make_case(make_request(address="2 B Street"), actor=inspector)
    assert (first.number, second.number) == (f"CE-{year}-00001", f"CE-{year}-00002")


# --- Repeat violations ----------------------------------------------------------------------------


def _case_with_violation(address: str):
    inspector = staff(Role.CODE_INSPECTOR)
    case = make_case(make_request(address=address), actor=inspector)
    services.case_schedule_inspection(case=case, actor=inspector, when=timezone.localdate())
    case.refresh_from_db()
    services.case_record_violation(
        case=case,
        actor=inspector,
        violation_type=make_violation_type(f"RMC {CodeCase.objects.count()}"),
        description="Weeds",
        severity=Severity.LOW,
    )
    return case


def test_a_new_case_at_an_address_with_a_recent_violation_is_flagged():
    earlier = _case_with_violation("77 Cedar Court")
    Violation.objects.filter(case=earlier).update(
        created_at=timezone.now() - timedelta(days=REPEAT_WINDOW_DAYS - 1)
    )
    repeat = make_case(make_request(address="77 cedar court "))
    assert repeat.repeat_violation is True
    # Another address is not a repeat.
    assert make_case(make_request(address="78 Cedar Court")).repeat_violation is False


def test_a_violation_older_than_3_years_does_not_flag_a_new_case():
    earlier = _case_with_violation("77 Cedar Court")
    Violation.objects.filter(case=earlier).update(
        created_at=timezone.now() - timedelta(days=REPEAT_WINDOW_DAYS + 1)
    )
    case = make_case(make_request(address="77 Cedar Court"))
    assert case.repeat_violation is False
    # Nor does its own first violation make it a repeat.
    inspector = staff(Role.CODE_INSPECTOR)
    services.case_schedule_inspection(case=case, actor=inspector, when=timezone.localdate())
    case.refresh_from_db()
    services.case_record_violation(
        case=case,
        actor=inspector,
        violation_type=make_violation_type("RMC 1.1"),
        description="Weeds",
        severity=Severity.LOW,
    )
    assert CodeCase.objects.get(pk=case.pk).repeat_violation is False


def test_a_case_that_was_open_before_the_other_violation_is_flagged_at_its_own():
    case = make_case(make_request(address="90 Maple Drive"))
    assert case.repeat_violation is False
    _case_with_violation("90 Maple Drive")
    inspector = staff(Role.CODE_INSPECTOR)
    services.case_schedule_inspection(case=case, actor=inspector, when=timezone.localdate())
    case.refresh_from_db()
    services.case_record_violation(
        case=case,
        actor=inspector,
        violation_type=make_violation_type("RMC 2.2"),
        description="Weeds",
        severity=Severity.LOW,
    )
    assert CodeCase.objects.get(pk=case.pk).repeat_violation is True


@pytest.mark.parametrize("address", [""])
def test_cases_without_a_real_address_are_not_repeats_of_each_other(address):
    """A report placed on the map or by a photo's GPS has no address (the wizard stores none):
    two such cases in different neighborhoods are not the same address."""
    _case_with_violation_at = _case_with_violation(address)
    assert _case_with_violation_at.address == address
    elsewhere = make_case(make_request(address=address, lat=36.385, lon=-121.270))
    assert elsewhere.neighborhood.name != _case_with_violation_at.neighborhood.name
    assert elsewhere.repeat_violation is False
