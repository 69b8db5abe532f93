"""Disposal under the retention schedule, by time travel: each default rule leaves a record
alone the day before its period ends and deletes or anonymises it the day after; records kept
permanently stay; a more specific rule wins; a run is idempotent, goes in batches, survives a
crash half-way, logs no personal data and seals the KPI roll-ups first."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.test import TestCase
from django.utils import timezone

from alerts.constants import Channel, DeliveryStatus
from alerts.models import Delivery, Notification, Subscription
from alerts.tests.factories import make_subscription, make_topic
from cityhall.models import StaffAccess, User, anonymised_person
from cityhall.records import registry, services
from cityhall.records.models import DisposalLog, RetentionRule
from cityhall.roles import Role
from code_enforcement import services as ce_services
from code_enforcement.constants import CaseStatus, RequestStatus, Resolution
from code_enforcement.models import CodeCase, Follower, RequestPhoto, ServiceRequest
from code_enforcement.tests.factories import (
    jpeg_upload,
    make_case,
    make_category,
    make_request,
    staff,
)
from kpis import rollups
from kpis.models import DailyRollup
from permits import services as permit_services
from permits.constants import PaymentMethod, Status
from permits.models import Application, Document, Payment
from permits.tests.factories import (
    factory_staff,
    make_application,
    make_inspection_type,
    make_permit_type,
    pdf_upload,
)
from tests.personas import make_resident

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files go to a scratch directory, never to the checkout's .data/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- Time -----------------------------------------------------------------------------------------


def anchor() -> datetime:
    """About now, on a day every month has (so that "two years before" is one exact moment)."""
    moment = timezone.now().replace(microsecond=0)
    return moment - timedelta(days=4) if moment.day > 28 else moment


def period(*, years: int = 0, days: int = 0) -> tuple[datetime, datetime]:
    """(start, end) of a retention period of so many years (or days) that ends about now."""
    end = anchor()
    return end.replace(year=end.year - years) - timedelta(days=days), end


def period_end(start: datetime, *, years: int = 0, days: int = 0) -> datetime:
    """When a period of so many years (or days) that started at `start` ends."""
    return start.replace(year=start.year + years) + timedelta(days=days)


def run(now: datetime, **kwargs) -> dict[tuple[str, str, str], DisposalLog]:
    """One disposal run at `now`: its log rows by (record type, status, kind) of their rule.
    (What waits for the commit, removing files, is run as the commit would.)"""
    with TestCase.captureOnCommitCallbacks(execute=True):
        logs = services.dispose(now=now, **kwargs)
    return {(log.record_type, log.rule.status, log.rule.kind): log for log in logs}


def done(log: DisposalLog) -> tuple[int, int]:
    return log.deleted, log.anonymised


# --- Records --------------------------------------------------------------------------------------


def person(email: str, first_name: str = "Rosa", last_name: str = "Reyes") -> User:
    return make_resident(email, first_name=first_name, last_name=last_name, phone="4085550142")


def application(applicant, *, status=None, permit_type=None, updated_at=None, **fields):
    """An application with personal data and one uploaded document, last changed at
    `updated_at`."""
    fields.setdefault("applicant_name", f"{applicant.first_name} {applicant.last_name}")
    fields.setdefault("applicant_phone", "(408) 555-0142")
    fields.setdefault("answers", {"porch": f"{applicant.first_name}'s porch"})
    draft = make_application(applicant, permit_type, **fields)
    permit_services.document_add(
        application=draft, actor=applicant, uploaded=pdf_upload(f"{applicant.pk}-plan.pdf")
    )
    if status is not None:
        draft = make_application_status(draft, status)
    if updated_at is not None:
        Application.objects.filter(pk=draft.pk).update(updated_at=updated_at)
    return Application.objects.get(pk=draft.pk)


def make_application_status(draft: Application, status: str) -> Application:
    """Moves a draft on to `status` through the services (the factory's own path)."""
    from permits.tests.factories import _move_to

    return _move_to(draft, Status(status))


def closed_request(
    *, reporter=None, closed_at=None, category=None, photo=True, **fields
) -> ServiceRequest:
    """A report with its reporter's contact details (and a photo), closed by an inspector at
    `closed_at`."""
    token = ""
    if photo:
        token = f"draft-{ServiceRequest.objects.count()}-{RequestPhoto.objects.count()}"
        ce_services.photo_add_to_draft(draft_token=token, uploaded=jpeg_upload())
    if reporter is not None:
        fields.setdefault("contact_name", reporter.get_full_name())
        fields.setdefault("contact_email", reporter.email)
    fields.setdefault("contact_phone", "(408) 555-0199")
    request = make_request(category, reporter=reporter, draft_token=token, **fields)
    ce_services.request_close(
        request=request, actor=staff(Role.CODE_INSPECTOR), resolution=Resolution.RESOLVED
    )
    if closed_at is not None:
        ServiceRequest.objects.filter(pk=request.pk).update(closed_at=closed_at)
    return ServiceRequest.objects.get(pk=request.pk)


def closed_case(*, closed_at=None, address="12 Elm Street", **owner) -> CodeCase:
    """A case opened from a report, inspected (no violation) and closed at `closed_at`."""
    inspector = staff(Role.CODE_INSPECTOR)
    owner.setdefault("owner_name", "Olga Owner")
    owner.setdefault("owner_mailing_address", "PO Box 17, Riverbend")
    owner.setdefault("owner_email", "olga@example.com")
    case = make_case(make_request(address=address), actor=inspector, **owner)
    ce_services.case_schedule_inspection(case=case, actor=inspector, when=timezone.localdate())
    case.refresh_from_db()
    ce_services.case_no_violation(case=case, actor=inspector, notes="Lot was mowed")
    case.refresh_from_db()
    ce_services.case_close(case=case, actor=inspector)
    if closed_at is not None:
        CodeCase.objects.filter(pk=case.pk).update(closed_at=closed_at)
    return CodeCase.objects.get(pk=case.pk)


def topic():
    from alerts.models import Topic

    return Topic.objects.filter(slug="weather").first() or make_topic("weather")


def message(user, *, created_at=None, delivery_status=DeliveryStatus.SENT) -> Notification:
    """A message in `user`'s inbox, emailed to them (the delivery in `delivery_status`)."""
    notification = Notification.objects.create(
        user=user,
        template="permit_notice",
        language="en",
        subject="Your application was received",
        body_text=f"Hello {user.first_name}",
    )
    Delivery.objects.create(
        notification=notification,
        channel=Channel.EMAIL,
        address=user.email,
        status=delivery_status,
        sent_at=timezone.now() if delivery_status == DeliveryStatus.SENT else None,
    )
    if created_at is not None:
        Notification.objects.filter(pk=notification.pk).update(created_at=created_at)
    return notification


def history_of(model, pk) -> list[dict]:
    return list(model.history.filter(id=pk).order_by("history_id").values())


# --- Applications ---------------------------------------------------------------------------------


def test_a_draft_is_deleted_with_its_files_a_year_after_its_last_change(alice):
    """Drafts: kept a year after their last change, then deleted with their uploaded files."""
    start, end = period(years=1)
    draft = application(alice, updated_at=start)
    document = Document.objects.get(application=draft)
    path = document.file.path

    logs = run(end - DAY)
    assert done(logs[("permits.application", "draft", "")]) == (0, 0)
    assert Application.objects.get(pk=draft.pk).applicant_name == "Alice Adams"
    assert Document.objects.filter(pk=document.pk).exists() and os.path.exists(path)

    logs = run(end + DAY)
    assert done(logs[("permits.application", "draft", "")]) == (1, 0)
    assert not Application.objects.filter(pk=draft.pk).exists()
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not os.path.exists(path)


def test_a_batch_that_rolls_back_keeps_its_files(alice, monkeypatch):
    """Files go only when their batch commits: a batch that fails after deleting its rows
    leaves both the rows and the files (never a row pointing at a missing file)."""
    start, end = period(years=1)
    draft = application(alice, updated_at=start)
    path = Document.objects.get(application=draft).file.path

    applications = registry.RECORD_TYPES["permits.application"]
    original = applications.dispose

    def fail_after_deleting(rows, action):
        original(rows, action)
        assert not Application.objects.filter(pk=draft.pk).exists()  # deleted, not committed
        raise RuntimeError("the worker died before the batch committed")

    monkeypatch.setattr(applications, "dispose", fail_after_deleting)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.dispose(now=end + DAY)  # the failed batch is rolled back, the run goes on
    monkeypatch.undo()
    log = DisposalLog.objects.get(record_type="permits.application", rule__status="draft")
    assert log.note.startswith("Failed: RuntimeError")

    assert Application.objects.filter(pk=draft.pk).exists()
    assert os.path.exists(path)
    run(end + DAY)
    assert not os.path.exists(path)


@pytest.mark.parametrize("status", [Status.DENIED, Status.WITHDRAWN])
def test_a_refused_application_is_anonymised_two_years_after_its_last_change(alice, status):
    """Denied or withdrawn: kept whole two years, then the row stays without the applicant
    (account, name, phone, answers), in its history rows too; its documents are kept."""
    start, end = period(years=2)
    refused = application(alice, status=status, updated_at=start)
    document = Document.objects.get(application=refused)

    logs = run(end - DAY)
    assert done(logs[("permits.application", "refused", "")]) == (0, 0)
    kept = Application.objects.get(pk=refused.pk)
    assert (kept.applicant_id, kept.applicant_name, kept.applicant_phone) == (
        alice.pk,
        "Alice Adams",
        "(408) 555-0142",
    )
    assert kept.answers == {"porch": "Alice's porch"}
    assert any(row["applicant_name"] == "Alice Adams" for row in history_of(Application, kept.pk))

    logs = run(end + DAY)
    assert done(logs[("permits.application", "refused", "")]) == (0, 1)
    gone = Application.objects.get(pk=refused.pk)
    nobody = anonymised_person()
    assert (gone.applicant_id, gone.applicant_name, gone.applicant_phone, gone.answers) == (
        nobody.pk,
        "",
        "",
        {},
    )
    # The city's record stays: number, status, type, address, description, fees.
    assert (gone.number, gone.status, gone.address, gone.description) == (
        refused.number,
        status,
        refused.address,
        refused.description,
    )
    rows = history_of(Application, gone.pk)
    assert rows and all(
        (row["applicant_id"], row["applicant_name"], row["applicant_phone"]) == (nobody.pk, "", "")
        for row in rows
    )
    # Documents are kept permanently by default.
    assert Document.objects.filter(pk=document.pk).exists()
    assert os.path.exists(document.file.path)
    # The account itself is not disposed of.
    assert User.objects.get(pk=alice.pk).email == "alice@example.com"


def _refused_application(resident, start):
    refused = application(resident, status=Status.DENIED, updated_at=start)
    return Application, refused.pk, factory_staff(Role.PLAN_REVIEWER)


def _closed_report(resident, start):
    report = closed_request(reporter=resident, closed_at=start, photo=False)
    return ServiceRequest, report.pk, staff(Role.CODE_INSPECTOR)


@pytest.mark.parametrize(
    "build", [_refused_application, _closed_report], ids=["application", "report"]
)
def test_anonymised_history_rows_do_not_name_the_resident_as_their_author(alice, build):
    """After anonymising, no history row of the record points at the resident's account,
    not even as the author of a change; the staff who changed it stay."""
    start, end = period(years=2)
    model, pk, staff_member = build(alice, start)
    assert model.history.filter(id=pk, history_user=alice).exists()

    run(end + DAY)

    assert model.history.filter(id=pk, history_user=staff_member).exists()
    assert not model.history.filter(id=pk, history_user=alice).exists()


def _ended(applicant, status):
    if status == Status.FINALED:
        permit_type = make_permit_type("ELE", inspection_types=[make_inspection_type()])
        return application(applicant, permit_type=permit_type, status=status)
    return application(applicant, status=status)


@pytest.mark.parametrize("status", [Status.FINALED, Status.EXPIRED, Status.REVOKED])
def test_ended_permits_and_their_documents_are_kept_fifty_years_later(alice, status):
    """Finaled, expired or revoked permits are kept permanently, whole, with their files."""
    start, end = period(years=50)
    ended = _ended(alice, status)
    Application.objects.filter(pk=ended.pk).update(updated_at=start)
    document = Document.objects.get(application=ended)

    logs = run(end + DAY)

    assert ("permits.application", "ended", "") not in logs  # a "keep" rule is never run
    kept = Application.objects.get(pk=ended.pk)
    assert (kept.status, kept.applicant_id, kept.applicant_name, kept.applicant_phone) == (
        status,
        alice.pk,
        "Alice Adams",
        "(408) 555-0142",
    )
    assert kept.answers == {"porch": "Alice's porch"}
    assert Document.objects.filter(pk=document.pk).exists()
    assert os.path.exists(document.file.path)


def test_documents_of_a_refused_application_are_kept_fifty_years_later(alice):
    """Documents are kept permanently by default, even once their application is anonymised."""
    start, end = period(years=50)
    refused = application(alice, status=Status.DENIED, updated_at=start)
    document = Document.objects.get(application=refused)

    logs = run(end + DAY)

    assert ("permits.document", "", "") not in logs
    assert Document.objects.get(pk=document.pk).file.name == document.file.name
    assert os.path.exists(document.file.path)


# --- Reports, photos and cases --------------------------------------------------------------------


def test_a_closed_report_is_anonymised_two_years_after_it_closed(alice, bob):
    """Reports: kept whole two years after closing, then kept without the reporter, their
    contact details, the secret and the followers, in the history rows too."""
    start, end = period(years=2)
    report = closed_request(reporter=alice, closed_at=start, photo=False)
    Follower.objects.create(request=report, user=bob)
    Follower.objects.create(request=report, email="watcher@example.com")

    logs = run(end - DAY)
    assert done(logs[("code_enforcement.servicerequest", "", "")]) == (0, 0)
    kept = ServiceRequest.objects.get(pk=report.pk)
    assert (kept.reporter_id, kept.contact_name, kept.contact_email, kept.contact_phone) == (
        alice.pk,
        "Alice Adams",
        "alice@example.com",
        "(408) 555-0199",
    )
    assert kept.reporter_secret and kept.followers.count() == 2

    logs = run(end + DAY)
    assert done(logs[("code_enforcement.servicerequest", "", "")]) == (0, 1)
    gone = ServiceRequest.objects.get(pk=report.pk)
    assert (
        gone.reporter_id,
        gone.contact_name,
        gone.contact_email,
        gone.contact_phone,
        gone.reporter_secret,
    ) == (None, "", "", "", "")
    assert not Follower.objects.filter(request=report).exists()
    assert (gone.public_id, gone.status, gone.address, gone.description) == (
        report.public_id,
        RequestStatus.CLOSED,
        report.address,
        report.description,
    )
    rows = history_of(ServiceRequest, gone.pk)
    assert rows and all(
        (row["reporter_id"], row["contact_name"], row["contact_email"], row["contact_phone"])
        == (None, "", "", "")
        for row in rows
    )


def test_report_photos_are_deleted_with_their_files_two_years_after_the_report_closed(alice):
    """Photos: deleted, files and all, two years after their report closed; the report stays."""
    start, end = period(years=2)
    report = closed_request(reporter=alice, closed_at=start)
    photo = RequestPhoto.objects.get(request=report)
    path = photo.image.path
    assert os.path.exists(path)

    logs = run(end - DAY)
    assert done(logs[("code_enforcement.requestphoto", "", "")]) == (0, 0)
    assert RequestPhoto.objects.filter(pk=photo.pk).exists() and os.path.exists(path)

    logs = run(end + DAY)
    assert done(logs[("code_enforcement.requestphoto", "", "")]) == (1, 0)
    assert not RequestPhoto.objects.filter(pk=photo.pk).exists()
    assert not os.path.exists(path)
    assert ServiceRequest.objects.filter(pk=report.pk).exists()


def test_a_closed_case_is_anonymised_five_years_after_it_closed():
    """Cases: kept whole five years after closing, then without the owner's name, mailing
    address and email, in the history rows too."""
    start, end = period(years=5)
    case = closed_case(closed_at=start)

    logs = run(end - DAY)
    assert done(logs[("code_enforcement.codecase", "", "")]) == (0, 0)
    kept = CodeCase.objects.get(pk=case.pk)
    assert (kept.owner_name, kept.owner_mailing_address, kept.owner_email) == (
        "Olga Owner",
        "PO Box 17, Riverbend",
        "olga@example.com",
    )

    logs = run(end + DAY)
    assert done(logs[("code_enforcement.codecase", "", "")]) == (0, 1)
    gone = CodeCase.objects.get(pk=case.pk)
    assert (gone.owner_name, gone.owner_mailing_address, gone.owner_email) == ("", "", "")
    assert (gone.number, gone.status, gone.address) == (
        case.number,
        CaseStatus.CLOSED,
        case.address,
    )
    rows = history_of(CodeCase, gone.pk)
    assert rows and all(
        (row["owner_name"], row["owner_mailing_address"], row["owner_email"]) == ("", "", "")
        for row in rows
    )


# --- Alerts ---------------------------------------------------------------------------------------


def test_an_unconfirmed_subscription_is_deleted_thirty_days_after_it_was_made():
    """Never confirmed: deleted thirty days after it was made."""
    start, end = period(days=30)
    unconfirmed = make_subscription(topic(), email="nina@example.com", confirmed=False)
    Subscription.objects.filter(pk=unconfirmed.pk).update(created_at=start)

    logs = run(end - DAY)
    assert done(logs[("alerts.subscription", "unconfirmed", "")]) == (0, 0)
    assert Subscription.objects.filter(pk=unconfirmed.pk).exists()

    logs = run(end + DAY)
    assert done(logs[("alerts.subscription", "unconfirmed", "")]) == (1, 0)
    assert not Subscription.objects.filter(pk=unconfirmed.pk).exists()


@pytest.mark.parametrize(
    "last, earlier",
    [
        ("email_unsubscribed_at", "sms_unsubscribed_at"),
        ("sms_unsubscribed_at", "email_unsubscribed_at"),
        ("created_at", None),
    ],
)
def test_a_cancelled_subscription_is_deleted_four_years_after_the_last_unsubscribe(last, earlier):
    """Cancelled (no email, no texts): deleted four years after the later of when it was made
    and its last unsubscribe."""
    start, end = period(years=4)
    cancelled = make_subscription(
        topic(), email="nina@example.com", phone="+14085550123", by_email=False, by_sms=False
    )
    moments = {"created_at": start - timedelta(days=400), last: start}
    if earlier:
        moments[earlier] = start - timedelta(days=100)
    Subscription.objects.filter(pk=cancelled.pk).update(**moments)

    logs = run(end - DAY)
    assert done(logs[("alerts.subscription", "cancelled", "")]) == (0, 0)
    assert Subscription.objects.filter(pk=cancelled.pk).exists()

    logs = run(end + DAY)
    assert done(logs[("alerts.subscription", "cancelled", "")]) == (1, 0)
    assert not Subscription.objects.filter(pk=cancelled.pk).exists()


def test_a_message_is_deleted_with_its_deliveries_two_years_after_it_was_sent(alice):
    """Messages: deleted, with their deliveries, two years after they were sent."""
    start, end = period(years=2)
    sent = message(alice, created_at=start)

    logs = run(end - DAY)
    assert done(logs[("alerts.notification", "", "")]) == (0, 0)
    assert Notification.objects.filter(pk=sent.pk).exists()

    logs = run(end + DAY)
    assert done(logs[("alerts.notification", "", "")]) == (1, 0)
    assert not Notification.objects.filter(pk=sent.pk).exists()
    assert not Delivery.objects.filter(notification_id=sent.pk).exists()


def test_a_delivery_address_is_anonymised_ninety_days_after_the_last_attempt(alice):
    """Deliveries: the address and the provider's error (which may quote it) go ninety days
    after the last attempt; the row stays for the statistics."""
    start, end = period(days=90)
    delivery = message(alice, delivery_status=DeliveryStatus.FAILED).deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        last_error="550 alice@example.com: no such mailbox", updated_at=start
    )

    logs = run(end - DAY)
    assert done(logs[("alerts.delivery", "", "")]) == (0, 0)
    kept = Delivery.objects.get(pk=delivery.pk)
    assert (kept.address, kept.last_error) == (
        "alice@example.com",
        "550 alice@example.com: no such mailbox",
    )

    logs = run(end + DAY)
    assert done(logs[("alerts.delivery", "", "")]) == (0, 1)
    gone = Delivery.objects.get(pk=delivery.pk)
    assert (gone.address, gone.last_error) == ("", "")
    assert (gone.channel, gone.status, gone.notification_id) == (
        Channel.EMAIL,
        DeliveryStatus.FAILED,
        delivery.notification_id,
    )


# --- The core's own records -----------------------------------------------------------------------


def _user_history(start):
    someone = person("carmen@example.com", "Carmen", "Cruz")
    User.history.filter(id=someone.pk).update(history_date=start)
    blanks = {
        "email": "",
        "username": "",
        "first_name": "",
        "last_name": "",
        "phone": "",
        "home_address": "",
    }
    return User, someone.pk, {"email": "carmen@example.com", "last_name": "Cruz"}, blanks


def _subscription_history(start):
    subscribed = make_subscription(topic(), email="carmen@example.com", phone="+14085550123")
    Subscription.history.filter(id=subscribed.pk).update(history_date=start)
    blanks = {"email": "", "phone": ""}
    return Subscription, subscribed.pk, {"email": "carmen@example.com"}, blanks


@pytest.mark.parametrize("build", [_user_history, _subscription_history])
def test_history_rows_are_anonymised_two_years_after_the_change(build):
    """History rows: kept two years after the change, then kept without the copies of
    personal data in them (the live record is another rule's business)."""
    start, end = period(years=2)
    model, pk, personal, blanks = build(start)
    count = model.history.filter(id=pk).count()

    run(end - DAY)
    rows = history_of(model, pk)
    assert rows and all(row[name] == value for row in rows for name, value in personal.items())

    logs = run(end + DAY)
    assert logs[("cityhall.history", "", "")].anonymised >= count
    rows = history_of(model, pk)
    assert len(rows) == count  # the audit trail stays
    assert all(row[name] == blank for row in rows for name, blank in blanks.items())
    # The live record is untouched.
    assert model.objects.get(pk=pk).email == "carmen@example.com"


def test_expired_sign_in_sessions_are_deleted():
    """Sessions: deleted once they have expired (a period of no days)."""
    start, end = period(days=0)
    Session.objects.create(session_key="k" * 32, session_data="e30=", expire_date=start)

    logs = run(end - DAY)
    assert done(logs[("cityhall.session", "", "")]) == (0, 0)
    assert Session.objects.filter(session_key="k" * 32).exists()

    logs = run(end + DAY)
    assert done(logs[("cityhall.session", "", "")]) == (1, 0)
    assert not Session.objects.filter(session_key="k" * 32).exists()


def test_staff_access_logs_are_deleted_three_years_after_the_access(alice):
    """Staff access logs: deleted three years after the access."""
    start, end = period(years=3)
    access = StaffAccess.objects.create(
        staff=factory_staff(Role.PERMIT_TECHNICIAN),
        what="profile",
        record=alice.email,
        path=f"/console/cityhall/user/{alice.pk}/change/",
        at=start,
    )

    logs = run(end - DAY)
    assert done(logs[("cityhall.staffaccess", "", "")]) == (0, 0)
    assert StaffAccess.objects.filter(pk=access.pk).exists()

    logs = run(end + DAY)
    assert done(logs[("cityhall.staffaccess", "", "")]) == (1, 0)
    assert not StaffAccess.objects.filter(pk=access.pk).exists()


# --- Records still in use -------------------------------------------------------------------------


def test_active_records_are_never_touched_however_old(alice):
    """A submitted application, an open report, an open case, a confirmed subscription and a
    message still being sent are not disposed of fifty years on."""
    long_ago, now = period(years=50)
    submitted = application(alice, status=Status.SUBMITTED, updated_at=long_ago)
    open_report = make_request(reporter=alice, contact_email="alice@example.com")
    ServiceRequest.objects.filter(pk=open_report.pk).update(
        created_at=long_ago, updated_at=long_ago
    )
    open_case = make_case(make_request(address="12 Elm Street"), owner_name="Olga Owner")
    subscribed = make_subscription(topic(), email="nina@example.com")
    Subscription.objects.filter(pk=subscribed.pk).update(created_at=long_ago)
    sending = message(alice, created_at=long_ago, delivery_status=DeliveryStatus.PENDING)
    Delivery.objects.filter(notification=sending).update(updated_at=long_ago)

    run(now + DAY)

    kept = Application.objects.get(pk=submitted.pk)
    assert (kept.applicant_id, kept.applicant_name, kept.status) == (
        alice.pk,
        "Alice Adams",
        Status.SUBMITTED,
    )
    assert Document.objects.filter(application=kept).exists()
    report = ServiceRequest.objects.get(pk=open_report.pk)
    assert (report.reporter_id, report.contact_email) == (alice.pk, "alice@example.com")
    assert CodeCase.objects.get(pk=open_case.pk).owner_name == "Olga Owner"
    assert Subscription.objects.get(pk=subscribed.pk).email == "nina@example.com"
    assert Notification.objects.filter(pk=sending.pk).exists()
    assert Delivery.objects.get(notification=sending).address == "alice@example.com"


# --- A more specific rule wins --------------------------------------------------------------------


def test_a_rule_for_one_permit_type_wins_over_the_status_rule(alice):
    """Refused fence permits deleted after a year, next to the default (anonymise after two):
    the fence application goes at one year, the building one stays until two."""
    fence_type = make_permit_type("FEN")
    RetentionRule.objects.create(
        record_type="permits.application",
        status="refused",
        kind="FEN",
        period=1,
        unit="years",
        action="delete",
        reason="Fences: a year is enough.",
    )
    start, _end = period(years=2)
    fence = application(alice, permit_type=fence_type, status=Status.DENIED, updated_at=start)
    fence_file = Document.objects.get(application=fence).file.path
    building = application(alice, status=Status.DENIED, updated_at=start)

    logs = run(period_end(start, years=1) + DAY)
    assert done(logs[("permits.application", "refused", "FEN")]) == (1, 0)
    assert done(logs[("permits.application", "refused", "")]) == (0, 0)
    assert not Application.objects.filter(pk=fence.pk).exists()
    assert not os.path.exists(fence_file)
    assert Application.objects.get(pk=building.pk).applicant_name == "Alice Adams"

    logs = run(period_end(start, years=2) + DAY)
    assert done(logs[("permits.application", "refused", "")]) == (0, 1)
    assert Application.objects.get(pk=building.pk).applicant_name == ""


def test_a_rule_for_one_report_category_wins_over_the_rule_for_all(alice):
    """Graffiti reports deleted after a year, next to the default (anonymise after two)."""
    graffiti = make_category("graffiti")
    pothole = make_category("pothole")
    RetentionRule.objects.create(
        record_type="code_enforcement.servicerequest",
        kind="graffiti",
        period=1,
        unit="years",
        action="delete",
        reason="Graffiti reports: a year is enough.",
    )
    start, _end = period(years=2)
    tagged = closed_request(category=graffiti, reporter=alice, closed_at=start)
    tagged_photo = RequestPhoto.objects.get(request=tagged).image.path
    hole = closed_request(category=pothole, reporter=alice, closed_at=start)

    logs = run(period_end(start, years=1) + DAY)
    assert done(logs[("code_enforcement.servicerequest", "", "graffiti")]) == (1, 0)
    assert done(logs[("code_enforcement.servicerequest", "", "")]) == (0, 0)
    assert not ServiceRequest.objects.filter(pk=tagged.pk).exists()
    assert not os.path.exists(tagged_photo)
    assert ServiceRequest.objects.get(pk=hole.pk).contact_email == "alice@example.com"

    logs = run(period_end(start, years=2) + DAY)
    assert done(logs[("code_enforcement.servicerequest", "", "")]) == (0, 1)
    assert ServiceRequest.objects.get(pk=hole.pk).contact_email == ""


def test_a_rule_for_one_permit_type_shortens_the_documents_kept_permanently(alice):
    """Fence documents deleted (files too) three years after their closed application's last
    change; the building documents stay under the default, kept permanently."""
    fence_type = make_permit_type("FEN")
    RetentionRule.objects.create(
        record_type="permits.document",
        kind="FEN",
        period=3,
        unit="years",
        action="delete",
        reason="Fence plans: three years is enough.",
    )
    start, end = period(years=3)
    fence = application(alice, permit_type=fence_type, status=Status.DENIED, updated_at=start)
    fence_document = Document.objects.get(application=fence)
    building = application(alice, status=Status.DENIED, updated_at=start)
    building_document = Document.objects.get(application=building)

    logs = run(end - DAY)
    assert done(logs[("permits.document", "", "FEN")]) == (0, 0)
    assert os.path.exists(fence_document.file.path)

    logs = run(end + DAY)
    assert done(logs[("permits.document", "", "FEN")]) == (1, 0)
    assert not Document.objects.filter(pk=fence_document.pk).exists()
    assert not os.path.exists(fence_document.file.path)
    assert Application.objects.filter(pk=fence.pk).exists()  # anonymised, not deleted
    assert Document.objects.filter(pk=building_document.pk).exists()
    assert os.path.exists(building_document.file.path)


def test_deleting_an_application_with_a_ledger_payment_anonymises_it_instead(alice):
    """A refused application with a payment on its fee ledger is a financial record: a delete
    rule anonymises it instead; one without is deleted."""
    RetentionRule.objects.filter(record_type="permits.application", status="refused").update(
        action="delete"
    )
    start, end = period(years=2)
    paid = application(alice, status=Status.IN_REVIEW)
    Payment.objects.create(
        application=paid,
        amount=Decimal("100.00"),
        method=PaymentMethod.CASH,
        reference="R-77",
        recorded_by=factory_staff(Role.PERMIT_TECHNICIAN),
    )
    paid = permit_services.application_deny(
        application=paid, actor=factory_staff(Role.PLAN_REVIEWER), reason="Flood zone."
    )
    unpaid = application(alice, status=Status.DENIED)
    Application.objects.filter(pk__in=[paid.pk, unpaid.pk]).update(updated_at=start)

    logs = run(end + DAY)

    assert done(logs[("permits.application", "refused", "")]) == (1, 1)
    assert not Application.objects.filter(pk=unpaid.pk).exists()
    kept = Application.objects.get(pk=paid.pk)
    assert (kept.applicant_id, kept.applicant_name, kept.applicant_phone, kept.answers) == (
        anonymised_person().pk,
        "",
        "",
        {},
    )
    assert Payment.objects.filter(application=kept, reference="R-77").exists()


# --- Runs -----------------------------------------------------------------------------------------


def world(start):
    """One record past its period under each default rule that disposes, all of Rosa's."""
    rosa = person("rosa@example.com")
    draft = application(rosa, updated_at=start)
    refused = application(rosa, status=Status.DENIED, updated_at=start)
    report = closed_request(reporter=rosa, closed_at=start)
    case = closed_case(
        closed_at=start,
        owner_name="Rosa Reyes",
        owner_email="rosa@example.com",
        owner_mailing_address="77 Willow Lane",
    )
    unconfirmed = make_subscription(topic(), email="rosa.alerts@example.com", confirmed=False)
    Subscription.objects.filter(pk=unconfirmed.pk).update(created_at=start)
    sent = message(rosa, created_at=start)
    StaffAccess.objects.create(what="profile", record=rosa.email, path="/console/", at=start)
    return {
        "person": rosa,
        "draft": draft,
        "refused": refused,
        "report": report,
        "case": case,
        "subscription": unconfirmed,
        "message": sent,
    }


PERSONAL = [
    "rosa@example.com",
    "rosa.alerts@example.com",
    "Rosa",
    "Reyes",
    "555-0142",
    "5550142",
    "77 Willow Lane",
]


def test_a_second_run_disposes_of_nothing():
    """Idempotent: a second run at the same moment finds nothing left to do, and logs zeros."""
    start, end = period(years=5)
    records = world(start)
    now = end + DAY

    first = run(now)
    assert sum(log.deleted + log.anonymised for log in first.values()) >= 7
    assert not Application.objects.filter(pk=records["draft"].pk).exists()
    refused = Application.objects.get(pk=records["refused"].pk)
    case = CodeCase.objects.get(pk=records["case"].pk)

    second = run(now)

    assert set(second) == set(first)
    assert {key: done(log) for key, log in second.items()} == dict.fromkeys(second, (0, 0))
    assert all(log.batches == 0 and log.finished_at is not None for log in second.values())
    assert Application.objects.get(pk=refused.pk).updated_at == refused.updated_at
    assert CodeCase.objects.get(pk=case.pk).owner_name == ""
    assert DisposalLog.objects.count() == 2 * len(first)


def _unconfirmed(count: int, start) -> list[int]:
    pks = [
        make_subscription(topic(), email=f"nina{n}@example.com", confirmed=False).pk
        for n in range(count)
    ]
    Subscription.objects.filter(pk__in=pks).update(created_at=start)
    return sorted(pks)


def test_a_run_goes_in_batches():
    """Five records in batches of two: three batches, all five disposed of."""
    start, end = period(days=30)
    pks = _unconfirmed(5, start)

    logs = run(end + DAY, batch_size=2)

    log = logs[("alerts.subscription", "unconfirmed", "")]
    assert (log.deleted, log.anonymised, log.batches) == (5, 0, 3)
    assert log.finished_at is not None
    assert not Subscription.objects.filter(pk__in=pks).exists()


def test_a_crash_half_way_leaves_whole_batches_done_and_the_next_run_finishes(monkeypatch):
    """The worker dies in the second batch: the first batch stays done and logged, nothing of
    the second is half-done, and the next run disposes of the rest."""
    start, end = period(days=30)
    pks = _unconfirmed(5, start)
    now = end + DAY
    record_type = registry.RECORD_TYPES["alerts.subscription"]
    real_dispose = record_type.dispose
    calls = []

    def dies_in_the_second_batch(rows, action):
        calls.append(sorted(rows.values_list("pk", flat=True)))
        counts = real_dispose(rows, action)  # the batch is half-way through ...
        if len(calls) == 2:
            raise RuntimeError("worker lost")  # ... when the worker dies
        return counts

    monkeypatch.setattr(record_type, "dispose", dies_in_the_second_batch)
    services.dispose(now=now, batch_size=2)  # the other rules still run

    assert calls == [pks[:2], pks[2:4]]
    assert sorted(Subscription.objects.filter(pk__in=pks).values_list("pk", flat=True)) == pks[2:]
    log = DisposalLog.objects.get(record_type="alerts.subscription", rule__status="unconfirmed")
    assert (log.deleted, log.anonymised, log.batches, log.finished_at) == (2, 0, 1, None)
    assert log.note == "Failed: RuntimeError. The next run tries again."
    assert DisposalLog.objects.exclude(pk=log.pk).filter(finished_at__isnull=True).count() == 0

    monkeypatch.undo()
    logs = run(now, batch_size=2)

    log = logs[("alerts.subscription", "unconfirmed", "")]
    assert (log.deleted, log.batches) == (3, 2)
    assert not Subscription.objects.filter(pk__in=pks).exists()


def test_the_disposal_log_keeps_no_personal_data():
    """The log says what was done under which rule, in counts: nothing of the people whose
    records went."""
    start, end = period(years=5)
    world(start)

    logs = run(end + DAY)

    assert sum(log.deleted + log.anonymised for log in logs.values()) >= 7
    for log in DisposalLog.objects.all():
        text = " ".join(
            str(getattr(log, field.attname)) for field in DisposalLog._meta.concrete_fields
        )
        for personal in PERSONAL:
            assert personal.lower() not in text.lower(), (personal, text)


def test_disposal_seals_the_kpi_rollups_before_it_disposes():
    """Before any record goes, the roll-ups are sealed through the latest day a delete rule
    feeding the KPIs can reach (drafts, a year; anonymising changes no count and seals
    nothing); sealed days are never computed again."""
    start, end = period(years=2)
    records = world(start)
    now = end + DAY
    seen = []

    def spy(day):
        seen.append((day, Application.objects.filter(pk=records["draft"].pk).exists()))

    registry.BEFORE_DISPOSAL.append(spy)
    try:
        run(now)
    finally:
        registry.BEFORE_DISPOSAL.remove(spy)

    drafts = RetentionRule.objects.get(record_type="permits.application", status="draft")
    sealed = timezone.localdate(drafts.cutoff(now))
    assert rollups.sealed_through() == sealed
    assert seen == [(sealed, True)]  # called while the records were all still there
    assert not Application.objects.filter(pk=records["draft"].pk).exists()

    kept = DailyRollup.objects.create(metric="requests_received", day=sealed, numerator=7)
    assert rollups.rollup_days(start=sealed - timedelta(days=30), end=sealed) == 0
    rollups.rollup_days(start=sealed - timedelta(days=3), end=sealed + DAY)
    assert DailyRollup.objects.get(pk=kept.pk).numerator == 7

    # A later run seals further; an earlier one never unseals.
    run(now + timedelta(days=3))
    assert rollups.sealed_through() == sealed + timedelta(days=3)
    run(now - timedelta(days=30))
    assert rollups.sealed_through() == sealed + timedelta(days=3)
