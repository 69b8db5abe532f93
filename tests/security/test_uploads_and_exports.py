"""Uploads that cost us nothing to refuse, leftovers that do not pile up, and spreadsheets that
cannot be made to run a formula."""

from __future__ import annotations

import csv
import io
import os
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from cityhall.csvsafe import safe_cell
from code_enforcement import services
from code_enforcement.models import RequestPhoto
from code_enforcement.tests.factories import ensure_city, jpeg_upload, make_category
from permits import services as permit_services
from permits.models import Document
from permits.tests.factories import make_application, pdf_upload

pytestmark = pytest.mark.django_db


def _bomb() -> SimpleUploadedFile:
    """A PNG of 13,000 by 13,000 pixels that weighs a few kilobytes."""
    out = io.BytesIO()
    Image.new("1", (13_000, 13_000)).save(out, format="PNG", optimize=True)
    return SimpleUploadedFile("bomb.png", out.getvalue(), content_type="image/png")


# Building the bomb here (not in the code under test) is what makes Pillow warn.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_decompression_bomb_is_refused_before_it_is_decoded(monkeypatch):
    bomb = _bomb()
    assert bomb.size < 200_000
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self) or None)
    with pytest.raises(ValidationError, match="megapixels"):
        services.photo_clean(bomb)
    assert decoded == []  # the pixels were never unpacked


def test_starting_over_is_no_way_around_the_five_photo_limit(client: Client):
    ensure_city()
    category = make_category()
    client.post("/report/", {"category": category.pk})
    session = client.session
    token = session["report"]["token"]
    for _n in range(5):
        services.photo_add_to_draft(draft_token=token, uploaded=jpeg_upload())
    client.post("/report/start-over/")
    assert not RequestPhoto.objects.filter(draft_token=token).exists()


def test_photos_of_reports_never_sent_are_removed_after_a_day():
    old = services.photo_add_to_draft(draft_token="a" * 32, uploaded=jpeg_upload())[0]
    fresh = services.photo_add_to_draft(draft_token="b" * 32, uploaded=jpeg_upload())[0]
    RequestPhoto.objects.filter(pk=old.pk).update(uploaded_at=timezone.now() - timedelta(hours=25))
    path = old.image.path
    assert services.photos_remove_orphans() == 1
    assert list(RequestPhoto.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not os.path.exists(path)


def test_documents_of_drafts_withdrawn_unsubmitted_are_removed_after_a_day(alice):
    draft = make_application(alice)
    permit_services.document_add(application=draft, actor=alice, uploaded=pdf_upload())
    kept = make_application(alice)
    permit_services.document_add(application=kept, actor=alice, uploaded=pdf_upload())
    kept = permit_services.application_submit(application=kept, actor=alice)
    permit_services.application_withdraw(application=draft, actor=alice)
    assert permit_services.documents_remove_orphans() == 0  # not a day yet
    later = timezone.now() + timedelta(hours=25)
    assert permit_services.documents_remove_orphans(now=later) >= 1
    assert not Document.objects.filter(application=draft).exists()
    assert Document.objects.filter(application=kept).exists()


@pytest.mark.parametrize("formula", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"])
def test_a_formula_is_text_in_a_spreadsheet(formula):
    assert safe_cell(formula) == "'" + formula


def test_numbers_stay_numbers():
    for number in ("-121.300039", "42", "+7"):
        assert safe_cell(number) == number


def test_a_formula_typed_into_a_permit_is_inert_in_the_open_data(alice, client):
    make_application(
        alice, status="submitted", description='=HYPERLINK("http://evil.example","Click")'
    )
    body = b"".join(client.get("/open-data/permits.csv").streaming_content).decode()
    row = next(csv.DictReader(io.StringIO(body)))
    assert row["Description"].startswith("'=HYPERLINK")
