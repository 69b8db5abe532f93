"""The resident pages, public records and open data, as a browser would reach them."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client

from cityhall.roles import Role
from permits.constants import MAX_UPLOAD_BYTES, FeeKind, Status
from permits.models import Application, Document, DocumentRequirement, TimelineEvent
from permits.selectors import BLDS_HEADER
from tests.personas import give_totp_device, make_resident, signed_in_client, verified_client

from .factories import (
    PNG_BYTES,
    factory_staff,
    fake_pdf_upload,
    make_application,
    make_permit_type,
    pdf_upload,
    png_upload,
)

pytestmark = pytest.mark.django_db

SECTIONS = ["", "applicant/", "project/", "questions/", "documents/", "review/"]


@pytest.fixture
def fence(db):
    """A renewable type that needs one document."""
    permit_type = make_permit_type("FEN", renewable=True)
    DocumentRequirement.objects.create(
        permit_type=permit_type, name_en="Site plan", name_es="Plano del sitio"
    )
    return permit_type


@pytest.fixture
def requirement(fence):
    return fence.document_requirements.get()


@pytest.fixture
def draft(alice, fence):
    return make_application(alice, fence, complete=False)


@pytest.fixture
def permit(alice, fence):
    """Alice's issued permit, with the site plan she uploaded."""
    return make_application(alice, fence, status="issued")


def _document_url(application: Application) -> str:
    document = application.documents.get()
    return f"/permits/files/{application.public_id}/{document.pk}/"


def _media_files(media_root) -> list:
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


# --- Access ---------------------------------------------------------------------------------------


def test_another_resident_cannot_see_or_change_a_draft(bob, draft):
    client = signed_in_client(bob)
    for section in SECTIONS:
        url = f"/permits/apply/{draft.public_id}/{section}"
        assert client.get(url).status_code == 404, url
        if section:  # the task list itself takes no POST (405)
            response = client.post(url, {"applicant_name": "Bob", "confirm": "on"})
            assert response.status_code == 404, url
    assert client.post(f"/permits/apply/{draft.public_id}/withdraw/").status_code == 404
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.applicant_name == "Alice Adams"


def test_another_resident_cannot_see_renew_or_withdraw_a_permit(bob, permit):
    client = signed_in_client(bob)
    assert client.get(f"/permits/{permit.number}/").status_code == 404
    assert client.post(f"/permits/{permit.number}/", {"action": "answer"}).status_code == 404
    assert client.get(f"/permits/{permit.number}/submitted/").status_code == 404
    assert client.get(_document_url(permit)).status_code == 404
    assert client.post(f"/permits/{permit.number}/renew/").status_code == 404
    assert client.post(f"/permits/apply/{permit.public_id}/withdraw/").status_code == 404
    assert not Application.objects.filter(renews=permit).exists()
    assert Application.objects.get(pk=permit.pk).status == Status.ISSUED


def test_another_resident_cannot_withdraw_a_submitted_application(alice, bob, fence):
    submitted = make_application(alice, fence, status="submitted")
    assert (
        signed_in_client(bob).post(f"/permits/apply/{submitted.public_id}/withdraw/").status_code
        == 404
    )
    assert Application.objects.get(pk=submitted.pk).status == Status.SUBMITTED


def test_the_holder_sees_her_permit_and_document(alice, permit):
    client = signed_in_client(alice)
    page = client.get(f"/permits/{permit.number}/")
    assert page.status_code == 200
    assert permit.number in page.content.decode()
    response = client.get(_document_url(permit))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_anonymous_visitors_are_sent_to_sign_in(client, draft, permit):
    urls = [f"/permits/apply/{draft.public_id}/{section}" for section in SECTIONS] + [
        f"/permits/{permit.number}/",
        f"/permits/{permit.number}/submitted/",
        _document_url(permit),
        "/permits/apply/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url
    for url in (f"/permits/{permit.number}/renew/", f"/permits/apply/{draft.public_id}/withdraw/"):
        response = client.post(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url
    assert not Application.objects.filter(renews=permit).exists()
    assert Application.objects.get(pk=draft.pk).status == Status.DRAFT


def test_staff_download_documents_only_with_a_verified_device(permit):
    technician = factory_staff(Role.PERMIT_TECHNICIAN)
    url = _document_url(permit)
    give_totp_device(technician)
    assert signed_in_client(technician).get(url).status_code == 404
    response = verified_client(technician).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_verified_staff_without_permits_access_cannot_download(permit):
    officer = factory_staff(Role.COMMUNICATIONS_OFFICER)
    assert verified_client(officer).get(_document_url(permit)).status_code == 404


def test_a_document_of_another_application_is_not_found_under_this_one(alice, permit, fence):
    other = make_application(alice, fence, status="submitted")
    document = other.documents.get()
    client = signed_in_client(alice)
    assert client.get(f"/permits/files/{permit.public_id}/{document.pk}/").status_code == 404


# --- Uploads --------------------------------------------------------------------------------------


def _upload(client, draft, upload, requirement=None):
    """Upload into a slot of the documents page: a required document's, or "other"."""
    slot = str(requirement.pk) if requirement is not None else "other"
    return client.post(
        f"/permits/apply/{draft.public_id}/documents/",
        {"slot": slot, f"slot-{slot}-file": upload},
    )


def test_a_file_that_only_claims_to_be_a_pdf_is_refused(alice, draft, requirement, settings):
    response = _upload(signed_in_client(alice), draft, fake_pdf_upload(), requirement)
    assert response.status_code == 200
    page = response.content.decode()
    assert "The file must be a PDF, JPEG or PNG." in page
    assert not Document.objects.exists()
    assert _media_files(settings.MEDIA_ROOT) == []


def test_a_file_over_10_mb_is_refused(alice, draft, requirement, settings):
    too_big = png_upload("big.png", size=MAX_UPLOAD_BYTES + 1)
    assert too_big.size == 10 * 1024 * 1024 + 1
    response = _upload(signed_in_client(alice), draft, too_big, requirement)
    assert response.status_code == 200
    assert "The file is too large. Files can be up to 10 MB." in response.content.decode()
    assert not Document.objects.exists()
    assert _media_files(settings.MEDIA_ROOT) == []


def test_a_file_of_exactly_10_mb_is_accepted(alice, draft, requirement):
    response = _upload(signed_in_client(alice), draft, png_upload(size=MAX_UPLOAD_BYTES))
    assert response.status_code == 302
    assert Document.objects.get().size == MAX_UPLOAD_BYTES


def test_a_png_is_stored(alice, draft, requirement, settings):
    client = signed_in_client(alice)
    response = _upload(client, draft, png_upload("Porch photo.png"), requirement)
    assert response.status_code == 302
    assert response["Location"] == f"/permits/apply/{draft.public_id}/documents/"
    document = Document.objects.get()
    assert document.application == draft and document.requirement == requirement
    assert document.content_type == "image/png"
    assert document.original_name == "Porch photo.png"
    assert document.uploaded_by == alice
    assert document.file.name.endswith(".png")
    stored = _media_files(settings.MEDIA_ROOT)
    assert len(stored) == 1 and stored[0].read_bytes() == PNG_BYTES
    download = client.get(_document_url(draft))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG_BYTES
    # The task list now counts the document as uploaded.
    page = client.get(f"/permits/apply/{draft.public_id}/").content.decode()
    assert "Upload: Site plan" not in page


def test_each_required_document_has_its_own_slot_which_decides_the_type(alice, draft, requirement):
    client = signed_in_client(alice)
    page = client.get(f"/permits/apply/{draft.public_id}/documents/").content.decode()
    assert f'<h2 class="margin-top-0" id="slot-{requirement.pk}-heading">Site plan</h2>' in page
    assert "Other documents (optional)" in page
    assert "Which document is this?" not in page  # nobody has to say; the slot knows

    _upload(client, draft, pdf_upload("plan.pdf"), requirement)
    _upload(client, draft, png_upload("porch.png"))
    site_plan, other = draft.documents.order_by("pk")
    assert (site_plan.original_name, site_plan.requirement) == ("plan.pdf", requirement)
    assert (other.original_name, other.requirement) == ("porch.png", None)
    response = client.get(f"/permits/apply/{draft.public_id}/documents/")
    slots = {slot["key"]: slot for slot in response.context["slots"]}
    assert [d.original_name for d in slots[str(requirement.pk)]["files"]] == ["plan.pdf"]
    assert [d.original_name for d in slots["other"]["files"]] == ["porch.png"]
    # A slot for a document of another permit type is not a way in.
    foreign = DocumentRequirement.objects.create(
        permit_type=make_permit_type("DEM"), name_en="Other plan", name_es="Otro plano"
    )
    assert _upload(client, draft, pdf_upload(), foreign).status_code == 404


def test_a_failed_upload_says_why_in_its_slot_and_the_other_slots_keep_their_files(
    alice, draft, requirement
):
    client = signed_in_client(alice)
    _upload(client, draft, png_upload("porch.png"))
    response = _upload(client, draft, fake_pdf_upload("plan.pdf"), requirement)
    assert response.status_code == 200
    slots = {slot["key"]: slot for slot in response.context["slots"]}
    assert slots[str(requirement.pk)]["form"].errors["file"] == [
        "The file must be a PDF, JPEG or PNG."
    ]
    assert not slots["other"]["form"].is_bound
    assert [d.original_name for d in slots["other"]["files"]] == ["porch.png"]
    page = response.content.decode()
    assert "<title>Error: Documents" in page
    assert page.count("The file must be a PDF, JPEG or PNG.") >= 1


def test_an_empty_upload_asks_for_a_file(alice, draft, requirement):
    response = signed_in_client(alice).post(
        f"/permits/apply/{draft.public_id}/documents/", {"slot": str(requirement.pk)}
    )
    assert response.status_code == 200
    assert "Choose a file to upload." in response.content.decode()
    assert not Document.objects.exists()


# --- Submitting from the review page --------------------------------------------------------------


def test_an_incomplete_application_cannot_be_submitted(alice, draft):
    client = signed_in_client(alice)
    response = client.post(f"/permits/apply/{draft.public_id}/review/", {"confirm": "on"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Before you can submit" in page
    for missing in (
        "Enter the property or business address.",
        "Describe the project or business.",
        "Upload: Site plan",
    ):
        assert missing in page
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.number is None
    task_list = client.get(f"/permits/apply/{draft.public_id}/").content.decode()
    # Applicant and property, project details and documents are each incomplete.
    assert task_list.count(">Incomplete<") == 3
    assert "Enter the property or business address." in task_list


def test_a_complete_application_is_submitted_from_the_review_page(alice, fence):
    application = make_application(alice, fence)
    client = signed_in_client(alice)
    task_list = client.get(f"/permits/apply/{application.public_id}/").content.decode()
    assert ">Incomplete<" not in task_list
    response = client.post(f"/permits/apply/{application.public_id}/review/", {"confirm": "on"})
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    assert response.status_code == 302
    assert response["Location"] == f"/permits/{application.number}/submitted/"
    # It is no longer a draft: the task list is gone.
    assert client.get(f"/permits/apply/{application.public_id}/").status_code == 404


def test_deleting_a_draft_asks_first_and_then_says_it_was_deleted(alice, draft):
    """The task list's "Delete this draft" link opens a page that says what happens; only its
    button deletes."""
    client = signed_in_client(alice)
    url = f"/permits/apply/{draft.public_id}/withdraw/"
    assert url in client.get(f"/permits/apply/{draft.public_id}/").content.decode()

    page = client.get(url).content.decode()
    assert "Delete this draft?" in page and "Nothing was sent to the city yet." in page
    assert client.post(url).status_code == 200  # no confirmation: nothing happens
    assert Application.objects.get(pk=draft.pk).status == Status.DRAFT

    response = client.post(url, {"confirmed": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == "/me/"
    assert "The draft was deleted." in response.content.decode()
    assert "withdrawn" not in response.content.decode()
    assert Application.objects.get(pk=draft.pk).status == Status.WITHDRAWN


def test_withdrawing_a_submitted_application_asks_first_in_spanish(alice, fence):
    application = make_application(alice, fence, status="submitted")
    client = signed_in_client(alice)
    url = f"/es/permits/apply/{application.public_id}/withdraw/"

    page = client.get(url).content.decode()
    assert "¿Retirar esta solicitud?" in page
    assert f"La solicitud {application.number} (Cerca) se detendrá" in page

    response = client.post(url, {"confirmed": "yes"}, follow=True)
    assert f"Se retiró la solicitud {application.number}." in response.content.decode()
    assert Application.objects.get(pk=application.pk).status == Status.WITHDRAWN


def test_another_resident_cannot_withdraw(alice, bob, draft):
    response = signed_in_client(bob).post(
        f"/permits/apply/{draft.public_id}/withdraw/", {"confirmed": "yes"}
    )

    assert response.status_code == 404
    assert Application.objects.get(pk=draft.pk).status == Status.DRAFT


def test_answering_twice_does_not_break_the_page(alice, fence):
    application = make_application(alice, fence, status="info_requested")
    client = signed_in_client(alice)
    url = f"/permits/{application.number}/"
    data = {"action": "answer", "info-answer": "The survey is attached."}
    first = client.post(url, data)
    assert first.status_code == 302
    assert Application.objects.get(pk=application.pk).status == Status.IN_REVIEW
    # The same form sent again (a double click, or the back button): no server error.
    again = client.post(url, data)
    assert again.status_code in (200, 302)
    assert Application.objects.get(pk=application.pk).status == Status.IN_REVIEW


# --- Renewing from the permit page ----------------------------------------------------------------


def test_renew_from_the_permit_page(alice, permit):
    client = signed_in_client(alice)
    response = client.post(f"/permits/{permit.number}/renew/")
    renewal = Application.objects.get(renews=permit)
    assert response.status_code == 302
    assert response["Location"] == f"/permits/apply/{renewal.public_id}/"
    assert client.post(f"/permits/{permit.number}/renew/")["Location"] == response["Location"]
    assert Application.objects.filter(renews=permit).count() == 1


# --- Public records -------------------------------------------------------------------------------


@pytest.fixture
def public_records(fence):
    """Permits of applicants whose names, emails and phones must never be shown."""
    zebulon = make_resident(
        "zebulon.quartermaine@example.com",
        first_name="Zebulon",
        last_name="Quartermaine",
        phone="+15415550199",
    )
    ottoline = make_resident(
        "ottoline.fairweather@example.com",
        first_name="Ottoline",
        last_name="Fairweather",
        phone="+15415550123",
    )
    issued = make_application(zebulon, fence, status="issued", address="12 Quince Lane")
    submitted = make_application(ottoline, fence, status="submitted", address="14 Quince Lane")
    denied = make_application(ottoline, fence, status="denied", address="3 Birch Court")
    draft = make_application(zebulon, fence, address="77 Quince Lane")
    return {"issued": issued, "submitted": submitted, "denied": denied, "draft": draft}


PRIVATE = [
    "Zebulon",
    "Quartermaine",
    "zebulon.quartermaine@example.com",
    "Ottoline",
    "Fairweather",
    "ottoline.fairweather@example.com",
    "5550199",
    "555-0199",
    "5550123",
    "555-0123",
]


def _assert_no_private_data(text: str) -> None:
    for secret in PRIVATE:
        assert secret not in text, f"{secret!r} is shown publicly"


def test_public_search_by_number(client, public_records):
    issued = public_records["issued"]
    for query in (issued.number, issued.number.lower()):
        response = client.get("/permits/search/", {"q": query})
        page = response.content.decode()
        assert response.status_code == 200
        assert issued.number in page and "12 Quince Lane" in page
        assert public_records["submitted"].number not in page
        _assert_no_private_data(page)


def test_public_search_by_address_never_shows_drafts_or_people(client, public_records):
    page = client.get("/permits/search/", {"q": "quince lane"}).content.decode()
    assert public_records["issued"].number in page
    assert public_records["submitted"].number in page
    assert "12 Quince Lane" in page and "14 Quince Lane" in page
    assert "77 Quince Lane" not in page  # the draft
    assert public_records["denied"].number not in page
    _assert_no_private_data(page)
    only_draft = client.get("/permits/search/", {"q": "77 Quince"}).content.decode()
    assert "No permits match" in only_draft


def test_public_search_does_not_search_people(client, public_records):
    for query in ("Quartermaine", "zebulon.quartermaine@example.com", "5550199"):
        page = client.get("/permits/search/", {"q": query}).content.decode()
        assert "No permits match" in page
        assert public_records["issued"].number not in page


def _csv_rows(response) -> list[list[str]]:
    assert response.streaming is True
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body)))


def test_open_data_csv(client, public_records):
    response = client.get("/open-data/permits.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv_rows(response)
    assert rows[0] == BLDS_HEADER
    body = rows[1:]
    assert all(len(row) == len(BLDS_HEADER) for row in body)
    numbers = [row[0] for row in body]
    expected = Application.objects.exclude(status=Status.DRAFT).values_list("number", flat=True)
    assert sorted(numbers) == sorted(expected)
    assert len(numbers) == 3  # issued, submitted, denied; never the draft
    assert "77 Quince Lane" not in {row[BLDS_HEADER.index("OriginalAddress1")] for row in body}
    _assert_no_private_data("\n".join(",".join(row) for row in rows))
    issued = dict(
        zip(BLDS_HEADER, body[numbers.index(public_records["issued"].number)], strict=True)
    )
    assert issued["StatusCurrentMapped"] == "Permit Issued"
    denied = dict(
        zip(BLDS_HEADER, body[numbers.index(public_records["denied"].number)], strict=True)
    )
    assert denied["StatusCurrentMapped"] == "Permit Cancelled"
    assert denied["StatusCurrent"] == "Denied"
    assert issued["OriginalAddress1"] == "12 Quince Lane"
    assert issued["OriginalState"] == settings.CITY["state_code"]
    assert issued["ExpiresDate"] == public_records["issued"].expires_at.isoformat()


def test_open_data_dates_are_the_citys_dates(client, alice, fence):
    """An application submitted at 8 pm in the city was applied for that day, not the next
    (UTC) day."""
    application = make_application(alice, fence, status="submitted")
    evening = datetime(2026, 3, 10, 20, 0, tzinfo=ZoneInfo(settings.TIME_ZONE))
    Application.objects.filter(pk=application.pk).update(submitted_at=evening)
    rows = _csv_rows(client.get("/open-data/permits.csv"))
    row = dict(zip(BLDS_HEADER, rows[1], strict=True))
    assert row["AppliedDate"] == "2026-03-10"


# --- The console ----------------------------------------------------------------------------------


def test_console_final_action_finals_the_permit(admin_user, permit):
    """The console offers "Final" for an issued permit (moves_for); pressing it finals it."""
    client = verified_client(admin_user)
    change = client.get(f"/console/permits/application/{permit.pk}/change/")
    assert change.status_code == 200
    offered = [action["move"].name for action in change.context["workflow_actions"]]
    assert "final" in offered and "Final (all work complete)" in change.content.decode()
    response = client.post(f"/console/permits/application/{permit.pk}/act/final/")
    assert response.status_code == 302
    assert TimelineEvent.objects.filter(application=permit, status="finaled").exists()
    assert Application.objects.get(pk=permit.pk).status == Status.FINALED


# --- Query counts ---------------------------------------------------------------------------------


def _mixed_permits(applicant, permit_type, count, start=0):
    statuses = ["draft", "submitted", "issued"]
    for n in range(start, start + count):
        make_application(
            applicant, permit_type, status=statuses[n % 3], address=f"{n + 1} Maple Avenue"
        )


# Measured with 5 and with 15-30 rows: the same either way.
ME_QUERIES = 6  # user, subscription, messages, permits (+ renewals prefetch), reports
SEARCH_QUERIES = 2  # count, page
# The queue: its filters (status, work, reviewer, neighborhood, type) and remembering the page
# for previous/next (one session write).
CONSOLE_QUERIES = 13


def test_my_city_hall_query_count_does_not_grow(alice, fence, django_assert_max_num_queries):
    client = signed_in_client(alice)
    _mixed_permits(alice, fence, 5)
    client.get("/me/")
    with django_assert_max_num_queries(ME_QUERIES):
        assert client.get("/me/").status_code == 200
    _mixed_permits(alice, fence, 10, start=5)
    assert Application.objects.filter(applicant=alice).count() == 15
    with django_assert_max_num_queries(ME_QUERIES):
        page = client.get("/me/")
    assert page.status_code == 200
    numbers = Application.objects.filter(applicant=alice).exclude(number=None)
    assert numbers.count() == 10
    for number in numbers.values_list("number", flat=True):
        assert number in page.content.decode()


def test_public_search_query_count_does_not_grow(alice, fence, django_assert_max_num_queries):
    client = Client()
    for n in range(5):
        make_application(alice, fence, status="submitted", address=f"{n + 1} Maple Avenue")
    client.get("/permits/search/", {"q": "Maple"})
    with django_assert_max_num_queries(SEARCH_QUERIES):
        assert client.get("/permits/search/", {"q": "Maple"}).status_code == 200
    for n in range(5, 30):
        make_application(alice, fence, status="submitted", address=f"{n + 1} Maple Avenue")
    with django_assert_max_num_queries(SEARCH_QUERIES):
        page = client.get("/permits/search/", {"q": "Maple"})
    assert page.status_code == 200
    assert page.context["results"].paginator.count == 30


def test_console_changelist_query_count_does_not_grow(
    admin_user, alice, fence, django_assert_max_num_queries
):
    client = verified_client(admin_user)
    _mixed_permits(alice, fence, 5)
    listing = "/console/permits/application/?state=all"  # history included, not just open work
    client.get(listing)
    with django_assert_max_num_queries(CONSOLE_QUERIES):
        assert client.get(listing).status_code == 200
    _mixed_permits(alice, fence, 25, start=5)
    with django_assert_max_num_queries(CONSOLE_QUERIES):
        page = client.get(listing)
    assert page.status_code == 200
    assert page.context["cl"].result_count == 20  # the 30 minus the drafts


@pytest.mark.parametrize(
    ("section", "english", "spanish"),
    [
        ("applicant", "Applicant and property", "Solicitante y propiedad"),
        ("project", "Project details", "Detalles del proyecto"),
    ],
)
def test_each_section_page_is_titled_by_its_name(alice, draft, section, english, spanish):
    client = signed_in_client(alice)
    for prefix, title in (("", english), ("/es", spanish)):
        page = client.get(f"{prefix}/permits/apply/{draft.public_id}/{section}/").content.decode()
        assert f'<h1 class="margin-top-1">{title}</h1>' in page
        assert f"<title>{title} |" in page
        assert "section_form" not in page


def test_an_empty_applicant_section_is_not_saved_and_says_what_is_needed(alice, draft):
    client = signed_in_client(alice)
    url = f"/es/permits/apply/{draft.public_id}/applicant/"

    page = client.get(url).content.decode()
    # Only the optional ones are marked: phone, business name, ZIP code and neighborhood.
    assert page.count("(opcional)") == 4
    response = client.post(url, {"applicant_name": "", "address": "", "zip_code": "95000"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Escriba el nombre del solicitante." in page
    assert "Escriba la dirección de la propiedad o del negocio." in page
    assert "Guardado." not in page
    assert 'value="95000"' in page  # what was typed stays


# --- Check your answers ---------------------------------------------------------------------------


@pytest.fixture
def fence_by_the_foot(db):
    permit_type = make_permit_type(
        "FNC",
        fee_kind=FeeKind.PER_UNIT,
        fee_amount=Decimal("1.50"),
        minimum_fee=Decimal("75.00"),
        unit_en="linear feet",
        unit_es="pies lineales",
        unit_one_en="linear foot",
        unit_one_es="pie lineal",
    )
    DocumentRequirement.objects.create(
        permit_type=permit_type, name_en="Site plan", name_es="Plano del sitio"
    )
    return permit_type


def test_the_review_page_shows_each_part_as_given_with_a_change_link(alice, fence_by_the_foot):
    application = make_application(alice, fence_by_the_foot, complete=True)
    Application.objects.filter(pk=application.pk).update(units=Decimal("40"))
    client = signed_in_client(alice)
    review = f"/permits/apply/{application.public_id}/review/"
    response = client.get(review)
    sections = {s["key"]: s for s in response.context["sections"]}
    assert list(sections) == ["applicant", "project", "documents"]
    for key in ("applicant", "project", "documents"):
        assert sections[key]["change_url"] == (
            f"/permits/apply/{application.public_id}/{key}/?from=review"
        )
    assert ("Number of linear feet", "40 linear feet") in sections["project"]["rows"]
    names = application.documents.values_list("original_name", flat=True)
    assert sections["documents"]["rows"] == [("Site plan", "\n".join(names))]
    page = response.content.decode()
    assert 'Change<span class="usa-sr-only"> project details</span>' in page
    assert "40 linear feet at $1.50 per linear foot, at least $75.00" in page

    # "Change" brings the resident back here once saved.
    project = client.get(sections["project"]["change_url"]).content.decode()
    assert "Back to check your answers" in project
    response = client.post(
        sections["project"]["change_url"], {"description": "A taller fence", "units": "1"}
    )
    assert response.status_code == 302 and response["Location"] == review
    rows = dict(client.get(review).context["sections"][1]["rows"])
    assert rows["Number of linear feet"] == "1 linear foot"


def test_units_read_as_asked_in_spanish(alice, fence_by_the_foot):
    application = make_application(alice, fence_by_the_foot, complete=True)
    Application.objects.filter(pk=application.pk).update(units=Decimal("2.50"))
    page = (
        signed_in_client(alice)
        .get(f"/es/permits/apply/{application.public_id}/review/")
        .content.decode()
    )
    assert "2.5 pies lineales" in page
    assert "por pie lineal" in page
    index = signed_in_client(alice).get("/es/permits/").content.decode()
    assert "$1.50 por pie lineal" in index
    assert "pies lineales" not in index
