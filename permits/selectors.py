"""Reads for permits and licenses."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .constants import BLDS_STATUS, Kind, Status
from .models import Application, DocumentRequirement, PermitType, Question

PUBLIC_STATUSES = [s for s in Status if s != Status.DRAFT]


def permit_types_offered() -> QuerySet[PermitType]:
    return PermitType.objects.filter(is_active=True).prefetch_related(
        Prefetch("document_requirements", queryset=DocumentRequirement.objects.all()),
        Prefetch("questions", queryset=Question.objects.all()),
        "inspection_types",
    )


def drafts_for_resident(*, user) -> QuerySet[Application]:
    return Application.objects.filter(applicant=user, status=Status.DRAFT).select_related(
        "permit_type"
    )


def permits_for_resident(*, user) -> QuerySet[Application]:
    """Everything the resident applied for, newest first, drafts included."""
    return (
        Application.objects.filter(applicant=user)
        .exclude(status=Status.WITHDRAWN)
        .select_related("permit_type")
        .prefetch_related("renewals")
        .order_by("-updated_at")
    )


def answers_for_display(application: Application) -> list[tuple[str, str]]:
    shown = []
    for question in application.permit_type.questions.all():
        value = application.answers.get(question.key, "")
        if question.kind == "yesno":
            value = _("Yes") if value == "yes" else _("No") if value == "no" else ""
        elif question.kind == "choice":
            for choice in question.choices:
                if choice["value"] == value:
                    value = choice["es"] if _("Yes") == "Sí" else choice["en"]
        shown.append((question.t("label"), value))
    return shown


def next_step(application: Application) -> str:
    """What happens next, in plain words, for the status page."""
    status = application.status
    if status == Status.SUBMITTED:
        return _(
            "We received your application. A permit technician will check that it is complete."
        )
    if status == Status.IN_REVIEW:
        return _("Staff are reviewing your application. We will write to you if we need anything.")
    if status == Status.INFO_REQUESTED:
        return _("We need more information from you. Answer below so the review can continue.")
    if status == Status.APPROVED:
        if application.balance > 0:
            return _("Approved. Pay the fees due and we will issue it.")
        return _("Approved. We will issue it shortly.")
    if status == Status.ISSUED:
        if application.permit_type.inspection_types.exists():
            return _("Issued. Request each required inspection when the work is ready.")
        return _("Issued. Keep it for your records.")
    if status == Status.FINALED:
        return _("Complete: every required inspection passed.")
    if status == Status.EXPIRED:
        return _("Expired. Renew it or apply again.")
    if status == Status.DENIED:
        return _("Denied. The reason is below. You may apply again.")
    if status == Status.REVOKED:
        return _("Revoked. The reason is below.")
    return ""


def permits_public_search(*, query: str) -> QuerySet[Application]:
    """Public records: number or address. Never applicant contact data."""
    query = query.strip()
    return (
        Application.objects.filter(status__in=PUBLIC_STATUSES)
        .filter(Q(number__iexact=query) | Q(address__icontains=query))
        .select_related("permit_type")
        .only(
            "number",
            "status",
            "address",
            "submitted_at",
            "issued_at",
            "expires_at",
            "permit_type__code",
            "permit_type__name_en",
            "permit_type__name_es",
            "permit_type__kind",
        )
        .order_by("-submitted_at")
    )


BLDS_HEADER = [
    "PermitNum",
    "Description",
    "AppliedDate",
    "IssuedDate",
    "CompletedDate",
    "StatusCurrent",
    "StatusCurrentMapped",
    "OriginalAddress1",
    "OriginalCity",
    "OriginalState",
    "OriginalZip",
    "Jurisdiction",
    "PermitType",
    "PermitTypeMapped",
    "ExpiresDate",
    "Latitude",
    "Longitude",
    "Link",
]

BLDS_TYPE = {
    "BLD": "Building",
    "ELE": "Electrical",
    "PLM": "Plumbing",
    "FEN": "Fence",
    "SGN": "Sign",
}


def _date(value) -> str:
    """The city's calendar date (a timestamp at 8 pm in California is still that day)."""
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        return timezone.localtime(value).date().isoformat()
    return value.isoformat()


def blds_rows(*, site_url: str) -> Iterator[list[str]]:
    city = settings.CITY["name"].replace("City of ", "")
    yield BLDS_HEADER
    queryset = (
        Application.objects.filter(status__in=PUBLIC_STATUSES)
        .select_related("permit_type")
        .order_by("submitted_at", "pk")
    )
    for app in queryset.iterator(chunk_size=2000):
        permit_type = app.permit_type
        mapped = BLDS_TYPE.get(
            permit_type.code, "License" if permit_type.kind == Kind.LICENSE else "Other"
        )
        yield [
            app.number,
            app.description[:500],
            _date(app.submitted_at),
            _date(app.issued_at),
            _date(app.finaled_at),
            app.get_status_display(),
            BLDS_STATUS.get(app.status, ""),
            app.address,
            city,
            settings.CITY["state_code"],
            app.zip_code,
            settings.CITY["name"],
            permit_type.name_en,
            mapped,
            _date(app.expires_at),
            "" if app.latitude is None else f"{app.latitude:.6f}",
            "" if app.longitude is None else f"{app.longitude:.6f}",
            f"{site_url}/permits/search/?q={app.number}",
        ]
