"""The console's records pages: the retention schedule (with its history), the disposal log,
public-records exports and legal holds, as a city administrator, a manager and a permit
technician see them (staff signed in with a verified second factor)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from cityhall.records import services
from cityhall.records.defaults import DEFAULT_RULES
from cityhall.records.models import (
    DisposalLog,
    HoldKind,
    LegalHold,
    RecordsRequest,
    RetentionRule,
)
from cityhall.roles import Role
from code_enforcement.constants import RequestStatus
from code_enforcement.models import ServiceRequest
from code_enforcement.tests.factories import make_category, make_request
from permits.tests.factories import make_application, make_permit_type
from tests.personas import make_resident, make_staff, verified_client

pytestmark = pytest.mark.django_db

RULES = "/console/records/retentionrule/"
LOG = "/console/records/disposallog/"
HOLDS = "/console/records/legalhold/"
EXPORTS = "/console/records/recordsrequest/"


def _text(response) -> str:
    """The page as a person reads it: tags dropped, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    return text.replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")


@pytest.fixture
def administrator(db):
    return make_staff(Role.CITY_ADMINISTRATOR, "admin.records@riverbend.example")


@pytest.fixture
def admin_client(administrator):
    return verified_client(administrator)


@pytest.fixture
def manager(db):
    return make_staff(Role.MANAGER, "manager.records@riverbend.example")


@pytest.fixture
def manager_client(manager):
    return verified_client(manager)


@pytest.fixture
def technician_client(db):
    return verified_client(make_staff(Role.PERMIT_TECHNICIAN, "tech.records@riverbend.example"))


def _rule(record_type: str, status: str = "", kind: str = "") -> RetentionRule:
    return RetentionRule.objects.get(record_type=record_type, status=status, kind=kind)


def _form(rule: RetentionRule, **changes) -> dict:
    data = {
        "record_type": rule.record_type,
        "status": rule.status,
        "kind": rule.kind,
        "period": rule.period,
        "unit": rule.unit,
        "action": rule.action,
        "reason": rule.reason,
    }
    data.update(changes)
    return data


# --- The retention schedule -----------------------------------------------------------------------


def test_the_schedule_lists_every_default_rule_with_its_period(admin_client):
    response = admin_client.get(RULES)
    assert response.status_code == 200
    text = _text(response)
    rules = list(RetentionRule.objects.all())
    assert len(rules) == len(DEFAULT_RULES)
    for rule in rules:
        assert rule.type_label in text
        assert rule.period_text in text
    # The periods as words, one per unit and "Permanently" for the kept records.
    assert _rule("code_enforcement.servicerequest").period_text == "2 years"
    assert _rule("permits.application", "ended").period_text == "Permanently"
    assert _rule("alerts.subscription", "unconfirmed").period_text == "30 days"
    assert _rule("permits.application", "draft").period_text == "1 year"
    for words in ("2 years", "Permanently", "30 days", "90 days", "1 year", "5 years"):
        assert words in text
    # Each rule's row says what it applies to and links to its page.
    assert "Denied or withdrawn" in text
    html = response.content.decode()
    for rule in rules:
        assert f"{RULES}{rule.pk}/change/" in html


def test_an_administrator_changes_a_period_and_it_is_in_the_rule_history(
    admin_client, administrator
):
    rule = _rule("code_enforcement.servicerequest")
    versions = rule.history.count()
    response = admin_client.post(f"{RULES}{rule.pk}/change/", _form(rule, period=3))
    assert response.status_code == 302, _text(response)
    rule.refresh_from_db()
    assert rule.period == 3 and rule.period_text == "3 years"
    assert rule.history.count() == versions + 1
    latest = rule.history.first()
    assert latest.period == 3 and latest.history_type == "~"
    assert latest.history_user == administrator

    history = admin_client.get(f"{RULES}{rule.pk}/history/")
    assert history.status_code == 200
    text = _text(history)
    assert administrator.email in text or str(administrator) in text
    assert "Changed" in text or "period" in text.lower()
    # The list shows the new period.
    assert "3 years" in _text(admin_client.get(RULES))


def test_the_first_change_of_a_default_rule_shows_what_it_was(admin_client):
    """The default schedule has its history rows, so the first change shows the period before."""
    rule = _rule("code_enforcement.servicerequest")
    assert rule.history.count() >= 1
    admin_client.post(f"{RULES}{rule.pk}/change/", _form(rule, period=3))
    latest = rule.history.first()
    assert latest.period == 3
    assert latest.prev_record is not None
    assert latest.prev_record.period == 2


def test_the_change_page_says_what_would_be_disposed_of_tonight(admin_client):
    category = make_category("pothole")
    for days_ago in (800, 900, 30):
        request = make_request(category, contact_name="Someone", contact_email="s@example.com")
        ServiceRequest.objects.filter(pk=request.pk).update(
            status=RequestStatus.CLOSED, closed_at=timezone.now() - timedelta(days=days_ago)
        )
    rule = _rule("code_enforcement.servicerequest")  # anonymise after 2 years
    text = _text(admin_client.get(f"{RULES}{rule.pk}/change/"))
    assert "2 records would be anonymised tonight." in text
    kept = _rule("permits.document")
    text = _text(admin_client.get(f"{RULES}{kept.pk}/change/"))
    assert "Nothing: these records are kept permanently." in text
    session_rule = _rule("cityhall.session")
    text = _text(admin_client.get(f"{RULES}{session_rule.pk}/change/"))
    assert re.search(r"\d+ records? would be deleted tonight\.", text)


def test_a_manager_reads_the_schedule_but_cannot_change_it(manager_client):
    rule = _rule("code_enforcement.servicerequest")
    assert manager_client.get(RULES).status_code == 200
    page = manager_client.get(f"{RULES}{rule.pk}/change/")
    assert page.status_code == 200
    assert "2 years" in _text(page) or "would be anonymised tonight" in _text(page)
    response = manager_client.post(f"{RULES}{rule.pk}/change/", _form(rule, period=9))
    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.period == 2
    assert manager_client.get(f"{RULES}add/").status_code == 403


def test_a_permit_technician_cannot_see_the_schedule(technician_client):
    rule = _rule("code_enforcement.servicerequest")
    assert technician_client.get(RULES).status_code == 403
    assert technician_client.get(f"{RULES}{rule.pk}/change/").status_code == 403
    assert technician_client.get(LOG).status_code == 403
    assert technician_client.get(HOLDS).status_code == 403
    assert technician_client.get(EXPORTS).status_code == 403


def test_the_form_rejects_a_status_that_is_not_the_record_types(admin_client):
    count = RetentionRule.objects.count()
    data = {
        "record_type": "code_enforcement.servicerequest",
        "status": "draft",  # a permit application's status group
        "kind": "",
        "period": "7",
        "unit": "years",
        "action": "delete",
        "reason": "Council resolution 2026-41, typed by the clerk",
    }
    response = admin_client.post(f"{RULES}add/", data)
    assert response.status_code == 200
    text = _text(response)
    assert "That status is not one of this record type's." in text
    assert RetentionRule.objects.count() == count
    form = response.context["adminform"].form
    assert form.errors
    # What was typed is kept.
    html = response.content.decode()
    assert "Council resolution 2026-41, typed by the clerk" in html
    assert form["period"].value() == "7"
    assert form["record_type"].value() == "code_enforcement.servicerequest"
    assert re.search(r'<option value="draft"[^>]*selected', html)


def test_the_form_rejects_anonymising_a_type_that_can_only_be_deleted(admin_client):
    rule = _rule("alerts.notification")
    response = admin_client.post(f"{RULES}{rule.pk}/change/", _form(rule, action="anonymise"))
    assert response.status_code == 200
    assert "cannot be anonymised" in _text(response)
    rule.refresh_from_db()
    assert rule.action == "delete"


# --- The disposal log -----------------------------------------------------------------------------


def test_the_disposal_log_shows_a_run_and_has_no_add_or_change(admin_client, manager_client):
    category = make_category("pothole")
    request = make_request(category, contact_name="Someone")
    ServiceRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.CLOSED, closed_at=timezone.now() - timedelta(days=800)
    )
    logs = services.dispose()
    log = next(log for log in logs if log.record_type == "code_enforcement.servicerequest")
    assert log.anonymised == 1
    for client in (admin_client, manager_client):
        response = client.get(LOG)
        assert response.status_code == 200
        text = _text(response)
        assert log.rule_text in text
        assert f"{LOG}add/" not in response.content.decode()
        assert client.get(f"{LOG}add/").status_code == 403
        page = client.get(f"{LOG}{log.pk}/change/")
        assert page.status_code == 200  # read only
        assert 'name="_save"' not in page.content.decode()
        assert client.post(f"{LOG}{log.pk}/change/", {"deleted": 0}).status_code == 403
        assert client.post(f"{LOG}{log.pk}/delete/", {"post": "yes"}).status_code == 403
    assert DisposalLog.objects.get(pk=log.pk).anonymised == 1


# --- Public-records exports -----------------------------------------------------------------------


def test_a_manager_makes_an_export_and_downloads_the_zip(manager_client, manager):
    applicant = make_resident("applicant@example.com")
    permit = make_application(
        applicant, make_permit_type("FEN"), status="submitted", address="120 Oak Street"
    )
    make_request(make_category("pothole"), address="120 Oak St", description="A hole")
    response = manager_client.post(
        f"{EXPORTS}add/",
        {"address": " 120 oak street ", "reference": "", "requester": "J. Press, PRA-2026-17"},
    )
    row = RecordsRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{EXPORTS}{row.pk}/change/"
    assert row.address == "120 oak street"
    assert row.made_by == manager
    assert row.counts == {"permits": 1, "code_cases": 0, "reports": 1}
    page = manager_client.get(response["Location"])
    assert page.status_code == 200
    text = _text(page)
    assert "Download the ZIP" in text
    assert "holds 2 records" in text
    download_url = f"{EXPORTS}{row.pk}/download/"
    assert download_url in page.content.decode()

    download = manager_client.get(download_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert "attachment" in download["Content-Disposition"]
    assert download["Content-Disposition"].endswith('.zip"')
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert set(archive.namelist()) == {"README.txt", "records.json"}
        document = json.loads(archive.read("records.json"))
    permits = next(s for s in document["sections"] if s["name"] == "permits")
    assert [r["number"] for r in permits["records"]] == [permit.number]
    assert "PRA-2026-17" not in download.content.decode("latin-1")  # the log's, not the ZIP's
    # The list shows the export's counts.
    assert "permits: 1" in _text(manager_client.get(EXPORTS))


@pytest.mark.parametrize(
    "address, reference",
    [("120 Oak Street", "CE-2026-00012"), ("", ""), ("   ", "  ")],
)
def test_an_export_needs_either_an_address_or_a_number(manager_client, address, reference):
    response = manager_client.post(
        f"{EXPORTS}add/",
        {"address": address, "reference": reference, "requester": "J. Press"},
    )
    assert response.status_code == 200
    assert "Give either an address or a record number, not both." in _text(response)
    assert not RecordsRequest.objects.exists()
    assert 'value="J. Press"' in response.content.decode()


def test_a_technician_cannot_download_an_export(technician_client, manager):
    row = RecordsRequest.objects.create(address="120 Oak Street", requester="X", made_by=manager)
    assert technician_client.get(f"{EXPORTS}{row.pk}/download/").status_code == 403


# --- Legal holds ----------------------------------------------------------------------------------


@pytest.fixture
def hold(manager):
    return LegalHold.objects.create(
        kind=HoldKind.ADDRESS,
        address="120 Oak Street",
        reason="Smith v. City, case 26-CV-0042",
        placed_by=manager,
    )


def test_releasing_a_hold_needs_a_reason(manager_client, hold):
    url = f"{HOLDS}{hold.pk}/release/"
    response = manager_client.post(url, {"release_reason": "   "})
    assert response.status_code == 400
    text = _text(response)
    assert "Release the hold" in text
    assert "This field is required." in text
    assert 'name="release_reason"' in response.content.decode()
    assert response.context["release_form"].errors
    hold.refresh_from_db()
    assert hold.released_at is None and hold.is_active


def test_releasing_a_hold_with_a_reason_records_when_and_by_whom(manager_client, manager, hold):
    response = manager_client.post(
        f"{HOLDS}{hold.pk}/release/", {"release_reason": "The case settled."}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{HOLDS}{hold.pk}/change/"
    hold.refresh_from_db()
    assert hold.released_at is not None
    assert timezone.now() - hold.released_at < timedelta(minutes=5)
    assert hold.released_by == manager
    assert hold.release_reason == "The case settled."
    assert not LegalHold.objects.active().exists()
    page = _text(manager_client.get(f"{HOLDS}{hold.pk}/change/"))
    assert "Released" in page and "The case settled." in page
    assert "Release the hold" not in page


def test_a_release_by_get_changes_nothing(manager_client, hold):
    response = manager_client.get(f"{HOLDS}{hold.pk}/release/")
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.is_active


# --- Query counts ---------------------------------------------------------------------------------


def _queries(client, url, django_assert_max_num_queries, ceiling: int) -> int:
    with django_assert_max_num_queries(ceiling) as counted:
        response = client.get(url)
        assert response.status_code == 200
    return len(counted.captured_queries)


def _schedule_of(specs: list[tuple[str, str, str]]) -> None:
    RetentionRule.objects.all().delete()
    for record_type, status, kind in specs:
        RetentionRule.objects.create(
            record_type=record_type,
            status=status,
            kind=kind,
            period=3,
            unit="years",
            action="delete",
            reason="Test",
        )


def _history_specs() -> list[tuple[str, str, str]]:
    """Rules of every type and status group, then per history model (kinds that are not rows)."""
    from cityhall.records import registry

    specs = []
    for key, record_type in registry.RECORD_TYPES.items():
        specs.append((key, "", ""))
        specs += [(key, group.value, "") for group in record_type.statuses()]
    history = registry.RECORD_TYPES["cityhall.history"]
    specs += [("cityhall.history", "", group.value) for group in history.kinds()]
    return specs


def test_the_schedule_list_does_not_grow_with_its_rules(
    admin_client, django_assert_max_num_queries
):
    specs = _history_specs()
    assert len(specs) >= 20
    _schedule_of(specs[:2])
    admin_client.get(RULES)
    few = _queries(admin_client, RULES, django_assert_max_num_queries, 100)
    _schedule_of(specs[:20])
    assert RetentionRule.objects.count() == 20
    _queries(admin_client, RULES, django_assert_max_num_queries, few)


def test_the_schedule_list_does_not_grow_with_per_type_rules(
    admin_client, django_assert_max_num_queries
):
    """Rules per permit type and per report category, as the default reasons suggest adding."""
    types = [make_permit_type(code).code for code in ("BLD", "ELE", "PLM", "FEN", "SGN")]
    categories = [make_category(code).code for code in ("pothole", "graffiti", "overgrown-lot")]
    specs = [("permits.application", "refused", ""), ("code_enforcement.servicerequest", "", "")]
    specs += [("permits.application", "ended", code) for code in types]
    specs += [("permits.document", "", code) for code in types]
    specs += [("code_enforcement.servicerequest", "", code) for code in categories]
    specs += [("code_enforcement.requestphoto", "", code) for code in categories]
    specs += [("alerts.subscription", "unconfirmed", ""), ("alerts.subscription", "cancelled", "")]
    assert len(specs) == 20
    _schedule_of(specs[:2])
    admin_client.get(RULES)
    few = _queries(admin_client, RULES, django_assert_max_num_queries, 100)
    _schedule_of(specs)
    _queries(admin_client, RULES, django_assert_max_num_queries, few)


def _log_of(count: int) -> None:
    DisposalLog.objects.all().delete()
    rule = RetentionRule.objects.first()
    for n in range(count):
        DisposalLog.objects.create(
            rule=rule,
            record_type=rule.record_type,
            rule_text=f"Night {n}",
            action="delete",
            cutoff=timezone.now() - timedelta(days=365),
            deleted=n,
            finished_at=timezone.now(),
        )


def test_the_disposal_log_does_not_grow(manager_client, django_assert_max_num_queries):
    _log_of(2)
    manager_client.get(LOG)
    few = _queries(manager_client, LOG, django_assert_max_num_queries, 100)
    _log_of(20)
    _queries(manager_client, LOG, django_assert_max_num_queries, few)


def _holds_of(count: int, manager, other, *, released: bool) -> None:
    LegalHold.objects.all().delete()
    for n in range(count):
        hold = LegalHold.objects.create(
            kind=[HoldKind.ADDRESS, HoldKind.PERSON, HoldKind.RECORD][n % 3],
            address=f"{n} Oak Street" if n % 3 == 0 else "",
            person_email=f"p{n}@example.com" if n % 3 == 1 else "",
            record_type="permits.application" if n % 3 == 2 else "",
            reference=f"BLD-2026-{n:06d}" if n % 3 == 2 else "",
            reason=f"Matter {n}",
            placed_by=manager if n % 2 else other,
        )
        if released and n % 2:  # half of them released since, by one or the other
            LegalHold.objects.filter(pk=hold.pk).update(
                released_at=timezone.now(),
                released_by=other if n % 4 == 1 else manager,
                release_reason="Done",
            )


def test_the_legal_hold_list_does_not_grow(manager_client, manager, django_assert_max_num_queries):
    other = make_staff(Role.CITY_ADMINISTRATOR, "other.admin@riverbend.example")
    _holds_of(2, manager, other, released=False)
    manager_client.get(HOLDS)
    few = _queries(manager_client, HOLDS, django_assert_max_num_queries, 100)
    _holds_of(20, manager, other, released=False)
    _queries(manager_client, HOLDS, django_assert_max_num_queries, few)


def test_the_legal_hold_list_with_released_holds_does_not_grow(
    manager_client, manager, django_assert_max_num_queries
):
    other = make_staff(Role.CITY_ADMINISTRATOR, "other.admin@riverbend.example")
    _holds_of(2, manager, other, released=True)
    manager_client.get(HOLDS)
    few = _queries(manager_client, HOLDS, django_assert_max_num_queries, 100)
    _holds_of(20, manager, other, released=True)
    assert LegalHold.objects.filter(released_at__isnull=False).count() == 10
    _queries(manager_client, HOLDS, django_assert_max_num_queries, few)
