"""Legal holds: a hold on one record, on an address or on a person stops the disposal of
exactly what it covers (everything else past its period goes), until it is released; a person
under a hold cannot delete their account; the console places holds only on records that exist,
and only for staff allowed to."""

from __future__ import annotations

import pytest

from alerts.models import Delivery, Notification, Subscription
from alerts.tests.factories import make_subscription
from cityhall.models import StaffAccess, User, anonymised_person
from cityhall.records import services
from cityhall.records.models import HoldKind, LegalHold
from cityhall.roles import Role
from code_enforcement.models import CodeCase, RequestPhoto, ServiceRequest
from permits.constants import Status
from permits.models import Application, Document
from portal import services as portal_services
from tests.personas import PASSWORD, make_staff, signed_in_client, verified_client

from .test_disposal import (
    DAY,
    application,
    closed_case,
    closed_request,
    message,
    period,
    person,
    run,
    topic,
)

pytestmark = pytest.mark.django_db

ADD = "/console/records/legalhold/add/"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files go to a scratch directory, never to the checkout's .data/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def records_manager() -> User:
    email = "records.manager@riverbend.example"
    return User.objects.filter(email=email).first() or make_staff(Role.MANAGER, email)


def hold(kind: str, **fields) -> LegalHold:
    fields.setdefault("reason", "Reyes v. City of Riverbend, case 26-CV-0117")
    return LegalHold.objects.create(kind=kind, placed_by=records_manager(), **fields)


def release(placed: LegalHold) -> None:
    services.hold_release(placed, by=placed.placed_by, reason="The case settled.")


# --- What stays whole, what goes -------------------------------------------------------------------


def application_whole(pk) -> bool:
    row = Application.objects.filter(pk=pk).first()
    return (
        row is not None and row.applicant_name != "" and row.applicant_id != anonymised_person().pk
    )


def application_anonymised(pk) -> bool:
    row = Application.objects.get(pk=pk)
    return row.applicant_id == anonymised_person().pk and row.applicant_name == ""


def report_whole(pk) -> bool:
    row = ServiceRequest.objects.get(pk=pk)
    return row.contact_email != "" and RequestPhoto.objects.filter(request_id=pk).exists()


def report_anonymised(pk) -> bool:
    row = ServiceRequest.objects.get(pk=pk)
    photos = RequestPhoto.objects.filter(request_id=pk).exists()
    return (row.reporter_id, row.contact_email, row.contact_name, photos) == (None, "", "", False)


def case_whole(pk) -> bool:
    return CodeCase.objects.get(pk=pk).owner_email != ""


def case_anonymised(pk) -> bool:
    row = CodeCase.objects.get(pk=pk)
    return (row.owner_name, row.owner_email, row.owner_mailing_address) == ("", "", "")


# --- A hold on one record --------------------------------------------------------------------------


def _permits(start, held_address, other_address):
    rosa = person("rosa@example.com")
    held = application(rosa, status=Status.DENIED, updated_at=start, address=held_address)
    other = application(rosa, status=Status.DENIED, updated_at=start, address=other_address)
    return held.pk, other.pk, application_whole, application_anonymised


def _reports(start, held_address, other_address):
    rosa = person("rosa@example.com")
    held = closed_request(reporter=rosa, closed_at=start, address=held_address)
    other = closed_request(reporter=rosa, closed_at=start, address=other_address)
    return held.pk, other.pk, report_whole, report_anonymised


def _cases(start, held_address, other_address):
    held = closed_case(closed_at=start, address=held_address)
    other = closed_case(closed_at=start, address=other_address)
    return held.pk, other.pk, case_whole, case_anonymised


RECORD_HOLDS = [
    ("permits.application", _permits, lambda pk: Application.objects.get(pk=pk).number),
    (
        "code_enforcement.servicerequest",
        _reports,
        lambda pk: ServiceRequest.objects.get(pk=pk).public_id,
    ),
    ("code_enforcement.codecase", _cases, lambda pk: CodeCase.objects.get(pk=pk).number),
]


@pytest.mark.parametrize(
    "record_type, build, number", RECORD_HOLDS, ids=["permit", "report", "case"]
)
def test_a_hold_on_one_record_stops_its_disposal_until_released(record_type, build, number):
    """The held record stays whole past its period while its twin is disposed of; once the
    hold is released, the next run disposes of it too."""
    start, end = period(years=5)
    held, other, whole, disposed = build(start, "5 Birch Court", "9 Cedar Lane")
    placed = hold(HoldKind.RECORD, record_type=record_type, reference=number(held).lower())

    run(end + DAY)

    assert whole(held)
    assert disposed(other)

    release(placed)
    run(end + DAY)

    assert disposed(held)


def test_a_hold_on_a_case_keeps_the_reports_that_led_to_it():
    """A case under a hold keeps its reports whole too (the complaint is part of the file)."""
    start, end = period(years=5)
    case = closed_case(closed_at=start)
    report = case.requests.get()
    ServiceRequest.objects.filter(pk=report.pk).update(
        closed_at=start, contact_email="neighbour@example.com"
    )
    other_case = closed_case(closed_at=start)
    other_report = other_case.requests.get()
    ServiceRequest.objects.filter(pk=other_report.pk).update(
        closed_at=start, contact_email="neighbour@example.com"
    )
    hold(HoldKind.RECORD, record_type="code_enforcement.codecase", reference=case.number)

    run(end + DAY)

    assert ServiceRequest.objects.get(pk=report.pk).contact_email == "neighbour@example.com"
    assert ServiceRequest.objects.get(pk=other_report.pk).contact_email == ""


# --- A hold on an address --------------------------------------------------------------------------


def test_a_hold_on_an_address_stops_disposal_of_everything_about_it_however_typed():
    """A hold on "120 oak st" keeps the application at "120 Oak Street", the report at
    "120 OAK STREET, Unit 4" and the case at "120 Oak Street"; the same records at
    "1200 Oak Street" and "12 Elm Street" are disposed of."""
    start, end = period(years=5)
    rosa = person("rosa@example.com")
    held_application = application(
        rosa, status=Status.DENIED, updated_at=start, address="120 Oak Street"
    )
    other_application = application(
        rosa, status=Status.DENIED, updated_at=start, address="1200 Oak Street"
    )
    held_report = closed_request(reporter=rosa, closed_at=start, address="120 OAK STREET, Unit 4")
    other_report = closed_request(reporter=rosa, closed_at=start, address="12 Elm Street")
    held_case = closed_case(closed_at=start, address="120 Oak Street")
    other_case = closed_case(closed_at=start, address="1200 Oak Street")
    placed = hold(HoldKind.ADDRESS, address="120 oak st")

    run(end + DAY)

    assert application_whole(held_application.pk)
    assert report_whole(held_report.pk)
    assert case_whole(held_case.pk)
    assert application_anonymised(other_application.pk)
    assert report_anonymised(other_report.pk)
    assert case_anonymised(other_case.pk)

    release(placed)
    run(end + DAY)

    assert application_anonymised(held_application.pk)
    assert report_anonymised(held_report.pk)
    assert case_anonymised(held_case.pk)


# --- A hold on a person ----------------------------------------------------------------------------


def _persons_records(email: str, start):
    """Everything of one person past its period: a draft, an application, a report from their account
    and one sent without it, their cancelled subscription, a subscription made with their email
    and never confirmed, a message with its delivery, their account's history rows and a log
    of staff looking at their profile."""
    someone = person(email, first_name=email.split("@")[0].title())
    draft = application(someone, updated_at=start)
    refused = application(someone, status=Status.DENIED, updated_at=start)
    report = closed_request(reporter=someone, closed_at=start)
    anonymous = closed_request(contact_email=email, contact_name="R.", closed_at=start)
    cancelled = make_subscription(topic(), user=someone, by_email=False, by_sms=False)
    unconfirmed = make_subscription(topic(), email=email, confirmed=False)
    Subscription.objects.filter(pk__in=[cancelled.pk, unconfirmed.pk]).update(created_at=start)
    sent = message(someone, created_at=start)
    Delivery.objects.filter(notification=sent).update(updated_at=start)
    User.history.filter(id=someone.pk).update(history_date=start)
    seen = StaffAccess.objects.create(what="profile", record=email, path="/console/", at=start)
    return {
        "person": someone,
        "draft": draft.pk,
        "access log": seen.pk,
        "application": refused.pk,
        "report": report.pk,
        "anonymous report": anonymous.pk,
        "subscription": cancelled.pk,
        "unconfirmed": unconfirmed.pk,
        "message": sent.pk,
    }


def _whole(records: dict) -> dict[str, bool]:
    someone = records["person"]
    return {
        "draft": Application.objects.filter(pk=records["draft"]).exists(),
        "application": application_whole(records["application"]),
        "report": report_whole(records["report"]),
        "anonymous report": ServiceRequest.objects.get(pk=records["anonymous report"]).contact_email
        != "",
        "subscription": Subscription.objects.filter(pk=records["subscription"]).exists(),
        "unconfirmed": Subscription.objects.filter(pk=records["unconfirmed"]).exists(),
        "message": Notification.objects.filter(pk=records["message"]).exists(),
        "delivery address": Delivery.objects.filter(
            notification_id=records["message"], address=someone.email
        ).exists(),
        "account history": User.history.filter(id=someone.pk, email=someone.email).exists(),
        "access log": StaffAccess.objects.filter(pk=records["access log"]).exists(),
    }


def test_a_hold_on_a_person_stops_disposal_of_everything_of_theirs():
    """A hold on Rosa (by email, as staff typed it) keeps her draft, application, reports,
    subscriptions, messages, account history and access logs past their periods; Omar's same records go. Released, hers
    go at the next run."""
    start, end = period(years=5)
    rosa = _persons_records("rosa@example.com", start)
    omar = _persons_records("omar@example.com", start)
    placed = hold(HoldKind.PERSON, person_email="Rosa@Example.com")

    run(end + DAY)

    held, gone = _whole(rosa), _whole(omar)
    assert held == dict.fromkeys(held, True)
    assert gone == dict.fromkeys(gone, False)

    release(placed)
    run(end + DAY)

    released = _whole(rosa)
    assert released == dict.fromkeys(released, False)


def test_a_hold_on_a_person_covers_their_reports_however_they_typed_their_email():
    """A report sent without an account as "Rosa@Example.com" is Rosa's: a hold on
    rosa@example.com keeps it whole."""
    start, end = period(years=5)
    report = closed_request(contact_email="Rosa@Example.com", contact_name="R.", closed_at=start)
    hold(HoldKind.PERSON, person_email="rosa@example.com")

    run(end + DAY)

    assert ServiceRequest.objects.get(pk=report.pk).contact_email == "Rosa@Example.com"
    assert RequestPhoto.objects.filter(request_id=report.pk).exists()


# --- Delete my account -----------------------------------------------------------------------------


def test_a_person_under_a_hold_cannot_delete_their_account():
    """Delete my account, password and tick given, is refused (409) under a hold on the
    person; nothing of theirs changes; the service refuses too. Released, it works again."""
    rosa = person("rosa@example.com")
    draft = application(rosa)
    subscription = make_subscription(topic(), user=rosa)
    placed = hold(HoldKind.PERSON, person_email="ROSA@example.com")
    client = signed_in_client(rosa)

    response = client.post("/me/delete/", {"password": PASSWORD, "understood": "on"})

    assert response.status_code == 409
    assert "cannot be deleted online" in response.content.decode()
    kept = User.objects.get(pk=rosa.pk)
    assert (kept.is_active, kept.email, kept.first_name) == (True, "rosa@example.com", "Rosa")
    assert kept.has_usable_password()
    assert Application.objects.filter(pk=draft.pk).exists()
    assert Document.objects.filter(application_id=draft.pk).exists()
    assert Subscription.objects.filter(pk=subscription.pk).exists()
    assert client.get("/me/").status_code == 200  # still signed in
    with pytest.raises(ValueError, match="legal hold"):
        portal_services.account_delete(user=rosa)
    assert User.objects.get(pk=rosa.pk).is_active

    release(placed)
    response = client.post("/me/delete/", {"password": PASSWORD, "understood": "on"})
    assert response.status_code == 302
    assert not User.objects.get(pk=rosa.pk).is_active


def test_a_released_or_other_persons_hold_does_not_stop_account_deletion():
    """Only an active hold on this very person stops Delete my account."""
    rosa = person("rosa@example.com")
    hold(HoldKind.PERSON, person_email="omar@example.com")
    release(hold(HoldKind.PERSON, person_email="rosa@example.com"))
    hold(HoldKind.ADDRESS, address="120 Oak Street")

    portal_services.account_delete(user=rosa)

    assert not User.objects.get(pk=rosa.pk).is_active


# --- The console -----------------------------------------------------------------------------------


def _record_hold(number: str) -> dict:
    return {
        "kind": HoldKind.RECORD,
        "record_type": "permits.application",
        "reference": number,
        "address": "",
        "person_email": "",
        "reason": "Public-records request PRR-2026-14",
    }


def test_the_console_refuses_a_hold_on_a_record_number_that_does_not_exist():
    """A hold is placed on a record that exists: a mistyped number is refused, not stored."""
    manager = verified_client(make_staff(Role.MANAGER))

    response = manager.post(ADD, _record_hold("bld-1999-000001"))

    assert response.status_code == 200
    assert "No permit number has the number BLD-1999-000001." in response.content.decode()
    assert not LegalHold.objects.exists()


def test_a_manager_places_a_hold_on_a_permit_from_the_console():
    """A manager (records.place_legal_hold) places a hold; it is stored with the number as
    the city writes it and who placed it."""
    rosa = person("rosa@example.com")
    refused = application(rosa, status=Status.DENIED)
    staff_member = make_staff(Role.MANAGER)
    assert staff_member.has_perm("records.place_legal_hold")

    response = verified_client(staff_member).post(ADD, _record_hold(refused.number.lower()))

    assert response.status_code == 302
    placed = LegalHold.objects.get()
    assert (placed.kind, placed.record_type, placed.reference) == (
        HoldKind.RECORD,
        "permits.application",
        refused.number,
    )
    assert (placed.placed_by, placed.released_at) == (staff_member, None)
    assert placed.address == placed.person_email == ""


def test_a_permit_technician_cannot_place_a_hold():
    """Without records.place_legal_hold the add page and its form are forbidden."""
    rosa = person("rosa@example.com")
    refused = application(rosa, status=Status.DENIED)
    technician_user = make_staff(Role.PERMIT_TECHNICIAN)
    assert not technician_user.has_perm("records.place_legal_hold")
    technician = verified_client(technician_user)

    assert technician.get(ADD).status_code == 403
    assert technician.post(ADD, _record_hold(refused.number)).status_code == 403
    assert not LegalHold.objects.exists()


def test_releasing_a_hold_records_who_why_and_when_once():
    """hold_release stamps the release once; a second release changes nothing."""
    placed = hold(HoldKind.ADDRESS, address="120 Oak Street")
    manager = placed.placed_by

    released = services.hold_release(placed, by=manager, reason="Audit finished.")
    again = services.hold_release(placed, by=make_staff(Role.CITY_ADMINISTRATOR), reason="x")

    assert (released.released_by, released.release_reason) == (manager, "Audit finished.")
    assert released.released_at is not None and not released.is_active
    assert (again.released_by, again.release_reason, again.released_at) == (
        manager,
        "Audit finished.",
        released.released_at,
    )
    assert not LegalHold.objects.active().exists()
    assert not services.active_holds()
