"""Small helpers that build valid permits objects for tests.

Keep the signatures stable: other test modules import these. Applications only move through
the services (the same calls the views and the console make); nothing here writes a status.
"""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from cityhall.models import User
from cityhall.roles import Role
from permits import services
from permits.constants import FeeKind, PaymentMethod, QuestionKind, Status
from permits.models import Application, InspectionType, PermitType
from permits.workflow import APPLICATIONS
from tests.personas import make_staff

# --- Types ----------------------------------------------------------------------------------------

_TYPE_NAMES = {
    "BLD": ("Residential addition", "Ampliación residencial"),
    "ELE": ("Electrical", "Eléctrico"),
    "PLM": ("Plumbing", "Plomería"),
    "FEN": ("Fence", "Cerca"),
    "SGN": ("Sign", "Letrero"),
}


def make_permit_type(code: str = "BLD", **kw) -> PermitType:
    """A valid bilingual, active type with a flat fee of $100.00 (unless overridden).

    `inspection_types=[...]` sets the required inspections; nothing else is created.
    """
    inspection_types = kw.pop("inspection_types", None)
    name_en, name_es = _TYPE_NAMES.get(code, (f"{code.title()} permit", f"Permiso {code}"))
    fields = {
        "name_en": name_en,
        "name_es": name_es,
        "description_en": f"Apply for a {name_en.lower()} permit.",
        "description_es": f"Solicite un permiso: {name_es.lower()}.",
        "fee_kind": FeeKind.FLAT,
        "fee_amount": Decimal("100.00"),
    }
    fields.update(kw)
    # A building permit unless it is a licence (or told otherwise): published in BLDS.
    fields.setdefault("blds_type", "" if fields.get("kind") == "license" else "Building")
    permit_type = PermitType.objects.create(code=code, **fields)
    if inspection_types:
        permit_type.inspection_types.set(inspection_types)
    return permit_type


def make_inspection_type(code: str = "final", **kw) -> InspectionType:
    fields = {"name_en": code.replace("-", " ").capitalize(), "name_es": f"Inspección {code}"}
    fields.update(kw)
    return InspectionType.objects.create(code=code, **fields)


# --- Staff the factories act as -------------------------------------------------------------------


def factory_staff(role: Role) -> User:
    """One staff member per role for the factories' own moves (own emails: they never collide
    with `make_staff(role)` or the `staff_user` fixture)."""
    email = f"factory.{role.value.replace('_', '.')}@riverbend.example"
    return User.objects.filter(email=email).first() or make_staff(role, email)


# --- Files ----------------------------------------------------------------------------------------

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def _png_bytes() -> bytes:
    """A real 1x1 white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG_BYTES = _png_bytes()


def _padded(head: bytes, size: int | None) -> bytes:
    if size is None or size <= len(head):
        return head if size is None else head[:size]
    return head + b"\x00" * (size - len(head))


def pdf_upload(name: str = "plan.pdf", size: int | None = None) -> SimpleUploadedFile:
    """A PDF (real %PDF- magic); `size` pads it to exactly that many bytes."""
    return SimpleUploadedFile(name, _padded(PDF_BYTES, size), content_type="application/pdf")


def png_upload(name: str = "photo.png", size: int | None = None) -> SimpleUploadedFile:
    """A PNG (real PNG signature); `size` pads it to exactly that many bytes."""
    return SimpleUploadedFile(name, _padded(PNG_BYTES, size), content_type="image/png")


def fake_pdf_upload(name: str = "plan.pdf") -> SimpleUploadedFile:
    """Named and labelled as a PDF, but the bytes are an HTML page."""
    return SimpleUploadedFile(
        name, b"<html><script>alert(1)</script></html>", content_type="application/pdf"
    )


# --- Applications ---------------------------------------------------------------------------------

# The order the services move an application along; later states build on earlier ones.
_PATH = {
    Status.DRAFT: None,
    Status.SUBMITTED: Status.DRAFT,
    Status.IN_REVIEW: Status.SUBMITTED,
    Status.INFO_REQUESTED: Status.IN_REVIEW,
    Status.APPROVED: Status.IN_REVIEW,
    Status.DENIED: Status.IN_REVIEW,
    Status.ISSUED: Status.APPROVED,
    Status.FINALED: Status.ISSUED,
    Status.REVOKED: Status.ISSUED,
    Status.EXPIRED: Status.ISSUED,
    Status.WITHDRAWN: Status.SUBMITTED,
}


def _answer_for(question) -> str:
    if question.kind == QuestionKind.NUMBER:
        return "12"
    if question.kind == QuestionKind.DATE:
        return "2030-01-15"
    if question.kind == QuestionKind.CHOICE:
        return question.choices[0]["value"] if question.choices else "yes"
    if question.kind == QuestionKind.YES_NO:
        return "yes"
    return "A test answer"


def _complete_fields(application: Application) -> dict:
    permit_type = application.permit_type
    fields = {
        "applicant_name": application.applicant_name.strip() or "Test Applicant",
        "address": application.address.strip() or "120 Oak Street",
        "description": application.description.strip() or "Replace the back fence.",
    }
    if permit_type.needs_valuation and not application.valuation:
        fields["valuation"] = Decimal("50000.00")
    if permit_type.needs_units and not application.units:
        fields["units"] = Decimal("10")
    answers = dict(application.answers)
    for question in permit_type.questions.all():
        if question.required and answers.get(question.key) in (None, ""):
            answers[question.key] = _answer_for(question)
    fields["answers"] = answers
    return fields


def _move_to(application: Application, status: str) -> Application:
    if status == Status.DRAFT:
        return application
    application = _move_to(application, _PATH[status])
    applicant = application.applicant
    technician = factory_staff(Role.PERMIT_TECHNICIAN)
    reviewer = factory_staff(Role.PLAN_REVIEWER)
    if status == Status.SUBMITTED:
        return services.application_submit(application=application, actor=applicant)
    if status == Status.IN_REVIEW:
        return services.application_accept(application=application, actor=technician)
    if status == Status.INFO_REQUESTED:
        return services.application_request_info(
            application=application, actor=technician, message="Please send the site plan."
        )
    if status == Status.APPROVED:
        return services.application_approve(application=application, actor=reviewer)
    if status == Status.DENIED:
        return services.application_deny(
            application=application, actor=reviewer, reason="The lot is in a flood zone."
        )
    if status == Status.ISSUED:
        application.refresh_from_db()
        if application.balance > 0:
            services.payment_record(
                application=application,
                actor=technician,
                amount=application.balance,
                method=PaymentMethod.CASH,
                reference="R-1",
            )
        return services.application_issue(application=application, actor=technician)
    if status == Status.REVOKED:
        return services.application_revoke(
            application=application, actor=reviewer, reason="Work outside the approved plans."
        )
    if status == Status.WITHDRAWN:
        return services.application_withdraw(application=application, actor=applicant)
    if status == Status.FINALED:
        required = list(application.permit_type.inspection_types.all())
        if not required:
            raise ValueError("status='finaled' needs a permit type with required inspections")
        for inspection_type in required:
            inspection = services.inspection_request(
                application=application,
                actor=applicant,
                inspection_type=inspection_type,
                preferred_dates="Any weekday morning",
            )
            services.inspection_schedule(
                inspection=inspection,
                actor=technician,
                when=application.issued_at.date() + timedelta(days=3),
                inspector=technician,
            )
            services.inspection_record(
                inspection=inspection, actor=technician, result="passed", notes="All good."
            )
        return Application.objects.get(pk=application.pk)
    if status == Status.EXPIRED:
        # What the daily expiry job does, for this one permit only (the job itself would also
        # expire every other permit past its date).
        return APPLICATIONS.transition(application, "expire", actor=None)
    raise ValueError(f"unknown status {status!r}")


def make_application(
    applicant, permit_type: PermitType | None = None, *, status=None, complete=True, **kw
) -> Application:
    """A draft for `applicant`, started through the services.

    complete=True fills everything `application_missing` checks (uploading a PDF for each
    required document) and confirms the declaration, so it can be submitted. `kw` sets draft
    fields (address=..., valuation=..., answers=...). `status` ("submitted", "in_review",
    "info_requested", "approved", "denied", "issued", "finaled", "revoked", "expired",
    "withdrawn") drives it there through the services, acting as the applicant, a permit
    technician and a plan reviewer. Without `permit_type`, the "BLD" type is used (created
    with `make_permit_type` if missing).
    """
    if permit_type is None:
        permit_type = PermitType.objects.filter(code="BLD").first() or make_permit_type("BLD")
    application = services.application_start(applicant=applicant, permit_type=permit_type)
    if kw:
        application = services.application_update(
            application=application, actor=applicant, fields=kw
        )
    if complete:
        application = services.application_update(
            application=application, actor=applicant, fields=_complete_fields(application)
        )
        uploaded = set(application.documents.values_list("requirement_id", flat=True))
        for requirement in permit_type.document_requirements.filter(required=True):
            if requirement.pk not in uploaded:
                services.document_add(
                    application=application,
                    actor=applicant,
                    uploaded=pdf_upload(f"requirement-{requirement.pk}.pdf"),
                    requirement=requirement,
                )
        application = services.application_declare(application=application, actor=applicant)
    if status is not None and status != Status.DRAFT:
        if not complete:
            raise ValueError("only a complete application can leave the draft state")
        application = _move_to(application, Status(status))
    return Application.objects.select_related("permit_type", "applicant").get(pk=application.pk)
