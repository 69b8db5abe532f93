"""Public-records exports (`export.build`): every record about an address or one case, as a
ZIP, with the third parties' personal data left out or redacted; and `redact.redact_text`."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from cityhall.records import export
from cityhall.records.redact import REDACTED, redact_text
from code_enforcement.models import CodeCase, ServiceRequest
from code_enforcement.services.photos import photo_add_to_draft
from code_enforcement.tests.factories import (
    case_with_notice,
    jpeg_upload,
    make_category,
    make_request,
)
from permits.models import Application
from permits.tests.factories import make_application, make_permit_type
from tests.personas import make_resident

# The people whose data must never leave the city in an export.
REPORTER_NAME = "Rosalind Reportwell"
REPORTER_EMAIL = "rosalind.reportwell@example.com"
REPORTER_PHONE = "(555) 246-8100"
ACCOUNT_EMAIL = "ros.account@example.com"
ACCOUNT_NAME = ("Rosalindaccount", "Quietneighbour")
APPLICANT_NAME = "Percival Permitseeker"
APPLICANT_PHONE = "555-319-4455"
APPLICANT_ACCOUNT = "percival.account@example.com"
APPLICANT_ANSWER = "Gate code 4417, ask for the dog Biscuitfluff"
OWNER_EMAIL = "olga.owner@example.com"
OWNER_MAIL = "PO Box 77, Salinasville"
# Typed by people into free text, which the export keeps with these redacted.
TYPED_EMAIL = "nosy.neighbour@example.org"
TYPED_PHONE = "555.867.5309"


def unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def sections(files: dict[str, str]) -> dict[str, list[dict]]:
    document = json.loads(files["records.json"])
    return {section["name"]: section["records"] for section in document["sections"]}


@pytest.fixture
def oak(db):
    """120 Oak Street: a permit, a code case opened from a complaint (reporter with an account,
    contact details and a photo), a second report, a report in a sensitive category and a
    draft; and the permits of other addresses (one of them 1200 Oak Street)."""
    category = make_category("overgrown-lot")
    private = make_category("unsafe-building", sensitive=True)
    reporter = make_resident(
        ACCOUNT_EMAIL, first_name=ACCOUNT_NAME[0], last_name=ACCOUNT_NAME[1], phone="+15554441234"
    )
    photo, _gps = photo_add_to_draft(draft_token="oak-draft-1", uploaded=jpeg_upload())
    complaint = make_request(
        category,
        address="120 Oak Street",
        description=(
            f"Weeds taller than the fence. Call me at {TYPED_PHONE} or write to {TYPED_EMAIL}."
        ),
        reporter=reporter,
        contact_name=REPORTER_NAME,
        contact_email=REPORTER_EMAIL,
        contact_phone=REPORTER_PHONE,
        draft_token="oak-draft-1",
    )
    photo.refresh_from_db()
    assert photo.request_id == complaint.pk
    second = make_request(
        category,
        address="120 OAK STREET, Unit 4",
        description="Same lot, rats now.",
        contact_name="Second Reporterperson",
        contact_email="second.reporter@example.com",
    )
    # Opened from the two reports, inspected, a violation recorded and a notice issued.
    case = case_with_notice(
        complaint,
        second,
        owner_name="Olga Owner",
        owner_email=OWNER_EMAIL,
        owner_mailing_address=OWNER_MAIL,
    )
    unlinked = make_request(category, address="120 Oak St", description="Loose dog at the gate.")
    sensitive = make_request(
        private, address="120 Oak Street", description="Someone is living in the garage."
    )

    applicant = make_resident(APPLICANT_ACCOUNT, first_name="Percival", last_name="Applicantus")
    permit_type = make_permit_type("FEN")
    permit = make_application(
        applicant,
        permit_type,
        status="issued",
        address="120 Oak Street",
        applicant_name=APPLICANT_NAME,
        applicant_phone=APPLICANT_PHONE,
        description=f"Replace the back fence. Questions: {TYPED_EMAIL} or (555) 600-7000.",
        answers={"gate": APPLICANT_ANSWER},
    )
    draft = make_application(
        applicant, permit_type, address="120 Oak Street", description="Never sent", complete=False
    )
    elsewhere = make_application(
        applicant, permit_type, status="submitted", address="500 Birch Avenue"
    )
    same_street = make_application(
        applicant, permit_type, status="submitted", address="1200 Oak Street"
    )
    return {
        "complaint": ServiceRequest.objects.get(pk=complaint.pk),
        "second": second,
        "unlinked": unlinked,
        "sensitive": sensitive,
        "case": CodeCase.objects.get(pk=case.pk),
        "permit": Application.objects.get(pk=permit.pk),
        "draft": draft,
        "elsewhere": elsewhere,
        "same_street": same_street,
    }


def test_the_zip_holds_a_readme_and_the_records(oak):
    data, counts = export.build(address="120 oak st", city="Riverbend")
    files = unzip(data)
    assert set(files) == {"README.txt", "records.json"}
    found = sections(files)
    assert counts == {name: len(records) for name, records in found.items()}
    assert counts == {"permits": 1, "code_cases": 1, "reports": 3}
    assert "Public records from Riverbend" in files["README.txt"]
    assert "About: 120 oak st" in files["README.txt"]
    document = json.loads(files["records.json"])
    assert document["about"] == {"address": "120 oak st"}


def test_the_address_records_are_there_however_typed_and_no_others(oak):
    files = unzip(export.build(address="120 oak st")[0])
    found = sections(files)
    assert [p["number"] for p in found["permits"]] == [oak["permit"].number]
    assert found["permits"][0]["address"] == "120 Oak Street"
    assert found["permits"][0]["status"] == "Issued"
    assert [c["number"] for c in found["code_cases"]] == [oak["case"].number]
    case = found["code_cases"][0]  # the case file's public part
    assert case["status"] == "Notice of violation issued"
    assert [v["violation"] for v in case["violations"]] == ["Overgrown vegetation"]
    assert len(case["notices"]) == 1 and case["inspections"]
    assert case["owner"] == "Olga Owner"  # the property owner of record is public
    reports = {r["number"] for r in found["reports"]}
    assert reports == {
        oak["complaint"].public_id,
        oak["second"].public_id,
        oak["unlinked"].public_id,
    }
    text = "\n".join(files.values())
    # Not the other address, nor 1200 Oak Street (another house on the street), nor the draft.
    assert oak["elsewhere"].number not in text
    assert "500 Birch Avenue" not in text
    assert oak["same_street"].number not in text
    assert "1200 Oak Street" not in text
    assert oak["draft"].number is None or oak["draft"].number not in text
    assert "Never sent" not in text


def test_no_personal_data_of_reporters_or_applicants_anywhere_in_the_zip(oak):
    files = unzip(export.build(address="120 Oak Street")[0])
    text = "\n".join(files.values())
    complaint, permit = oak["complaint"], oak["permit"]
    assert complaint.contact_name == REPORTER_NAME  # the fixture really stored them
    assert permit.applicant_name == APPLICANT_NAME and permit.answers["gate"] == APPLICANT_ANSWER
    for secret in [
        REPORTER_NAME,
        REPORTER_EMAIL,
        complaint.contact_phone,
        "246-8100",
        "2468100",
        ACCOUNT_EMAIL,
        *ACCOUNT_NAME,
        "5554441234",
        "Second Reporterperson",
        "second.reporter@example.com",
        APPLICANT_NAME,
        permit.applicant_phone,
        "319-4455",
        APPLICANT_ACCOUNT,
        "Applicantus",
        APPLICANT_ANSWER,
        "Biscuitfluff",
        OWNER_EMAIL,
        OWNER_MAIL,
        TYPED_EMAIL,
        TYPED_PHONE,
        "867-5309",
        "600-7000",
    ]:
        assert secret.lower() not in text.lower(), secret
    records = json.loads(files["records.json"])
    keys = set()

    def walk(value):
        if isinstance(value, dict):
            keys.update(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(records)
    assert not keys & {"reporter", "contact_name", "contact_email", "contact_phone"}
    assert not keys & {"applicant", "applicant_name", "applicant_phone", "answers"}
    assert not keys & {"owner_email", "owner_mailing_address"}


def test_emails_and_phones_typed_into_descriptions_are_redacted(oak):
    """A permit's project description is released with contact details redacted; what a
    reporter wrote is not released at all (it often identifies who reported)."""
    found = sections(unzip(export.build(address="120 Oak Street")[0]))
    complaint = next(r for r in found["reports"] if r["number"] == oak["complaint"].public_id)
    assert "description" not in complaint
    assert found["permits"][0]["description"] == (
        f"Replace the back fence. Questions: {REDACTED} or {REDACTED}."
    )


def test_the_readme_lists_what_was_withheld(oak):
    files = unzip(export.build(address="120 Oak Street")[0])
    readme = files["README.txt"]
    assert "complainants in code enforcement are confidential" in readme
    assert "Applicants' names, phone numbers, email addresses and answers" in readme
    assert "1 reports in private categories" in readme
    assert "1 photos sent with reports" in readme
    assert "Email addresses and phone numbers in any text are replaced" in readme
    withheld = json.loads(files["records.json"])["withheld"]
    assert any("complainants in code enforcement are confidential" in line for line in withheld)
    for line in withheld:
        assert f"- {line}" in readme


def test_a_report_in_a_sensitive_category_is_not_exported(oak):
    data, counts = export.build(address="120 Oak Street")
    assert counts["reports"] == 3  # the complaint, the second report, the unlinked one
    files = unzip(data)
    text = "\n".join(files.values())
    assert oak["sensitive"].public_id not in text
    assert "living in the garage" not in text
    assert "Unsafe building" not in text
    # Not by its own number either.
    found = sections(unzip(export.build(reference=oak["sensitive"].public_id)[0]))
    assert found["reports"] == []


def test_export_by_case_number_gives_the_case_and_its_requests_only(oak):
    case = oak["case"]
    data, counts = export.build(reference=case.number.lower())
    files = unzip(data)
    found = sections(files)
    assert [c["number"] for c in found["code_cases"]] == [case.number]
    assert {r["number"] for r in found["reports"]} == {
        oak["complaint"].public_id,
        oak["second"].public_id,
    }
    assert all(r["case"] == case.number for r in found["reports"])
    assert found["permits"] == []
    assert counts == {"permits": 0, "code_cases": 1, "reports": 2}
    assert json.loads(files["records.json"])["about"] == {"record": case.number.lower()}
    text = "\n".join(files.values())
    assert oak["unlinked"].public_id not in text
    assert oak["permit"].number not in text
    assert REPORTER_NAME not in text and REPORTER_EMAIL not in text


def test_a_case_with_violations_and_a_notice_is_exported(db):
    category = make_category("overgrown-lot")
    complaint = make_request(category, address="44 Maple Street", description="Tall weeds.")
    case = case_with_notice(complaint)
    data, counts = export.build(address="44 maple st")
    found = sections(unzip(data))
    assert counts["code_cases"] == 1
    record = found["code_cases"][0]
    assert record["number"] == case.number
    assert [v["violation"] for v in record["violations"]] == ["Overgrown vegetation"]
    assert len(record["notices"]) == 1


def test_export_by_permit_number_gives_that_permit_only(oak):
    found = sections(unzip(export.build(reference=oak["permit"].number)[0]))
    assert [p["number"] for p in found["permits"]] == [oak["permit"].number]
    assert found["code_cases"] == [] and found["reports"] == []


def test_an_address_with_nothing_gives_empty_sections(db):
    data, counts = export.build(address="999 Nowhere Lane")
    files = unzip(data)
    assert counts == {"permits": 0, "code_cases": 0, "reports": 0}
    assert set(files) == {"README.txt", "records.json"}


# --- redact_text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "(555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "555 123 4567",
        "5551234567",
        "+1 555 123 4567",
        "+1-555-123-4567",
        "1-555-123-4567",
        "+15551234567",
        "(555)123-4567",
    ],
)
def test_phone_numbers_however_typed_are_redacted(typed):
    assert redact_text(f"Call {typed} after six.") == f"Call {REDACTED} after six."
    assert redact_text(typed) == REDACTED


@pytest.mark.parametrize(
    "typed",
    [
        "jane@example.com",
        "jane.doe+city@mail.example.co.uk",
        "J_Doe-99@sub-domain.example.org",
    ],
)
def test_email_addresses_are_redacted(typed):
    assert redact_text(f"Write to {typed}, please.") == f"Write to {REDACTED}, please."


def test_several_in_one_text():
    text = "Me: ann@example.com, 555-222-3333; him: bob@example.net (555) 444-5555."
    assert redact_text(text) == (f"Me: {REDACTED}, {REDACTED}; him: {REDACTED} {REDACTED}.")


@pytest.mark.parametrize(
    "text",
    [
        "1200 Oak Street",
        "The fence at 1200 Oak Street was built in 2026.",
        "Fine of $1,250.00 due 2026-03-15.",
        "Valuation 50000.00, 12 units, lot 4417.",
        "Parcel 123-456-78 and permit BLD-2026-000031.",
        "Case CE-2026-00012, opened 11/30/2026 at 09:45.",
        "Amount: $12345.67",
    ],
)
def test_ordinary_numbers_are_not_redacted(text):
    assert redact_text(text) == text


def test_empty_text():
    assert redact_text(None) == ""
    assert redact_text("") == ""
