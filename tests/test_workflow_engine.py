"""Every workflow walked through the real transition function: each (state, move, person).

For every move of every table, from every state it starts in, each person tries it: the owner
(applicant, reporter), another resident, one staff member per role, a superuser and the system.
Those the table allows move the record, and the audit trail and the timeline name them; everyone
else is refused and nothing changes. Then: no status changes around the engine, every move a
person can make has a service, and a notice survives a crash right after the commit.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from alerts import delivery
from alerts.constants import Channel, DeliveryStatus
from alerts.models import Delivery, Notification
from alerts.tests.factories import make_alert
from alerts.workflow import ALERTS
from cityhall.constants import EventKind
from cityhall.models import system_user
from cityhall.roles import ROLE_PERMISSIONS, Role
from cityhall.workflow import OWNER, SYSTEM, TransitionNotAllowed, WorkflowBypassed
from code_enforcement import services as ce_services
from code_enforcement.automation import reinspections_due
from code_enforcement.constants import CaseStatus
from code_enforcement.models import CodeCase, ServiceRequest
from code_enforcement.tests.factories import case_with_notice, make_case, make_request
from code_enforcement.workflow import CASES, REQUESTS
from permits import services as permit_services
from permits.models import Application, Inspection
from permits.tests.factories import make_application, make_inspection_type, make_permit_type
from permits.workflow import APPLICATIONS, INSPECTIONS
from tests.personas import make_staff

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def _application(owner, status):
    permit_type = make_permit_type(f"T{next(_numbers)}")
    number = None if status in ("draft", "withdrawn") else f"T-2026-{next(_numbers):06d}"
    return Application.objects.create(
        permit_type=permit_type, applicant=owner, status=status, number=number
    )


def _inspection(owner, status):
    application = _application(owner, "issued")
    return Inspection.objects.create(
        application=application,
        inspection_type=make_inspection_type(f"i{next(_numbers)}"),
        status=status,
    )


def _request(owner, status):
    request = make_request(reporter=owner)
    closed = {"closed_at": timezone.now()} if status == "closed" else {}
    ServiceRequest.objects.filter(pk=request.pk).update(status=status, **closed)
    return ServiceRequest.objects.get(pk=request.pk)


def _case(owner, status):
    case = make_case(make_request(address=f"{next(_numbers)} Walk Street"))
    CodeCase.objects.filter(pk=case.pk).update(status=status)
    return CodeCase.objects.get(pk=case.pk)


def _alert(owner, status):
    published = None if status in ("draft", "scheduled") else timezone.now()
    return make_alert(status=status, published_at=published)


BUILDERS = {
    APPLICATIONS: _application,
    INSPECTIONS: _inspection,
    REQUESTS: _request,
    CASES: _case,
    ALERTS: _alert,
}

# What a move's service sets that the database insists on (the walk calls the engine directly).
SETS = {
    (APPLICATIONS, "submit"): lambda application: setattr(
        application, "number", f"W-2026-{next(_numbers):06d}"
    ),
}

WALK = [
    pytest.param(workflow, move.name, source, id=f"{workflow.name}:{move.name}:{source}")
    for workflow in BUILDERS
    for move in workflow.moves.values()
    for source in move.sources
]


@pytest.fixture
def people(alice, bob, admin_user):
    by_role = {role: make_staff(role, f"walk.{role.value}@riverbend.example") for role in Role}
    return {
        "owner": alice,
        "other resident": bob,
        "superuser": admin_user,
        "system": None,
        **by_role,
    }


def _may(move, who, actor) -> bool:
    """What the table says, read from the roles' definitions rather than from the engine."""
    if actor is None:
        return True
    if move.who is SYSTEM:
        return False
    if move.who == OWNER:
        return who == "owner"
    if who == "superuser":
        return True
    return isinstance(who, Role) and move.who in ROLE_PERMISSIONS[who]


def _events(workflow, obj):
    if workflow.timeline is None:
        return None
    event_model, owner_fields = workflow.timeline(obj)
    return event_model.objects.filter(**owner_fields)


@pytest.mark.parametrize(("workflow", "name", "source"), WALK)
def test_every_state_move_and_person(workflow, name, source, people):
    move = workflow.moves[name]
    obj = BUILDERS[workflow](people["owner"], source)
    target = move.targets[0] if move.targets else None
    apply = SETS.get((workflow, name))
    allowed_somewhere = False
    for who, actor in people.items():
        events = _events(workflow, obj)
        before = events.count() if events is not None else 0
        with transaction.atomic():
            if not _may(move, who, actor):
                with pytest.raises(TransitionNotAllowed):
                    workflow.transition(obj, name, actor=actor, target=target, apply=apply)
                fresh = type(obj).objects.get(pk=obj.pk)
                assert fresh.status == source, who
                assert events is None or events.count() == before, who
                transaction.set_rollback(True)
                continue
            allowed_somewhere = allowed_somewhere or actor is not None
            workflow.transition(obj, name, actor=actor, target=target, apply=apply)
            fresh = type(obj).objects.get(pk=obj.pk)
            if target is not None:
                assert fresh.status == target, who
                # The audit trail names who acted: the person, or the system user for beat.
                expected = actor or system_user()
                assert fresh.history.latest().history_user_id == expected.pk, who
            if events is not None and move.event is not None:
                event = events.latest("pk")
                assert events.count() == before + 1, who
                assert (event.kind, event.actor, event.public) == (move.event, actor, move.public)
                if target is not None and move.event in (EventKind.STATUS, EventKind.REOPENED):
                    assert event.status == target
            transaction.set_rollback(True)
    # A move nobody but the system can make must be a SYSTEM move.
    assert allowed_somewhere or move.who is SYSTEM


@pytest.mark.parametrize("workflow", list(BUILDERS), ids=lambda w: w.name)
def test_a_status_never_changes_around_the_engine(workflow, alice):
    move = next(m for m in workflow.moves.values() if m.targets)
    obj = BUILDERS[workflow](alice, move.sources[0])
    obj.status = move.targets[0]
    with pytest.raises(WorkflowBypassed):
        obj.save()
    assert type(obj).objects.get(pk=obj.pk).status == move.sources[0]


def test_every_move_a_person_makes_has_a_service():
    for workflow in BUILDERS:
        for move in workflow.moves.values():
            if move.who is not SYSTEM:
                assert move.name in workflow.handlers, f"{workflow.name}: {move.name}"
            if move.form:
                assert move.form_class is not None


# --- Beat acts as the system user ---------------------------------------------------------------


def test_the_reinspection_job_records_the_system_user(alice):
    case = case_with_notice(make_request(address="3 Audit Lane"))
    CodeCase.objects.filter(pk=case.pk).update(comply_by=timezone.localdate())
    assert reinspections_due() == 1
    stored = CodeCase.objects.get(pk=case.pk)
    assert stored.status == CaseStatus.REINSPECTION
    assert stored.history.latest().history_user_id == system_user().pk
    event = stored.events.latest("pk")
    assert (event.status, event.actor) == (CaseStatus.REINSPECTION, None)


# --- A crash right after the commit loses no notice ---------------------------------------------


def test_a_notice_survives_a_crash_right_after_the_commit(
    alice, django_capture_on_commit_callbacks, mailoutbox, settings, monkeypatch
):
    """The process dies after COMMIT, before any on-commit hook runs (nothing reaches the
    broker). The notice was written in the same transaction as the approval, so it is there,
    pending; the sweeper queues it again and it is sent."""
    reviewer = make_staff(Role.PLAN_REVIEWER, "crash.reviewer@riverbend.example")
    application = make_application(alice, status="in_review")
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False) as lost:
        permit_services.application_approve(application=application, actor=reviewer)
    assert lost  # the hooks that would have enqueued sending never ran

    notice = Notification.objects.get(user=alice, template="permit_notice")
    assert application.number in notice.subject
    email = Delivery.objects.get(notification=notice, channel=Channel.EMAIL)
    assert email.status == DeliveryStatus.PENDING

    queued = []
    later = timezone.now() + timedelta(seconds=settings.DELIVERY_SWEEP_AFTER_SECONDS + 1)
    monkeypatch.setattr(
        delivery,
        "enqueue_sends",
        lambda rows, on_commit=True, **_kw: queued.extend(pk for pk, _channel in rows),
    )
    delivery.deliveries_sweep(now=later)
    assert email.pk in queued
    delivery.delivery_send(delivery_id=email.pk)
    assert Delivery.objects.get(pk=email.pk).status == DeliveryStatus.SENT
    assert [m.to for m in mailoutbox] == [[alice.email]]
    assert application.number in mailoutbox[0].subject


def test_a_reporter_notice_survives_a_crash_right_after_the_commit(
    alice, django_capture_on_commit_callbacks
):
    inspector = make_staff(Role.CODE_INSPECTOR, "crash.inspector@riverbend.example")
    request = make_request(reporter=alice)
    with django_capture_on_commit_callbacks(execute=False):
        ce_services.request_close(request=request, actor=inspector, resolution="resolved")
    subjects = list(
        Notification.objects.filter(user=alice, template="request_notice").values_list(
            "subject", flat=True
        )
    )
    assert any("closed" in subject for subject in subjects), subjects
    assert Delivery.objects.filter(
        notification__user=alice, channel=Channel.EMAIL, status=DeliveryStatus.PENDING
    ).count() == len(subjects)
