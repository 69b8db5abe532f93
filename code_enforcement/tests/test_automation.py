"""The beat jobs (each idempotent) and the notices residents and owners get."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from alerts.constants import Channel, DeliveryStatus
from alerts.models import Delivery, Notification
from cityhall.roles import Role
from code_enforcement import automation, services
from code_enforcement.constants import CaseStatus, InspectionKind, RequestStatus, Resolution
from code_enforcement.models import CaseInspection, CodeCase, ServiceRequest
from code_enforcement.tasks import (
    inspector_digests,
    owner_reminders,
    reinspections_due,
    triage_breaches,
)
from tests.worker import celery_worker, tasks_done, wait_for

from .factories import (
    case_with_notice,
    ensure_city,
    make_case,
    make_category,
    make_request,
    staff,
    submit,
)


def _late(request: ServiceRequest, days: int = 1) -> ServiceRequest:
    ServiceRequest.objects.filter(pk=request.pk).update(
        triage_due=timezone.localdate() - timedelta(days=days)
    )
    return ServiceRequest.objects.get(pk=request.pk)


def _staff_notices(user, prefix: str = ""):
    return Notification.objects.filter(
        user=user, template="staff_notice", subject__startswith=prefix
    )


def _request_notices(**filters):
    return Notification.objects.filter(template="request_notice", **filters).order_by("pk")


# --- Triage breaches ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_triage_breaches_tell_each_supervisor_once_per_late_request(
    django_capture_on_commit_callbacks,
):
    first, second = (
        staff(Role.CODE_SUPERVISOR, "sup.one"),
        staff(Role.CODE_SUPERVISOR, "sup.two"),
    )
    retired = staff(Role.CODE_SUPERVISOR, "sup.retired")
    retired.is_active = False
    retired.save()
    inspector = staff(Role.CODE_INSPECTOR)
    category = make_category("pothole")

    late = [_late(make_request(category)), _late(make_request(category, lat=36.4051), days=5)]
    due_today = make_request(category, lat=36.4052)
    ServiceRequest.objects.filter(pk=due_today.pk).update(triage_due=timezone.localdate())
    triaged = services.request_acknowledge(
        request=_late(make_request(category, lat=36.4053)), actor=inspector
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert automation.triage_breaches() == 2
    for supervisor in (first, second):
        notices = _staff_notices(supervisor).order_by("pk")
        assert sorted(n.subject for n in notices) == sorted(
            f"Triage overdue: {r.public_id} (Pothole)" for r in late
        )
        for notice in notices:
            request = next(r for r in late if r.public_id in notice.subject)
            assert notice.link == f"/console/code_enforcement/servicerequest/{request.pk}/change/"
            assert set(notice.deliveries.values_list("channel", "address")) == {
                (Channel.PORTAL, ""),
                (Channel.EMAIL, supervisor.email),
            }
    assert not _staff_notices(retired).exists()
    assert not _staff_notices(inspector).exists()
    for request in late:
        assert ServiceRequest.objects.get(pk=request.pk).breach_notified_at is not None
    for request in (due_today, triaged):
        assert ServiceRequest.objects.get(pk=request.pk).breach_notified_at is None

    total = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert automation.triage_breaches() == 0
        assert automation.triage_breaches(today=timezone.localdate() + timedelta(days=3)) == 1
    # Only the request that became late meanwhile (due today) was added, for each supervisor.
    assert Notification.objects.count() == total + 2
    assert _staff_notices(first, f"Triage overdue: {due_today.public_id}").count() == 1


# --- Reinspections --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reinspections_due_assigns_one_reinspection_per_case():
    inspector = staff(Role.CODE_INSPECTOR)
    due = case_with_notice(make_request(address="1 Due Street"), inspector=inspector)
    later = case_with_notice(make_request(address="2 Later Street", lat=36.4051))
    CodeCase.objects.filter(pk=later.pk).update(comply_by=due.comply_by + timedelta(days=1))

    for _ in range(2):
        automation.reinspections_due(today=due.comply_by)
    assert CodeCase.objects.get(pk=due.pk).status == CaseStatus.REINSPECTION
    assert CodeCase.objects.get(pk=later.pk).status == CaseStatus.NOTICE_ISSUED
    assert list(
        CaseInspection.objects.filter(kind=InspectionKind.REINSPECTION).values_list(
            "case_id", "inspector_id"
        )
    ) == [(due.pk, inspector.pk)]


# --- Owner reminders ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_owner_reminder_three_days_before_comply_by_once(django_capture_on_commit_callbacks):
    case = case_with_notice(
        make_request(address="4 Owner Street"),
        owner_name="Rosa Owner",
        owner_email="owner@example.com",
        owner_language="es",
    )
    no_email = case_with_notice(make_request(address="5 Quiet Street", lat=36.4051))
    CodeCase.objects.filter(pk=no_email.pk).update(comply_by=case.comply_by)
    comply_by = case.comply_by

    with django_capture_on_commit_callbacks(execute=True):
        assert automation.owner_reminders(today=comply_by - timedelta(days=4)) == 0
        assert automation.owner_reminders(today=comply_by - timedelta(days=3)) == 1
        assert automation.owner_reminders(today=comply_by - timedelta(days=3)) == 0
        assert automation.owner_reminders(today=comply_by - timedelta(days=2)) == 0

    notice = Notification.objects.get(template="owner_reminder")
    assert notice.user is None
    assert notice.language == "es"
    msgid = "Reminder: correct the violations by the deadline (case %(number)s)"
    with translation.override("es"):
        spanish = gettext(msgid) % {"number": case.number}
    assert spanish != msgid % {"number": case.number}, "no Spanish for the owner reminder"
    assert notice.subject == spanish
    assert "4 Owner Street" in notice.body_text
    delivery = Delivery.objects.get(notification=notice)
    assert (delivery.channel, delivery.address, delivery.status) == (
        Channel.EMAIL,
        "owner@example.com",
        DeliveryStatus.PENDING,
    )


# --- Inspector digests ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_digest_per_inspector_per_day(django_capture_on_commit_callbacks):
    today = timezone.localdate()
    ana, ben = staff(Role.CODE_INSPECTOR, "ana"), staff(Role.CODE_INSPECTOR, "ben")
    supervisor = staff(Role.CODE_SUPERVISOR)

    def scheduled(address: str, inspector, when):
        case = make_case(make_request(address=address), actor=supervisor)
        services.case_schedule_inspection(
            case=case, actor=supervisor, when=when, inspector=inspector
        )
        return case

    ana_cases = [scheduled("1 A Street", ana, today), scheduled("2 A Street", ana, today)]
    ben_case = scheduled("3 B Street", ben, today)
    tomorrow = scheduled("4 A Street", ana, today + timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert automation.inspector_digests(today=today) == 2
        assert automation.inspector_digests(today=today) == 0

    digest = _staff_notices(ana, "Your inspections").get()
    assert digest.subject == f"Your inspections for {today:%A %B %d}: 2"
    for case in ana_cases:
        assert f"{case.number} {case.address} (Initial inspection)" in digest.body_text
    assert tomorrow.number not in digest.body_text
    assert digest.link == (
        f"/console/code_enforcement/caseinspection/?scheduled_for={today:%Y-%m-%d}"
    )
    ben_digest = _staff_notices(ben, "Your inspections").get()
    assert ben_digest.subject.endswith(": 1") and ben_case.number in ben_digest.body_text
    assert not _staff_notices(supervisor, "Your inspections").exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert automation.inspector_digests(today=today + timedelta(days=1)) == 1
    assert _staff_notices(ana, "Your inspections").count() == 2


# --- Reporters' notices ---------------------------------------------------------------------------

MSGIDS = {
    "acknowledged": "We are looking at your report %(id)s.",
    "case_opened": "Your report %(id)s became a code enforcement case.",
    "closed": "Your report %(id)s was closed.",
    "reopened": "Your report %(id)s was reopened.",
}
EVENTS = ("acknowledged", "case_opened", "closed", "reopened")


def _subject(event: str, public_id: str, language: str = "en") -> str:
    """The notice's first line as the catalog has it in `language`."""
    with translation.override(language):
        return gettext(MSGIDS[event]) % {"id": public_id}


def _assert_spanish(notice, event: str, public_id: str) -> None:
    english, spanish = _subject(event, public_id), _subject(event, public_id, "es")
    assert spanish != english, f"the Spanish catalog has no translation for {MSGIDS[event]!r}"
    assert notice.language == "es", event
    assert notice.subject == spanish, event


def _walk_to_case_closed_and_reopened(request, capture, *, reporter=None, secret=""):
    """acknowledged -> case opened -> closed -> reopened, each committed (notices go on commit)."""
    supervisor = staff(Role.CODE_SUPERVISOR)
    with capture(execute=True):
        services.request_acknowledge(request=request, actor=supervisor)
    with capture(execute=True):
        case = services.case_open(
            requests=[ServiceRequest.objects.get(pk=request.pk)], actor=supervisor
        )
    with capture(execute=True):
        services.case_schedule_inspection(case=case, actor=supervisor, when=timezone.localdate())
    with capture(execute=True):
        services.case_no_violation(
            case=CodeCase.objects.get(pk=case.pk), actor=supervisor, notes="Mowed"
        )
    with capture(execute=True):
        services.request_reopen(
            request=ServiceRequest.objects.get(pk=request.pk),
            reason="Weeds are back",
            actor=reporter,
            secret=secret,
        )
    return ServiceRequest.objects.get(pk=request.pk)


@pytest.mark.django_db
def test_an_english_reporter_is_told_each_step(alice, django_capture_on_commit_callbacks):
    request = make_request(reporter=alice)
    request = _walk_to_case_closed_and_reopened(
        request, django_capture_on_commit_callbacks, reporter=alice
    )
    notices = list(_request_notices(user=alice))
    assert [n.subject for n in notices] == [
        MSGIDS[event] % {"id": request.public_id} for event in EVENTS
    ]
    assert {n.language for n in notices} == {"en"}
    assert {n.link for n in notices} == {f"/requests/{request.public_id}/"}
    closed = notices[2]
    assert "Mowed" in closed.body_text


@pytest.mark.django_db
def test_a_spanish_reporter_is_told_each_step_in_spanish(bob, django_capture_on_commit_callbacks):
    assert bob.preferred_language == "es"
    request = make_request(reporter=bob)
    request = _walk_to_case_closed_and_reopened(
        request, django_capture_on_commit_callbacks, reporter=bob
    )
    notices = list(_request_notices(user=bob))
    assert len(notices) == 4
    for notice, event in zip(notices, EVENTS, strict=True):
        _assert_spanish(notice, event, request.public_id)
        assert notice.link == f"/es/requests/{request.public_id}/", event


@pytest.mark.django_db
def test_an_anonymous_spanish_reporter_is_told_by_email_in_spanish(
    django_capture_on_commit_callbacks,
):
    request, secret = submit(contact_email="pat.private@example.com", language="es")
    request = _walk_to_case_closed_and_reopened(
        request, django_capture_on_commit_callbacks, secret=secret
    )
    notices = list(_request_notices(user=None))
    assert len(notices) == 4
    for notice, event in zip(notices, EVENTS, strict=True):
        _assert_spanish(notice, event, request.public_id)
        assert set(notice.deliveries.values_list("channel", "address", "status")) == {
            (Channel.EMAIL, "pat.private@example.com", DeliveryStatus.PENDING)
        }


@pytest.mark.django_db
def test_notices_are_recorded_with_the_change_sent_after_commit_and_starting_work_sends_none(
    alice, django_capture_on_commit_callbacks
):
    inspector = staff(Role.CODE_INSPECTOR)
    request = make_request(reporter=alice)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.request_acknowledge(request=request, actor=inspector)
    # The notice is a row of the same transaction as the change; only sending waits for the
    # commit (the callbacks), so a crash between the two loses nothing (the sweeper sends it).
    notice = _request_notices().get()
    assert notice.deliveries.filter(channel=Channel.EMAIL, status=DeliveryStatus.PENDING).exists()
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.request_start(request=ServiceRequest.objects.get(pk=request.pk), actor=inspector)
    assert callbacks == []
    assert _request_notices().count() == 1


@pytest.mark.django_db
def test_followers_are_told_in_their_language(alice, django_capture_on_commit_callbacks):
    supervisor = staff(Role.CODE_SUPERVISOR)
    original = make_request()
    signed_in_duplicate = make_request(reporter=alice, lat=36.4051)
    anonymous_duplicate = make_request(
        lat=36.4052, contact_email="pat.private@example.com", language="es"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.request_merge(request=signed_in_duplicate, original=original, actor=supervisor)
        services.request_merge(request=anonymous_duplicate, original=original, actor=supervisor)
    last = Notification.objects.order_by("pk").last().pk
    with django_capture_on_commit_callbacks(execute=True):
        services.request_close(
            request=ServiceRequest.objects.get(pk=original.pk),
            actor=supervisor,
            resolution=Resolution.RESOLVED,
        )
    # The original was anonymous without contact: only its two followers are told, that it
    # was acknowledged (closing a new request acknowledges it first) and that it closed.
    added = _request_notices(pk__gt=last)
    assert sorted(added.filter(user=alice).values_list("subject", flat=True)) == sorted(
        [
            f"We are looking at your report {original.public_id}.",
            f"Your report {original.public_id} was closed.",
        ]
    )
    by_email = added.filter(user=None)
    assert by_email.count() == 2
    for notice in by_email:
        assert notice.language == "es"
        assert set(notice.deliveries.values_list("channel", "address")) == {
            (Channel.EMAIL, "pat.private@example.com")
        }
    assert added.count() == 4


# --- The beat jobs in a live worker ---------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_live_worker_runs_each_job_twice_with_one_effect_each():
    ensure_city()
    today = timezone.localdate()
    supervisor = staff(Role.CODE_SUPERVISOR, "live.supervisor")
    inspector = staff(Role.CODE_INSPECTOR, "live.inspector")
    category = make_category("pothole")

    late = [
        _late(make_request(category, address="10 Late Street")),
        _late(make_request(category, address="11 Late Street", lat=36.4051)),
    ]
    due = [
        case_with_notice(
            make_request(category, address=f"{n} Due Street", lat=36.41 + (n - 20) * 1e-3),
            actor=inspector,
            inspector=inspector,
        )
        for n in (20, 21)
    ]
    CodeCase.objects.filter(pk__in=[c.pk for c in due]).update(comply_by=today)
    owner_case = case_with_notice(
        make_request(category, address="30 Owner Street", lat=36.399),
        actor=inspector,
        owner_email="owner@example.com",
    )
    CodeCase.objects.filter(pk=owner_case.pk).update(comply_by=today + timedelta(days=3))
    visit = make_case(make_request(category, address="40 Visit Street", lat=36.398))
    services.case_schedule_inspection(case=visit, actor=supervisor, when=today, inspector=inspector)
    before_digests = _staff_notices(inspector, "Your inspections").count()

    jobs = (triage_breaches, reinspections_due, owner_reminders, inspector_digests)
    with celery_worker() as worker:
        for job in jobs:
            job.delay()
        for job in jobs:
            job.delay()
        assert wait_for(
            lambda: all(tasks_done(worker, job.name) == 2 for job in jobs), timeout=60
        ), {job.name: tasks_done(worker, job.name) for job in jobs}

    reinspections = CaseInspection.objects.filter(kind=InspectionKind.REINSPECTION)
    assert sorted(reinspections.values_list("case_id", flat=True)) == sorted(c.pk for c in due)
    for case in due:
        assert CodeCase.objects.get(pk=case.pk).status == CaseStatus.REINSPECTION
    assert CodeCase.objects.get(pk=owner_case.pk).status == CaseStatus.NOTICE_ISSUED

    breach_subjects = list(
        _staff_notices(supervisor, "Triage overdue").values_list("subject", flat=True)
    )
    assert sorted(breach_subjects) == sorted(
        f"Triage overdue: {r.public_id} (Pothole)" for r in late
    )
    for request in late:
        stored = ServiceRequest.objects.get(pk=request.pk)
        assert stored.status == RequestStatus.NEW and stored.breach_notified_at is not None

    assert Notification.objects.filter(template="owner_reminder").count() == 1
    assert _staff_notices(inspector, "Your inspections").count() == before_digests + 1
