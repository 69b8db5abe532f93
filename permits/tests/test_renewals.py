"""Renewal reminders, expiry and automatic renewals: once each, however often the jobs run."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from alerts.models import Notification
from permits import services
from permits.constants import Status
from permits.models import Application, RenewalReminder, TimelineEvent
from permits.tasks import create_auto_renewals, expire_permits, send_renewal_reminders
from tests.personas import make_resident, signed_in_client
from tests.worker import celery_worker, tasks_done, wait_for

from .factories import make_application, make_permit_type


def _renewable(code="BUS", **kw):
    fields = {
        "renewable": True,
        "reminder_offsets": [60, 30, 7],
        "validity_days": 365,
        "renewal_window_days": 60,
        "grace_days": 0,
    }
    fields.update(kw)
    return make_permit_type(code, **fields)


def _notices(user):
    return Notification.objects.filter(user=user, template="permit_notice")


def _forget_setup_notices():
    """Setting up an issued permit walks it through submit, review and issue, each of which
    tells the applicant; the tests read only what the job under test sends."""
    Notification.objects.all().delete()


def _days_before(permit, days):
    return permit.expires_at - timedelta(days=days)


# --- Reminders ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_reminder_per_offset_and_none_on_a_rerun(alice, django_capture_on_commit_callbacks):
    permit = make_application(alice, _renewable(), status="issued")
    _forget_setup_notices()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.renewals_due_reminders(today=_days_before(permit, 45)) == 1
    assert list(RenewalReminder.objects.values_list("days_before", flat=True)) == [60]
    notice = _notices(alice).get()
    assert notice.language == "en"
    assert notice.subject == f"Your permit {permit.number} expires in 45 days. Renew it now."
    assert notice.link == f"/permits/{permit.number}/"

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.renewals_due_reminders(today=_days_before(permit, 45)) == 0
        assert services.renewals_due_reminders(today=_days_before(permit, 40)) == 0
    assert callbacks == []
    assert _notices(alice).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert services.renewals_due_reminders(today=_days_before(permit, 25)) == 1
        assert services.renewals_due_reminders(today=_days_before(permit, 25)) == 0
    assert sorted(RenewalReminder.objects.values_list("days_before", flat=True)) == [30, 60]
    assert _notices(alice).count() == 2
    assert "expires in 25 days" in _notices(alice).first().subject


@pytest.mark.django_db
def test_missed_days_send_one_reminder_not_three(alice, django_capture_on_commit_callbacks):
    permit = make_application(alice, _renewable(), status="issued")
    _forget_setup_notices()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.renewals_due_reminders(today=_days_before(permit, 5)) == 1
        assert services.renewals_due_reminders(today=_days_before(permit, 4)) == 0
    assert list(RenewalReminder.objects.values_list("days_before", flat=True)) == [7]
    assert _notices(alice).count() == 1


@pytest.mark.django_db
def test_no_reminder_before_the_first_offset_or_for_other_types(alice, bob):
    permit = make_application(alice, _renewable(), status="issued")
    not_renewable = make_application(
        bob, make_permit_type("ELE", reminder_offsets=[60]), status="issued"
    )
    assert permit.expires_at == not_renewable.expires_at
    assert services.renewals_due_reminders(today=_days_before(permit, 61)) == 0
    assert not RenewalReminder.objects.exists()
    # Ten days out, only the renewable type's holder is reminded.
    assert services.renewals_due_reminders(today=_days_before(permit, 10)) == 1
    assert list(RenewalReminder.objects.values_list("application_id", flat=True)) == [permit.pk]


@pytest.mark.django_db
def test_no_reminder_once_a_renewal_is_submitted(alice):
    permit = make_application(alice, _renewable(), status="issued")
    renewal = services.renewal_start(application=permit, actor=alice)
    renewal = services.application_declare(application=renewal, actor=alice)
    services.application_submit(application=renewal, actor=alice)
    assert services.renewals_due_reminders(today=_days_before(permit, 20)) == 0


@pytest.mark.django_db
def test_the_reminder_is_in_the_holders_language(bob, django_capture_on_commit_callbacks):
    permit = make_application(bob, _renewable(), status="issued")
    _forget_setup_notices()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.renewals_due_reminders(today=_days_before(permit, 45)) == 1
    notice = _notices(bob).get()
    assert notice.template == "permit_notice"
    assert notice.language == "es"
    assert notice.link == f"/es/permits/{permit.number}/"
    with translation.override("es"):
        expected = translation.ngettext(
            "Your permit %(number)s expires in %(days)s day. Renew it now.",
            "Your permit %(number)s expires in %(days)s days. Renew it now.",
            45,
        ) % {"number": permit.number, "days": 45}
    assert notice.subject == expected
    assert "expires in" not in notice.subject  # Spanish, not English


# --- Expiry ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_expiry_after_the_grace_period_once(alice, django_capture_on_commit_callbacks):
    permit = make_application(alice, _renewable(grace_days=10), status="issued")
    _forget_setup_notices()
    last_day_of_grace = permit.expires_at + timedelta(days=10)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.permits_expire(today=permit.expires_at) == 0
        assert services.permits_expire(today=last_day_of_grace) == 0
    assert Application.objects.get(pk=permit.pk).status == Status.ISSUED
    assert not _notices(alice).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.permits_expire(today=last_day_of_grace + timedelta(days=1)) == 1
    expired = Application.objects.get(pk=permit.pk)
    assert expired.status == Status.EXPIRED
    event = TimelineEvent.objects.get(application=permit, status="expired")
    assert event.actor is None and event.public
    notice = _notices(alice).get()
    assert notice.subject == f"Your permit {permit.number} has expired."

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.permits_expire(today=last_day_of_grace + timedelta(days=2)) == 0
    assert callbacks == []
    assert _notices(alice).count() == 1


@pytest.mark.django_db
def test_expiry_leaves_other_permits_alone(alice, bob):
    expiring = make_application(alice, _renewable(), status="issued")
    later = make_application(bob, _renewable("LIQ", validity_days=730), status="issued")
    assert services.permits_expire(today=expiring.expires_at + timedelta(days=1)) == 1
    assert Application.objects.get(pk=later.pk).status == Status.ISSUED


# --- Automatic renewals ---------------------------------------------------------------------------


def _auto_type(**kw):
    return _renewable(
        "FOOD", auto_renew=True, renewal_fee=Decimal("75.00"), reminder_offsets=[], **kw
    )


@pytest.mark.django_db
def test_auto_renewal_is_created_once_when_the_window_opens(
    alice, django_capture_on_commit_callbacks
):
    permit_type = _auto_type()
    permit = make_application(
        alice,
        permit_type,
        status="issued",
        address="9 Harbor Road",
        business_name="Harbor Tacos",
        description="Food truck",
        zip_code="95001",
    )
    window_opens = _days_before(permit, 60)
    _forget_setup_notices()

    assert services.renewals_auto_create(today=window_opens - timedelta(days=1)) == 0
    assert not Application.objects.filter(renews=permit).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.renewals_auto_create(today=window_opens) == 1
    renewal = Application.objects.get(renews=permit)
    assert renewal.status == Status.DRAFT and renewal.applicant == alice
    assert renewal.permit_type == permit_type
    for field in ("applicant_name", "address", "business_name", "description", "zip_code"):
        assert getattr(renewal, field) == getattr(permit, field), field
    assert renewal.answers == permit.answers
    assert services.fee_for(renewal) == Decimal("75.00")
    notice = _notices(alice).get()
    assert notice.subject == f"Your renewal for {permit.number} is ready: confirm it and pay."
    assert notice.link == f"/permits/apply/{renewal.public_id}/"

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.renewals_auto_create(today=window_opens) == 0
        assert services.renewals_auto_create(today=window_opens + timedelta(days=5)) == 0
    assert callbacks == []
    assert Application.objects.filter(renews=permit).count() == 1

    # The renewal is charged the renewal fee, not the type's fee.
    renewal = services.application_declare(application=renewal, actor=alice)
    submitted = services.application_submit(application=renewal, actor=alice)
    assert submitted.fee_total == Decimal("75.00")


@pytest.mark.django_db
def test_no_auto_renewal_for_types_without_it(alice):
    permit = make_application(alice, _renewable(), status="issued")
    assert services.renewals_auto_create(today=_days_before(permit, 10)) == 0
    assert not Application.objects.filter(renews=permit).exists()


# --- Renewing by hand -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_renew_from_the_permit_page_prefills_a_draft_once(alice):
    permit_type = _renewable(renewal_fee=Decimal("40.00"))
    permit = make_application(
        alice, permit_type, status="issued", address="5 Mill Street", description="Corner shop"
    )
    client = signed_in_client(alice)
    first = client.post(f"/permits/{permit.number}/renew/")
    renewal = Application.objects.get(renews=permit)
    assert first.status_code == 302
    assert first["Location"] == f"/permits/apply/{renewal.public_id}/"
    assert renewal.status == Status.DRAFT and renewal.applicant == alice
    assert renewal.address == "5 Mill Street" and renewal.description == "Corner shop"
    assert renewal.applicant_name == permit.applicant_name
    assert services.fee_for(renewal) == Decimal("40.00")
    second = client.post(f"/permits/{permit.number}/renew/")
    assert second["Location"] == first["Location"]
    assert Application.objects.filter(renews=permit).count() == 1
    task_list = client.get(first["Location"]).content.decode()
    assert f"renewal of {permit.number}" in task_list


@pytest.mark.django_db
def test_a_permit_that_is_not_renewable_cannot_be_renewed(alice):
    permit = make_application(alice, make_permit_type("ELE"), status="issued")
    response = signed_in_client(alice).post(f"/permits/{permit.number}/renew/")
    assert response.status_code == 302
    assert response["Location"] == f"/permits/{permit.number}/"
    assert not Application.objects.filter(renews=permit).exists()


# --- The beat jobs in a live worker ---------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_live_worker_runs_each_renewal_job_twice_with_one_effect_each():
    today = timezone.localdate()
    reminded_holder = make_resident("reminded@example.com")
    expired_holder = make_resident("expired@example.com", language="es")
    renewed_holder = make_resident("renewed@example.com")

    # Expires in 45 days: the 60-day reminder is due.
    reminded = make_application(
        reminded_holder, _renewable("BUS", validity_days=45), status="issued"
    )
    # Issued a year ago and past its expiry (the date is set: a permit cannot be issued in
    # the past).
    expired = make_application(
        expired_holder, _renewable("LIQ", reminder_offsets=[]), status="issued"
    )
    Application.objects.filter(pk=expired.pk).update(expires_at=today - timedelta(days=3))
    # An auto-renewal type whose window (60 days) is open.
    renewed = make_application(renewed_holder, _auto_type(validity_days=50), status="issued")

    assert reminded.expires_at == today + timedelta(days=45)
    before = {
        user.pk: _notices(user).count()
        for user in (reminded_holder, expired_holder, renewed_holder)
    }

    jobs = (send_renewal_reminders, expire_permits, create_auto_renewals)
    with celery_worker() as worker:
        for job in jobs:
            job.delay()
        for job in jobs:
            job.delay()
        assert wait_for(
            lambda: all(tasks_done(worker, job.name) == 2 for job in jobs), timeout=60
        ), {job.name: tasks_done(worker, job.name) for job in jobs}

    assert list(RenewalReminder.objects.values_list("application_id", "days_before")) == [
        (reminded.pk, 60)
    ]
    assert Application.objects.get(pk=expired.pk).status == Status.EXPIRED
    assert TimelineEvent.objects.filter(application=expired, status="expired").count() == 1
    assert Application.objects.filter(renews=renewed).count() == 1
    assert not Application.objects.filter(renews__in=[reminded, expired]).exists()
    assert Application.objects.get(pk=reminded.pk).status == Status.ISSUED
    assert Application.objects.get(pk=renewed.pk).status == Status.ISSUED

    # Exactly one new notice each: the reminder, the expiry notice, the renewal.
    assert _notices(reminded_holder).count() == before[reminded_holder.pk] + 1
    assert _notices(expired_holder).count() == before[expired_holder.pk] + 1
    assert _notices(renewed_holder).count() == before[renewed_holder.pk] + 1
    assert f"{reminded.number} expires in 45 days" in _notices(reminded_holder).first().subject
    assert _notices(expired_holder).first().language == "es"
    assert renewed.number in _notices(renewed_holder).first().subject


# --- At a city's size -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_nightly_jobs_read_only_permits_that_are_due(alice):
    """Permits far from expiry are filtered out in SQL: with nothing due, each job runs the same
    few queries for two issued permits as for six."""
    renewable = _renewable(auto_renew=True)
    permits = [make_application(alice, renewable, status="issued") for _ in range(2)]
    far = _days_before(permits[0], 200)

    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert services.renewals_due_reminders(today=far) == 0
            assert services.renewals_auto_create(today=far) == 0
            assert services.permits_expire(today=far) == 0
        return len(captured.captured_queries)

    few = queries()
    permits += [make_application(alice, renewable, status="issued") for _ in range(4)]
    assert queries() == few
