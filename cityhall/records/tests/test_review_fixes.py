"""The fixes made to records retention after a review (commit c7fbe7b): periods of nothing,
rules without a fallback, failing and cut-short runs, the KPI seal, what anonymising and
deleting remove, idempotent delete rules, exports by the whole street, holds and Delete my
account, history pages that cannot revert, and the disposal log's notes."""

from __future__ import annotations

import io
import json
import os
import re
import time
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone

from alerts.models import Subscription
from alerts.tests.factories import make_subscription
from cityhall.constants import EventKind
from cityhall.models import User, anonymised_person
from cityhall.payments.models import Payment as OnlinePayment
from cityhall.records import export, registry, services
from cityhall.records.models import DisposalLog, HoldKind, LegalHold, RetentionRule
from cityhall.records.tests.test_console import _form, _rule
from cityhall.roles import Role
from code_enforcement.models import (
    CaseInspection,
    CodeCase,
    FinePayment,
    Follower,
    RequestEvent,
    RequestPhoto,
    ServiceRequest,
    Violation,
)
from code_enforcement.tests.factories import (
    jpeg_bytes,
    make_case,
    make_category,
    make_request,
    make_violation_type,
)
from kpis import rollups
from permits import services as permit_services
from permits.constants import PaymentMethod, Status
from permits.models import Application, Document, InfoRequest, Payment, TimelineEvent
from permits.tests.factories import factory_staff, make_application
from tests.personas import PASSWORD, make_staff, signed_in_client, verified_client

from .test_disposal import (
    DAY,
    application,
    closed_case,
    closed_request,
    done,
    period,
    person,
    run,
    topic,
    world,
)

pytestmark = pytest.mark.django_db

RULES = "/console/records/retentionrule/"
LOG = "/console/records/disposallog/"
HOLDS = "/console/records/legalhold/"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files go to a scratch directory, never to the checkout's .data/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def administrator(db):
    return make_staff(Role.CITY_ADMINISTRATOR, "admin.review@riverbend.example")


@pytest.fixture
def admin_client(administrator):
    return verified_client(administrator)


def _text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    return text.replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")


# --- 1. A period of nothing -----------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["days", "months", "years"])
@pytest.mark.parametrize(
    "record_type, action",
    [("alerts.notification", "delete"), ("code_enforcement.servicerequest", "anonymise")],
)
def test_a_period_of_nothing_in_any_unit_is_refused(record_type, action, unit):
    """A delete or anonymise rule kept for 0 days, months or years fails full_clean on period."""
    rule = _rule(record_type)
    rule.period, rule.unit, rule.action = 0, unit, action
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert "period" in error.value.message_dict


def test_sessions_may_be_kept_for_no_days_and_keep_rules_for_nothing():
    """Expired sessions may go at once (0 days), and a keep rule's period of 0 is fine."""
    _rule("cityhall.session").full_clean()
    kept = _rule("permits.document")
    assert (kept.period, kept.unit, kept.action) == (0, "years", "keep")
    kept.full_clean()


def test_the_console_refuses_turning_a_kept_rule_to_delete_with_period_zero(admin_client):
    """Changing "Application documents" from keep to delete, period left at 0: 200, error."""
    rule = _rule("permits.document")
    before = (rule.period, rule.unit, rule.action, rule.history.count())

    response = admin_client.post(f"{RULES}{rule.pk}/change/", _form(rule, action="delete"))

    assert response.status_code == 200
    assert "Keep records for at least one day." in _text(response)
    assert response.context["adminform"].form.errors
    rule.refresh_from_db()
    assert (rule.period, rule.unit, rule.action, rule.history.count()) == before


# --- 2. Rules without a fallback, and a rule that fails --------------------------------------------


def test_a_kind_only_rule_without_a_catch_all_disposes_of_its_kind_only(alice):
    """No rule for all photos, one for graffiti: graffiti photos go, pothole photos stay."""
    graffiti, pothole = make_category("graffiti"), make_category("pothole")
    _rule("code_enforcement.requestphoto").delete()
    mine = RetentionRule.objects.create(
        record_type="code_enforcement.requestphoto",
        kind="graffiti",
        period=1,
        unit="years",
        action="delete",
        reason="Graffiti photos: a year.",
    )
    rules = list(RetentionRule.objects.filter(record_type="code_enforcement.requestphoto"))
    assert services.governed(mine, rules) == [("", ["graffiti"])]
    start, end = period(years=2)
    tagged = closed_request(category=graffiti, reporter=alice, closed_at=start)
    tagged_photo = RequestPhoto.objects.get(request=tagged)
    tagged_path = tagged_photo.image.path
    hole = closed_request(category=pothole, reporter=alice, closed_at=start)
    hole_photo = RequestPhoto.objects.get(request=hole)

    logs = run(end + DAY)

    log = logs[("code_enforcement.requestphoto", "", "graffiti")]
    assert done(log) == (1, 0) and log.finished_at is not None and log.note == ""
    assert not RequestPhoto.objects.filter(pk=tagged_photo.pk).exists()
    assert not os.path.exists(tagged_path)
    assert RequestPhoto.objects.filter(pk=hole_photo.pk).exists()
    assert os.path.exists(hole_photo.image.path)


def test_a_rule_that_fails_is_logged_and_the_others_still_run(monkeypatch):
    """A record type whose dispose raises: its log says "Failed: …", unfinished; the rest finish."""
    start, end = period(years=5)
    records = world(start)
    unconfirmed = records["subscription"]

    def broken(rows, action):
        raise RuntimeError("the database said no")

    monkeypatch.setattr(registry.RECORD_TYPES["alerts.subscription"], "dispose", broken)
    logs = run(end + DAY)

    failed = logs[("alerts.subscription", "unconfirmed", "")]
    assert failed.note.startswith("Failed:")
    assert "RuntimeError" in failed.note
    assert failed.finished_at is None
    assert Subscription.objects.filter(pk=unconfirmed.pk).exists()
    others = [log for key, log in logs.items() if key != ("alerts.subscription", "unconfirmed", "")]
    assert others and all(log.finished_at is not None and log.note == "" for log in others)
    assert done(logs[("permits.application", "draft", "")]) == (1, 0)
    assert not Application.objects.filter(pk=records["draft"].pk).exists()


# --- 3. A run cut short, and the order of the rules ----------------------------------------------


def test_a_run_out_of_time_says_so_disposes_of_nothing_and_the_next_run_goes_on():
    """stop_at already past: every non-keep rule logs "Stopped part-way…", nothing goes."""
    start, end = period(years=5)
    records = world(start)
    now = end + DAY

    logs = services.dispose(now=now, stop_at=time.monotonic() - 1)

    active = RetentionRule.objects.exclude(action="keep")
    assert {log.rule_id for log in logs} == set(active.values_list("pk", flat=True))
    for log in logs:
        assert log.note.startswith("Stopped part-way"), (log.rule_text, log.note)
        assert log.finished_at is None
        assert (log.deleted, log.anonymised, log.batches) == (0, 0, 0)
    assert Application.objects.filter(pk=records["draft"].pk).exists()
    assert Application.objects.get(pk=records["refused"].pk).applicant_name == "Rosa Reyes"
    assert Subscription.objects.filter(pk=records["subscription"].pk).exists()

    logs = run(now)

    assert all(log.finished_at is not None and log.note == "" for log in logs.values())
    assert done(logs[("permits.application", "draft", "")]) == (1, 0)
    assert not Application.objects.filter(pk=records["draft"].pk).exists()
    assert Application.objects.get(pk=records["refused"].pk).applicant_name == ""
    assert not Subscription.objects.filter(pk=records["subscription"].pk).exists()


def test_the_rule_that_waited_longest_goes_first(alice):
    """Rules never finished go first, then the one whose last finished run is oldest."""
    now = period(years=1)[1]
    run(now)  # every rule finishes once
    stale = _rule("alerts.delivery")
    DisposalLog.objects.filter(rule=stale).update(finished_at=timezone.now() - timedelta(days=30))
    make_application(alice)  # the "BLD" permit type
    fresh = RetentionRule.objects.create(
        record_type="permits.application",
        status="draft",
        kind="BLD",
        period=2,
        unit="years",
        action="delete",
        reason="Building drafts: two years.",
    )
    # (a run cut short finishes nothing: it does not count as a run)
    services.dispose(now=now, stop_at=time.monotonic() - 1)

    logs = services.dispose(now=now, stop_at=time.monotonic() - 1)

    order = [log.rule_id for log in logs]
    assert order[:2] == [fresh.pk, stale.pk]
    assert len(order) == RetentionRule.objects.exclude(action="keep").count()


# --- 4. Only delete rules seal the roll-ups --------------------------------------------------------


def test_only_delete_rules_seal_the_kpi_rollups():
    """Anonymise rules alone leave roll-ups unsealed; a delete rule seals at its cutoff day."""
    start, end = period(years=5)
    world(start)
    now = end + DAY
    RetentionRule.objects.filter(action="delete").update(action="keep")
    assert RetentionRule.objects.filter(action="anonymise").exists()
    assert rollups.sealed_through() is None

    logs = run(now)

    assert logs and all(log.action == "anonymise" for log in logs.values())
    assert rollups.sealed_through() is None

    messages = _rule("alerts.notification")
    RetentionRule.objects.filter(pk=messages.pk).update(period=1, unit="years", action="delete")
    messages.refresh_from_db()
    run(now)

    assert rollups.sealed_through() == timezone.localdate(messages.cutoff(now))


# --- 5 and 6. What anonymising removes --------------------------------------------------------------


def test_anonymising_an_application_removes_the_applicants_words_and_payer_details(alice):
    """Applicant's events lose author and words; answers, uploader, file names, card payer go."""
    start, end = period(years=2)
    refused = application(alice, status=Status.DENIED)
    reviewer = factory_staff(Role.PLAN_REVIEWER)
    staff_events = list(TimelineEvent.objects.filter(application=refused, actor=reviewer))
    assert staff_events  # the denial
    typed = TimelineEvent.objects.create(
        application=refused,
        kind=EventKind.MESSAGE,
        actor=alice,
        text="This is Alice Adams, call me on 408 555 0142",
        params={"es": "Soy Alice Adams"},
        note="side gate code 4417",
    )
    by_alice = list(TimelineEvent.objects.filter(application=refused, actor=alice))
    assert len(by_alice) >= 2  # the submission too
    answered = InfoRequest.objects.create(
        application=refused,
        message="Send the site plan.",
        requested_by=factory_staff(Role.PERMIT_TECHNICIAN),
        answer="Alice Adams here: it is attached, ring at 12 Elm",
        answered_at=timezone.now(),
    )
    card = OnlinePayment.objects.create(
        variant=settings.PAYMENT_PROVIDER,
        kind="permit",
        reference=refused.number,
        amount=Decimal("50.00"),
        total=Decimal("50.00"),
        currency="USD",
        description="Permit fee",
        payer=alice,
        billing_email="alice@example.com",
        customer_ip_address="203.0.113.7",
    )
    OnlinePayment.objects.filter(pk=card.pk).update(description="Permit fee, again")
    card.refresh_from_db()
    card.save()  # a second history row
    assert OnlinePayment.history.filter(id=card.pk, payer_id=alice.pk).exists()
    Application.objects.filter(pk=refused.pk).update(updated_at=start)

    logs = run(end + DAY)

    assert done(logs[("permits.application", "refused", "")]) == (0, 1)
    nobody = anonymised_person()
    assert not TimelineEvent.objects.filter(application=refused, actor=alice).exists()
    for event in TimelineEvent.objects.filter(pk__in=[e.pk for e in by_alice]):
        assert event.actor_id is None
        if not event.phrase:
            assert (event.text, event.params, event.note) == ("", {}, "")
    typed.refresh_from_db()
    assert (typed.actor_id, typed.text, typed.params, typed.note) == (None, "", {}, "")
    for event in staff_events:
        assert TimelineEvent.objects.get(pk=event.pk).actor_id == reviewer.pk
    assert InfoRequest.objects.get(pk=answered.pk).answer == ""
    documents = Document.objects.filter(application=refused)
    assert documents.exists()
    assert all(
        (document.uploaded_by_id, document.original_name) == (nobody.pk, "document")
        for document in documents
    )
    card = OnlinePayment.objects.get(pk=card.pk)
    assert (card.payer_id, card.billing_email, card.customer_ip_address) == (None, "", None)
    rows = OnlinePayment.history.filter(kind="permit", reference=refused.number)
    assert rows.count() >= 2
    assert all(
        (row.payer_id, row.billing_email, row.customer_ip_address) == (None, "", None)
        for row in rows
    )


def test_anonymising_a_report_removes_the_reporters_and_followers_words(alice, bob):
    """Reporter's and follower's events lose author and words; attributes and media link go."""
    start, end = period(years=2)
    report = closed_request(reporter=alice, closed_at=start, photo=False)
    Follower.objects.create(request=report, user=bob)
    ServiceRequest.objects.filter(pk=report.pk).update(
        attributes={"how_deep": "Alice says: knee deep by her gate"},
        media_url="https://video.example.com/alice-adams/pothole",
    )
    by_reporter = RequestEvent.objects.create(
        request=report,
        kind=EventKind.INFO_ADDED,
        actor=alice,
        text="Alice again: it got deeper, call 408 555 0142",
        params={"es": "Alice otra vez"},
    )
    by_follower = RequestEvent.objects.create(
        request=report,
        kind=EventKind.FOLLOWER_INFO,
        actor=bob,
        text="Bob Baker from next door: same here",
        note="Bob's note",
    )
    inspector_events = list(RequestEvent.objects.filter(request=report, actor__is_staff=True))
    assert inspector_events  # the closing

    logs = run(end + DAY)

    assert done(logs[("code_enforcement.servicerequest", "", "")]) == (0, 1)
    for event in (by_reporter, by_follower):
        event.refresh_from_db()
        assert (event.actor_id, event.text, event.note, event.params) == (None, "", "", {})
    assert not RequestEvent.objects.filter(request=report, actor__in=[alice, bob]).exists()
    for event in inspector_events:
        assert RequestEvent.objects.get(pk=event.pk).actor_id == event.actor_id
    gone = ServiceRequest.objects.get(pk=report.pk)
    assert (gone.attributes, gone.media_url) == ({}, "")


# --- 7. What deleting removes ------------------------------------------------------------------------


def test_a_deleted_draft_leaves_no_history_rows(alice):
    """A draft deleted after a year takes its HistoricalApplication rows with it."""
    start, end = period(years=1)
    draft = application(alice, updated_at=start)
    assert Application.history.filter(id=draft.pk).exists()

    logs = run(end + DAY)

    assert done(logs[("permits.application", "draft", "")]) == (1, 0)
    assert not Application.objects.filter(pk=draft.pk).exists()
    assert not Application.history.filter(id=draft.pk).exists()


def test_a_deleted_unconfirmed_subscription_leaves_no_history_rows():
    """An unconfirmed subscription deleted after 30 days takes its history rows with it."""
    start, end = period(days=30)
    unconfirmed = make_subscription(topic(), email="nina@example.com", confirmed=False)
    Subscription.objects.filter(pk=unconfirmed.pk).update(created_at=start)
    assert Subscription.history.filter(id=unconfirmed.pk).exists()

    logs = run(end + DAY)

    assert done(logs[("alerts.subscription", "unconfirmed", "")]) == (1, 0)
    assert not Subscription.objects.filter(pk=unconfirmed.pk).exists()
    assert not Subscription.history.filter(id=unconfirmed.pk).exists()


def test_a_deleted_case_leaves_no_history_and_no_inspection_photo():
    """A case deleted under a delete rule: no case, inspection or violation history, no photo."""
    RetentionRule.objects.filter(record_type="code_enforcement.codecase").update(action="delete")
    start, end = period(years=5)
    case = closed_case()
    inspection = CaseInspection.objects.filter(case=case).first()
    inspection.photo.save("finding.jpg", ContentFile(jpeg_bytes()), save=True)
    photo_path = inspection.photo.path
    assert os.path.exists(photo_path)
    Violation.objects.create(
        case=case,
        violation_type=make_violation_type(),
        description="Weeds along the fence.",
        comply_by=timezone.localdate(),
    )
    CodeCase.objects.filter(pk=case.pk).update(closed_at=start)
    assert CodeCase.history.filter(id=case.pk).exists()
    assert CaseInspection.history.filter(case_id=case.pk).exists()
    assert Violation.history.filter(case_id=case.pk).exists()

    logs = run(end + DAY)

    assert done(logs[("code_enforcement.codecase", "", "")]) == (1, 0)
    assert not CodeCase.objects.filter(pk=case.pk).exists()
    assert not CodeCase.history.filter(id=case.pk).exists()
    assert not CaseInspection.history.filter(case_id=case.pk).exists()
    assert not Violation.history.filter(case_id=case.pk).exists()
    assert not os.path.exists(photo_path)


# --- 8. Delete rules anonymise what they keep only once ----------------------------------------------


def test_a_paid_application_under_a_delete_rule_is_anonymised_once(alice):
    """Refused with a ledger payment, delete rule: anonymised on the first run, then (0, 0)."""
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
    Application.objects.filter(pk=paid.pk).update(updated_at=start)

    first = run(end + DAY)
    assert done(first[("permits.application", "refused", "")]) == (0, 1)
    kept = Application.objects.get(pk=paid.pk)
    assert kept.applicant_id == anonymised_person().pk

    second = run(end + DAY)
    assert done(second[("permits.application", "refused", "")]) == (0, 0)
    assert Application.objects.get(pk=paid.pk).updated_at == kept.updated_at


def test_a_case_with_a_fine_paid_under_a_delete_rule_is_anonymised_once():
    """A closed case with a FinePayment under a delete rule: anonymised once, then (0, 0)."""
    RetentionRule.objects.filter(record_type="code_enforcement.codecase").update(action="delete")
    start, end = period(years=5)
    case = closed_case(closed_at=start)
    FinePayment.objects.create(
        case=case, amount=Decimal("75.00"), method=FinePayment.Method.ONLINE, reference="F-1"
    )

    first = run(end + DAY)
    assert done(first[("code_enforcement.codecase", "", "")]) == (0, 1)
    kept = CodeCase.objects.get(pk=case.pk)
    assert (kept.owner_name, kept.owner_email, kept.owner_mailing_address) == ("", "", "")

    second = run(end + DAY)
    assert done(second[("code_enforcement.codecase", "", "")]) == (0, 0)


# --- 9. Exports -----------------------------------------------------------------------------------


def _unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def test_an_export_matches_the_whole_street_and_leaves_out_free_text(alice):
    """An export matches the whole street and holds no descriptions nor free-text events."""
    category = make_category("pothole")
    inside = ["120 Oak Street", "120 OAK STREET, Unit 4"]
    outside = ["120 Oakwood Dr", "120 Oak Ave", "1200 Oak Street"]
    permits, reports = {}, {}
    for n, address in enumerate(inside + outside):
        permits[address] = make_application(alice, status="submitted", address=address)
        reports[address] = make_request(
            category, address=address, description=f"Secretdescription{n} by my neighbour"
        )
    closed = make_request(category, address="120 Oak Street", description="Secretdescription")
    make_case(closed)  # the report's timeline says so, in the system's words
    thanks = RequestEvent.objects.create(
        request=closed,
        kind=EventKind.MESSAGE,
        public=True,
        text="Thanks Mrs. Garcia, the crew comes Tuesday",
    )
    # What the system recorded: its phrases, and status changes no one wrote anything on.
    system = list(
        RequestEvent.objects.filter(request=closed, public=True).filter(
            ~Q(phrase="") | Q(text="", note="")
        )
    )
    assert system and any(event.phrase for event in system)

    data, _counts = export.build(address="120 Oak St")

    files = _unzip(data)
    document = json.loads(files["records.json"])
    found = {section["name"]: section["records"] for section in document["sections"]}
    assert {p["number"] for p in found["permits"]} == {permits[a].number for a in inside}
    assert {r["number"] for r in found["reports"]} == {
        *(reports[a].public_id for a in inside),
        closed.public_id,
    }
    text = "\n".join(files.values())
    for address in outside:
        assert permits[address].number not in text
        assert reports[address].public_id not in text
        assert address not in text
    assert "Secretdescription" not in text
    assert "by my neighbour" not in text
    assert "Mrs. Garcia" not in text and thanks.text not in text
    record = next(r for r in found["reports"] if r["number"] == closed.public_id)
    assert len(record["timeline"]) == len(system)
    assert all(entry["text"] for entry in record["timeline"] if entry["what"] == "In progress")
    assert "What reporters wrote" in files["README.txt"]
    assert "Messages between the applicant and staff" in files["README.txt"]


# --- 10. Delete my account under a hold on one of the person's records ----------------------------


def _report_hold(records) -> dict:
    return {
        "kind": HoldKind.RECORD,
        "record_type": "code_enforcement.servicerequest",
        "reference": records["report"].public_id.lower(),
    }


def _address_hold(records) -> dict:
    return {"kind": HoldKind.ADDRESS, "address": "5 birch ct"}


@pytest.mark.parametrize("placed", [_report_hold, _address_hold], ids=["record", "address"])
def test_a_hold_on_one_of_the_persons_records_stops_delete_my_account(placed):
    """A hold on the resident's report or on their draft's address: 409, nothing changes."""
    rosa = person("rosa@example.com")
    draft = application(rosa, address="5 Birch Court")
    report = make_request(reporter=rosa, address="9 Cedar Lane", contact_email="rosa@example.com")
    hold = LegalHold.objects.create(
        reason="Reyes v. City, 26-CV-0117",
        placed_by=make_staff(Role.MANAGER, "holds.review@riverbend.example"),
        **placed({"report": report, "draft": draft}),
    )
    client = signed_in_client(rosa)

    response = client.post("/me/delete/", {"password": PASSWORD, "understood": "on"})

    assert response.status_code == 409
    kept = User.objects.get(pk=rosa.pk)
    assert (kept.is_active, kept.email, kept.first_name) == (True, "rosa@example.com", "Rosa")
    assert Application.objects.filter(pk=draft.pk).exists()
    assert ServiceRequest.objects.get(pk=report.pk).reporter_id == rosa.pk

    services.hold_release(hold, by=hold.placed_by, reason="Settled.")
    response = client.post("/me/delete/", {"password": PASSWORD, "understood": "on"})
    assert response.status_code == 302
    assert not User.objects.get(pk=rosa.pk).is_active


# --- 11. History pages do not revert ----------------------------------------------------------------


def test_a_rule_history_page_does_not_revert_the_rule(admin_client):
    """POSTing an older version's history page leaves the rule as it is now."""
    rule = _rule("code_enforcement.servicerequest")
    old = rule.history.order_by("history_id").first()
    assert old.period == 2
    assert admin_client.post(f"{RULES}{rule.pk}/change/", _form(rule, period=3)).status_code == 302
    rule.refresh_from_db()
    assert rule.period == 3
    versions = rule.history.count()

    admin_client.post(f"{RULES}{rule.pk}/history/{old.history_id}/", _form(rule, period=old.period))

    rule.refresh_from_db()
    assert rule.period == 3
    assert rule.history.count() == versions


def test_a_released_holds_history_page_does_not_bring_it_back(admin_client):
    """POSTing the history page of a released hold's first version leaves it released."""
    placed = LegalHold.objects.create(
        kind=HoldKind.ADDRESS,
        address="120 Oak Street",
        reason="Smith v. City, 26-CV-0042",
        placed_by=make_staff(Role.MANAGER, "holds.review@riverbend.example"),
    )
    first = placed.history.order_by("history_id").first()
    services.hold_release(placed, by=placed.placed_by, reason="The case settled.")
    placed.refresh_from_db()
    released_at = placed.released_at
    assert released_at is not None

    admin_client.post(
        f"{HOLDS}{placed.pk}/history/{first.history_id}/",
        {"kind": "address", "address": "120 Oak Street", "reason": "Smith v. City"},
    )

    placed.refresh_from_db()
    assert (placed.released_at, placed.release_reason) == (released_at, "The case settled.")
    assert not LegalHold.objects.active().exists()


# --- 12. The disposal log says why a run did not finish ---------------------------------------------


def test_the_disposal_log_list_shows_the_notes(admin_client, monkeypatch):
    """The list shows "Failed: …" for a failed rule and "Stopped part-way…" for a cut-short run."""
    start, end = period(days=30)
    unconfirmed = make_subscription(topic(), email="nina@example.com", confirmed=False)
    Subscription.objects.filter(pk=unconfirmed.pk).update(created_at=start)

    def broken(rows, action):
        raise RuntimeError("the database said no")

    with monkeypatch.context() as patch:
        patch.setattr(registry.RECORD_TYPES["alerts.subscription"], "dispose", broken)
        run(end + DAY)
    failed = DisposalLog.objects.get(note__startswith="Failed:")
    services.dispose(now=end + DAY, stop_at=time.monotonic() - 1)
    stopped = DisposalLog.objects.filter(note__startswith="Stopped part-way").first()
    assert stopped is not None

    text = _text(admin_client.get(LOG))

    assert failed.note in text
    assert stopped.note in text
