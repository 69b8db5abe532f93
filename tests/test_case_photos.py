"""A code case's page shows every photo behind it: those sent with its reports and those the
inspector took. Inspection photos are for staff only."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from cityhall.roles import Role
from code_enforcement import services
from code_enforcement.constants import CaseStatus
from code_enforcement.models import CaseInspection, CodeCase, RequestPhoto
from code_enforcement.tests.factories import (
    jpeg_bytes,
    jpeg_upload,
    make_case,
    make_request,
    make_violation_type,
)
from tests.personas import make_resident, make_staff, verified_client

pytestmark = pytest.mark.django_db


def _scheduled_case(inspector):
    case = make_case(make_request(address="7 Photo Lane"), actor=inspector, inspector=inspector)
    services.case_schedule_inspection(
        case=case, actor=inspector, when=timezone.localdate(), inspector=inspector
    )
    return CodeCase.objects.get(pk=case.pk)


def _form(client, case, move):
    page = client.get(f"/console/code_enforcement/codecase/{case.pk}/change/")
    action = next(a for a in page.context["workflow_actions"] if a["move"].name == move)
    return {"once": action["once"], "seen": action["seen"]}


def _finding(client, case, photo) -> dict:
    """The "Record violation" form as an inspector fills it, with `photo` attached."""
    return {
        **_form(client, case, "violation"),
        "violation_type": make_violation_type().pk,
        "severity": "medium",
        "description": "Weeds over the fence.",
        "photo": photo,
    }


def test_the_photo_taken_with_a_violation_is_kept_with_the_inspection_and_shown(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inspector = make_staff(Role.CODE_INSPECTOR)
    case = _scheduled_case(inspector)
    client = verified_client(inspector)
    form = _finding(client, case, jpeg_upload("weeds.jpg"))

    client.post(f"/console/code_enforcement/codecase/{case.pk}/act/violation/", form)

    assert CodeCase.objects.get(pk=case.pk).status == CaseStatus.VIOLATION_CONFIRMED
    inspection = CaseInspection.objects.get(case=case)
    assert inspection.photo and inspection.completed_at is not None
    page = client.get(f"/console/code_enforcement/codecase/{case.pk}/change/").content.decode()
    url = f"/console/code_enforcement/codecase/inspection/{inspection.pk}/photo/"
    assert f'src="{url}"' in page
    assert "Photo from the initial inspection of" in page
    photo = client.get(url)
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert b"".join(photo.streaming_content).startswith(b"\xff\xd8")


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_recorded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inspector = make_staff(Role.CODE_INSPECTOR)
    case = _scheduled_case(inspector)
    client = verified_client(inspector)
    form = _finding(client, case, ContentFile(b"<html>not a photo</html>", name="weeds.jpg"))

    page = client.post(
        f"/console/code_enforcement/codecase/{case.pk}/act/violation/", form, follow=True
    ).content.decode()

    assert "not a photo we can read" in page
    assert CodeCase.objects.get(pk=case.pk).status == CaseStatus.INSPECTION_SCHEDULED
    assert not case.violations.exists()


def test_report_photos_show_on_the_case_and_inspection_photos_stay_with_staff(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inspector = make_staff(Role.CODE_INSPECTOR)
    case = _scheduled_case(inspector)
    request = case.requests.get()
    photo = RequestPhoto(request=request)
    photo.image.save("report.jpg", ContentFile(jpeg_bytes()), save=True)
    inspection = case.inspections.get()
    inspection.photo.save("finding.jpg", ContentFile(jpeg_bytes()), save=True)

    page = (
        verified_client(inspector)
        .get(f"/console/code_enforcement/codecase/{case.pk}/change/")
        .content.decode()
    )

    assert f"/requests/{request.public_id}/photos/{photo.pk}.jpg" in page
    assert f"From report {request.public_id}" in page
    url = f"/console/code_enforcement/codecase/inspection/{inspection.pk}/photo/"
    resident = make_resident("nosy@example.com")
    from django.test import Client

    outsider = Client()
    outsider.force_login(resident)
    assert outsider.get(url).status_code in (302, 403)
    assert Client().get(url).status_code == 302


def test_a_case_without_photos_says_so():
    inspector = make_staff(Role.CODE_INSPECTOR)
    case = _scheduled_case(inspector)

    page = (
        verified_client(inspector)
        .get(f"/console/code_enforcement/codecase/{case.pk}/change/")
        .content.decode()
    )

    assert "No photos: none came with the reports" in page
