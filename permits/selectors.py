"""Reads for permits and licenses."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cityhall.constants import EventKind
from cityhall.phones import display_phone

from .constants import (
    BLDS_DEFAULT_TRADE,
    BLDS_INSPECTION_PHASE,
    BLDS_STATUS,
    BLDS_TRADE,
    OPEN_STATUSES,
    Status,
)
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


def review_sections(application: Application) -> list[dict]:
    """ "Check your answers": each part of the application as the resident gave it, in the words
    it was asked in (quantities with their unit, files by name and the document each is), with
    the page that changes it. The "Change" pages bring the resident back here after saving."""
    permit_type = application.permit_type
    public_id = application.public_id

    def change(name: str) -> str:
        return reverse(f"permits:section_{name}", args=[public_id]) + "?from=review"

    applicant = [
        (_("Full name of the applicant"), application.applicant_name),
        (_("Phone number"), display_phone(application.applicant_phone)),
    ]
    if application.business_name:
        applicant.append((_("Business name"), application.business_name))
    address = " ".join(part for part in (application.address, application.zip_code) if part)
    applicant.append((_("Address of the property or business"), address))
    if application.neighborhood_id:
        applicant.append((_("Neighborhood"), application.neighborhood.name))

    project = [(_("Describe the project or business"), application.description)]
    if permit_type.needs_valuation:
        value = f"${application.valuation:,.2f}" if application.valuation is not None else ""
        project.append((_("Project value in dollars"), value))
    if permit_type.needs_units:
        unit = permit_type.t("unit")
        label = _("Number of %(unit)s") % {"unit": unit} if unit else _("Number of units")
        project.append((label, permit_type.quantity(application.units)))
    if permit_type.blds_type:
        if application.total_sq_ft:
            project.append(
                (
                    _("Square feet of the work"),
                    _("%(number)s square feet") % {"number": f"{application.total_sq_ft:,}"},
                )
            )
        for label, value in (
            (_("Homes or apartments in the building"), application.housing_units),
            (_("Assessor's parcel number"), application.parcel_number),
            (_("Contractor's company name"), application.contractor_name),
            (_("Contractor's state license number"), application.contractor_license),
        ):
            if value:
                project.append((label, str(value)))

    sections = [
        {
            "key": "applicant",
            "title": _("Applicant and property"),
            "change_url": change("applicant"),
            "rows": applicant,
        },
        {
            "key": "project",
            "title": _("Project details"),
            "change_url": change("project"),
            "rows": project,
        },
    ]
    if permit_type.questions.all():
        sections.append(
            {
                "key": "questions",
                "title": _("Questions about your project"),
                "change_url": change("questions"),
                "rows": answers_for_display(application),
            }
        )
    documents = list(application.documents.select_related("requirement"))
    files = []
    for requirement in permit_type.document_requirements.all():
        names = [d.original_name for d in documents if d.requirement_id == requirement.pk]
        files.append((requirement.t("name"), "\n".join(names)))
    others = [d.original_name for d in documents if d.requirement_id is None]
    if others:
        files.append((_("Other documents"), "\n".join(others)))
    sections.append(
        {
            "key": "documents",
            "title": _("Documents"),
            "change_url": change("documents"),
            "rows": files,
            "empty": _("No files uploaded."),
        }
    )
    return sections


def fee_basis(application: Application) -> str:
    """How the fee was worked out, in words: "40 linear feet at $1.50 per linear foot"."""
    permit_type = application.permit_type
    if permit_type.needs_units and application.units:
        basis = _("%(quantity)s at %(amount)s per %(unit)s") % {
            "quantity": permit_type.quantity(application.units),
            "amount": f"${permit_type.fee_amount:,.2f}",
            "unit": permit_type.unit_one(),
        }
    elif permit_type.needs_valuation and application.valuation:
        basis = _("%(amount)s per $1,000 of project value") % {
            "amount": f"${permit_type.fee_amount:,.2f}"
        }
    else:
        return ""
    if permit_type.minimum_fee:
        basis += ", " + _("at least %(minimum)s") % {"minimum": f"${permit_type.minimum_fee:,.2f}"}
    return basis


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
            return _("Approved. Pay the fees online and it is issued at once.")
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


# --- Open data -------------------------------------------------------------------------------------
# Building permits in BLDS fields; licences (and permits that are not building permits) in their
# own dataset. Neither carries applicant contact data.

BLDS_HEADER = [
    "PermitNum",
    "Description",
    "AppliedDate",
    "IssuedDate",
    "CompletedDate",
    "StatusCurrent",
    "OriginalAddress1",
    "OriginalAddress2",
    "OriginalCity",
    "OriginalState",
    "OriginalZip",
    "Jurisdiction",
    "PermitClass",
    "PermitClassMapped",
    "StatusCurrentMapped",
    "WorkClass",
    "WorkClassMapped",
    "PermitType",
    "PermitTypeMapped",
    "PermitTypeDesc",
    "StatusDate",
    "TotalSqFt",
    "Link",
    "Latitude",
    "Longitude",
    "EstProjectCost",
    "HousingUnits",
    "PIN",
    "ContractorCompanyName",
    "ContractorTrade",
    "ContractorTradeMapped",
    "ContractorLicNum",
    "ContractorStateLic",
    "ExpiresDate",
    "Fee",
    "Publisher",
]

LICENSE_HEADER = [
    "LicenseNum",
    "LicenseType",
    "LicenseTypeDesc",
    "Kind",
    "BusinessName",
    "Description",
    "Status",
    "AppliedDate",
    "IssuedDate",
    "ExpiresDate",
    "StatusDate",
    "Address",
    "City",
    "State",
    "Zip",
    "Latitude",
    "Longitude",
    "Link",
    "Publisher",
]


def _date(value) -> str:
    """The city's calendar date (a timestamp at 8 pm in California is still that day)."""
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        return timezone.localtime(value).date().isoformat()
    return value.isoformat()


def _coordinate(value) -> str:
    return "" if value is None else f"{value:.6f}"


def _number(value) -> str:
    return "" if value is None else str(int(value))


def _published(*, building: bool) -> QuerySet[Application]:
    """What the open datasets publish: every application that was ever submitted (a draft
    withdrawn before submitting has no number and never was a record)."""
    queryset = Application.objects.filter(status__in=PUBLIC_STATUSES, number__isnull=False)
    if building:
        return queryset.exclude(permit_type__blds_type="")
    return queryset.filter(permit_type__blds_type="")


def open_data_version(*, building: bool) -> tuple[str, object, int]:
    """(ETag, Last-Modified, rows) of a dataset: its newest change and its size, in one query."""
    from django.db.models import Count, Max

    stats = _published(building=building).aggregate(last=Max("updated_at"), n=Count("pk"))
    last = stats["last"]
    tag = f"{'b' if building else 'l'}-{stats['n']}-{last.timestamp() if last else 0:.6f}"
    return tag, last, stats["n"]


def _status_date(app):
    """When the permit reached its current status, from the dates the record keeps."""
    reached = {
        Status.SUBMITTED: app.submitted_at,
        Status.APPROVED: app.decided_at,
        Status.DENIED: app.decided_at,
        Status.ISSUED: app.issued_at,
        Status.FINALED: app.finaled_at,
        Status.EXPIRED: app.expires_at,
    }.get(app.status)
    return reached or app.updated_at


def _blds_status(app, has_inspections: bool) -> str:
    if app.status == Status.ISSUED and has_inspections:
        return BLDS_INSPECTION_PHASE
    return BLDS_STATUS[app.status]


def blds_rows(*, site_url: str) -> Iterator[list[str]]:
    """The header, then one row per building permit."""
    from django.db.models import Exists, OuterRef
    from django.utils import translation

    from .models import Inspection

    city = settings.CITY["name"].replace("City of ", "")
    state = settings.CITY["state_code"]
    yield BLDS_HEADER
    queryset = (
        _published(building=True)
        .select_related("permit_type")
        .annotate(has_inspections=Exists(Inspection.objects.filter(application=OuterRef("pk"))))
        .order_by("submitted_at", "pk")
    )
    with translation.override("en"):
        # Labels looked up once, not per row (get_status_display() was most of the time).
        status_label = {value: str(label) for value, label in Status.choices}
        for app in queryset.iterator(chunk_size=2000):
            permit_type = app.permit_type
            trade = BLDS_TRADE.get(permit_type.blds_type, BLDS_DEFAULT_TRADE)
            has_contractor = bool(app.contractor_name or app.contractor_license)
            yield [
                app.number,
                app.description[:500],
                _date(app.submitted_at),
                _date(app.issued_at),
                _date(app.finaled_at),
                status_label[app.status],
                app.address,
                "",
                city,
                state,
                app.zip_code,
                settings.CITY["name"],
                permit_type.blds_class,
                permit_type.blds_class,
                _blds_status(app, app.has_inspections),
                permit_type.blds_work_class,
                permit_type.blds_work_class,
                permit_type.code,
                permit_type.blds_type,
                permit_type.name_en,
                _date(_status_date(app)),
                _number(app.total_sq_ft),
                f"{site_url}/permits/search/?q={app.number}",
                _coordinate(app.latitude),
                _coordinate(app.longitude),
                "" if app.valuation is None else f"{app.valuation:.2f}",
                _number(app.housing_units),
                app.parcel_number,
                app.contractor_name,
                trade if has_contractor else "",
                trade if has_contractor else "",
                app.contractor_license,
                state if app.contractor_license else "",
                _date(app.expires_at),
                _number(app.fee_total),
                settings.CITY["name"],
            ]


def license_rows(*, site_url: str) -> Iterator[list[str]]:
    """The header, then one row per licence or other non-building permit."""
    from django.utils import translation

    city = settings.CITY["name"].replace("City of ", "")
    yield LICENSE_HEADER
    queryset = (
        _published(building=False).select_related("permit_type").order_by("submitted_at", "pk")
    )
    with translation.override("en"):
        status_label = {value: str(label) for value, label in Status.choices}
        kind_label = {}
        for app in queryset.iterator(chunk_size=2000):
            permit_type = app.permit_type
            if permit_type.kind not in kind_label:
                kind_label[permit_type.kind] = str(permit_type.get_kind_display())
            yield [
                app.number,
                permit_type.code,
                permit_type.name_en,
                kind_label[permit_type.kind],
                app.business_name,
                app.description[:500],
                status_label[app.status],
                _date(app.submitted_at),
                _date(app.issued_at),
                _date(app.expires_at),
                _date(_status_date(app)),
                app.address,
                city,
                settings.CITY["state_code"],
                app.zip_code,
                _coordinate(app.latitude),
                _coordinate(app.longitude),
                f"{site_url}/permits/search/?q={app.number}",
                settings.CITY["name"],
            ]


# --- The console's permit page --------------------------------------------------------------


def due_clock(due, *, open_: bool) -> dict | None:
    """The SLA clock as a person reads it: due when, in how many days, or overdue by how many."""
    if due is None or not open_:
        return None
    days = (due - timezone.localdate()).days
    if days < 0:
        text = f"Overdue by {-days} day{'s' if days != -1 else ''} (was due {due:%a %b %-d})"
    elif days == 0:
        text = f"Due today ({due:%a %b %-d})"
    else:
        text = f"Due {due:%a %b %-d}, in {days} day{'s' if days != 1 else ''}"
    return {"due": due, "days": days, "overdue": days < 0, "soon": 0 <= days <= 2, "text": text}


def staff_next_step(application: Application) -> str:
    """What the console should do next with this application, in a clerk's words."""
    status = application.status
    if status == Status.SUBMITTED:
        return "Check that it is complete, then accept it for review."
    if status == Status.IN_REVIEW:
        return "Review the documents and answers below, then approve, deny or request information."
    if status == Status.INFO_REQUESTED:
        return "Waiting for the applicant's answer to the information request below."
    if status == Status.APPROVED:
        if application.balance > 0:
            return f"Waiting for payment of ${application.balance}; issue the permit once paid."
        return "Fees are settled: issue the permit."
    if status == Status.ISSUED:
        return "Work under way: record inspection results; final the permit when all have passed."
    return "Closed: nothing left to do."


def console_page(application: Application) -> dict:
    """Everything a reviewer reads before deciding, in as few queries as the page allows."""
    documents = list(application.documents.select_related("requirement", "uploaded_by"))
    requirements = []
    for requirement in application.permit_type.document_requirements.all():
        files = [d for d in documents if d.requirement_id == requirement.pk]
        requirements.append({"requirement": requirement, "files": files})
    others = [d for d in documents if d.requirement_id is None]
    events = list(application.events.select_related("actor"))
    applicant_id = application.applicant_id
    return {
        "clock": due_clock(application.due_at, open_=application.status in OPEN_STATUSES),
        "next_step": staff_next_step(application),
        "requirements": requirements,
        "other_documents": others,
        "missing": [
            r["requirement"] for r in requirements if r["requirement"].required and not r["files"]
        ],
        "answers": answers_for_display(application),
        "info_requests": list(application.info_requests.select_related("requested_by")),
        "conversation": [
            e
            for e in events
            if e.kind == EventKind.MESSAGE or (e.actor_id == applicant_id and e.text)
        ],
        "notes": [e for e in events if e.kind == EventKind.NOTE],
        "inspections": list(application.inspections.select_related("inspection_type", "inspector")),
        "payments": list(application.payments.select_related("recorded_by")),
        "events": events,
    }


# --- A resident's own data ("Download my data") ----------------------------------------------------


def personal_data(user) -> tuple[dict, list]:
    """The person's applications with their answers, documents (as files), payments,
    information requests and public timeline; nothing staff wrote for staff only."""
    from cityhall.personal_data import fields_of, file_name

    applications, files = [], []
    for application in (
        Application.objects.filter(applicant=user)
        .select_related("permit_type")
        .prefetch_related("documents", "payments", "info_requests", "events")
        .order_by("pk")
    ):
        key = application.number or f"draft-{application.public_id}"
        documents = []
        for document in application.documents.all():
            path = file_name(
                f"permits/{key}", document.file.name, f"{document.pk}-{document.original_name}"
            )
            files.append((path, document.file))
            documents.append({**fields_of(document, leave_out={"application"}), "file": path})
        applications.append(
            {
                **fields_of(application, leave_out={"assigned_reviewer", "applicant"}),
                "documents": documents,
                "payments": [
                    fields_of(p, leave_out={"application", "recorded_by"})
                    for p in application.payments.all()
                ],
                "information_requests": [
                    fields_of(r, leave_out={"application", "requested_by"})
                    for r in application.info_requests.all()
                ],
                "timeline": [
                    {
                        "at": e.created_at.isoformat(),
                        "status": e.status,
                        "kind": e.kind,
                        "text": e.words,
                    }
                    for e in application.events.all()
                    if e.public
                ],
            }
        )
    return {"permit_applications": applications}, files
