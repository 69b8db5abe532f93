"""Code cases: opened from requests, inspected, noticed, reinspected, closed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alerts.services import notify_address
from cityhall.calendar import add_business_days
from cityhall.constants import EventKind
from cityhall.models import audit_as
from cityhall.numbering import case_sequence, next_number
from cityhall.timeline import said

from ..constants import (
    DEFAULT_COMPLY_DAYS,
    REPEAT_WINDOW_DAYS,
    CaseStatus,
    InspectionKind,
    InspectionResult,
    RequestStatus,
    Resolution,
)
from ..models import CaseInspection, CodeCase, Notice, ServiceRequest, Violation, ViolationType
from ..workflow import CASES, REQUESTS
from .photos import photo_clean
from .requests import _tell_reporter, request_acknowledge, request_close, request_start


def _next_case_number(year: int) -> str:
    return f"CE-{year}-{next_number(case_sequence(year)):05d}"


def _is_repeat(address: str, exclude_pk=None) -> bool:
    if not (address or "").strip():
        return False  # a place picked on a map has no address to compare
    since = timezone.now() - timedelta(days=REPEAT_WINDOW_DAYS)
    return (
        Violation.objects.filter(case__address__iexact=address.strip(), created_at__gte=since)
        .exclude(case_id=exclude_pk)
        .exists()
    )


@transaction.atomic
def case_open(
    *,
    requests: list[ServiceRequest],
    actor,
    inspector=None,
    owner_name="",
    owner_mailing_address="",
    owner_email="",
    owner_language="en",
) -> CodeCase:
    if not requests:
        raise ValidationError("Choose at least one request.")
    for request in requests:
        REQUESTS.check(request, "case", actor)
    first = requests[0]
    case = CodeCase(
        number=_next_case_number(timezone.localdate().year),
        address=first.address,
        latitude=first.latitude,
        longitude=first.longitude,
        neighborhood=first.neighborhood,
        owner_name=owner_name,
        owner_mailing_address=owner_mailing_address,
        owner_email=owner_email,
        owner_language=owner_language,
        inspector=inspector,
        opened_by=actor,
        repeat_violation=_is_repeat(first.address),
    )
    audit_as(case, actor).save()
    CASES.record(case, kind=EventKind.STATUS, status=CaseStatus.OPEN, actor=actor,
                 text="Opened from requests", public=False)  # fmt: skip
    for request in requests:
        if request.status == RequestStatus.NEW:
            request = request_acknowledge(request=request, actor=actor)
        if request.status == RequestStatus.ACKNOWLEDGED:
            request = request_start(
                request=request, actor=actor, note=said("code_case", number=case.number)
            )

        def link(locked: ServiceRequest) -> None:
            locked.case = case

        REQUESTS.transition(
            request,
            "case",
            actor=actor,
            apply=link,
            text=case.number,
            notify=lambda locked: _tell_reporter(locked, "case_opened", case=case),
        )
    return case


@REQUESTS.handler("case")
@transaction.atomic
def request_open_case(
    *, request: ServiceRequest, actor, inspector=None, first_inspection: date | None = None
) -> CodeCase:
    """The console's "Open a code case" on a request's page: the case, given to `inspector`,
    and its first inspection when a date is chosen (both or neither)."""
    case = case_open(requests=[request], actor=actor, inspector=inspector)
    if first_inspection is not None:
        case_schedule_inspection(case=case, actor=actor, when=first_inspection, inspector=inspector)
        case.refresh_from_db()
    return case


@CASES.handler("assign")
@transaction.atomic
def case_assign(*, case: CodeCase, actor, inspector) -> CodeCase:
    """Give the case, and its inspections still to do, to another inspector."""

    def assign(locked: CodeCase) -> None:
        locked.inspector = inspector
        for inspection in locked.inspections.filter(completed_at__isnull=True):
            inspection.inspector = inspector
            audit_as(inspection, actor).save(update_fields=["inspector"])

    return CASES.transition(
        case, "assign", actor=actor, apply=assign, text=f"Assigned to {inspector.display_name}"
    )


@CASES.handler("schedule")
def case_schedule_inspection(
    *, case: CodeCase, actor, when: date, inspector=None
) -> CaseInspection:
    inspections: list[CaseInspection] = []

    def schedule(locked: CodeCase) -> None:
        locked.inspector = inspector or locked.inspector or actor
        inspection = CaseInspection(
            case=locked, kind=InspectionKind.INITIAL, scheduled_for=when, inspector=locked.inspector
        )
        audit_as(inspection, actor).save()
        inspections.append(inspection)

    CASES.transition(
        case, "schedule", actor=actor, apply=schedule, text=f"Inspection {when:%Y-%m-%d}"
    )
    return inspections[0]


def comply_days(violation_type: ViolationType, severity: str) -> int:
    return int((violation_type.comply_days or {}).get(severity, DEFAULT_COMPLY_DAYS[severity]))


def _complete_inspections(inspections, *, actor, result: str, notes: str = "") -> None:
    # Saved one by one (not QuerySet.update) so the audit history records each result.
    for inspection in inspections:
        inspection.result, inspection.completed_at = result, timezone.now()
        if notes:
            inspection.notes = notes
        audit_as(inspection, actor).save()


@CASES.handler("violation")
@CASES.handler("add_violation")
@transaction.atomic
def case_record_violation(
    *,
    case: CodeCase,
    actor,
    violation_type: ViolationType,
    description: str,
    severity: str,
    photo=None,
    description_es: str = "",
) -> Violation:
    """The inspector found a violation: the case is confirmed (the first time) and it is
    recorded; further violations at the same inspection keep the status. A `photo` (an upload)
    is cleaned of its metadata and kept with the inspection that found it."""
    if not description.strip():
        raise ValidationError("Describe what was found.")
    cleaned = photo_clean(photo)[0] if photo else None
    move = "violation" if case.status == CaseStatus.INSPECTION_SCHEDULED else "add_violation"
    if case.status not in CASES.move(move).sources:
        raise ValidationError("Violations are recorded at the inspection, before the notice.")
    violations: list[Violation] = []

    def record(locked: CodeCase) -> None:
        if move == "violation":  # the first: the inspection that found it is complete
            locked.repeat_violation = locked.repeat_violation or _is_repeat(
                locked.address, exclude_pk=locked.pk
            )
            _complete_inspections(
                locked.inspections.filter(completed_at__isnull=True, kind=InspectionKind.INITIAL),
                actor=actor,
                result=InspectionResult.VIOLATION,
            )
        if cleaned is not None:
            _keep_photo(locked, cleaned, actor=actor)
        violation = Violation(
            case=locked,
            violation_type=violation_type,
            description=description,
            description_es=description_es,
            severity=severity,
            comply_by=timezone.localdate() + timedelta(days=comply_days(violation_type, severity)),
            recorded_by=actor,
        )
        audit_as(violation, actor).save()
        violations.append(violation)

    CASES.transition(case, move, actor=actor, apply=record, text=violation_type.code_section)
    return violations[0]


def _keep_photo(case: CodeCase, photo, *, actor) -> None:
    """File a finding's photo on the inspection that found it: the latest completed one without
    a photo, or else a new completed "finding" entry of the same kind dated today."""
    inspection = (
        case.inspections.filter(completed_at__isnull=False, photo="")
        .order_by("-completed_at")
        .first()
    )
    if inspection is None:
        inspection = CaseInspection(
            case=case,
            kind=InspectionKind.INITIAL,
            scheduled_for=timezone.localdate(),
            inspector=actor,
            result=InspectionResult.VIOLATION,
            completed_at=timezone.now(),
        )
    inspection.photo.save(f"{case.number}.jpg", photo, save=False)
    audit_as(inspection, actor).save()


@CASES.handler("no_violation")
@transaction.atomic
def case_no_violation(*, case: CodeCase, actor, notes: str = "") -> CodeCase:
    def clear(locked: CodeCase) -> None:
        _complete_inspections(
            locked.inspections.filter(completed_at__isnull=True),
            actor=actor,
            result=InspectionResult.NO_VIOLATION,
            notes=notes,
        )

    case = CASES.transition(case, "no_violation", actor=actor, text=notes, apply=clear)
    for request in case.requests.exclude(status=RequestStatus.CLOSED):
        request_close(request=request, actor=actor, resolution=Resolution.NO_VIOLATION, note=notes)
    return case


@CASES.handler("notice")
@transaction.atomic
def case_issue_notice(*, case: CodeCase, actor, language: str) -> Notice:
    """Notice of violation, in English or Spanish; comply-by is the earliest violation's date."""
    notices: list[Notice] = []

    def issue(locked: CodeCase) -> None:
        violations = list(locked.violations.all())
        if not violations:
            raise ValidationError("Record at least one violation first.")
        locked.comply_by = min(v.comply_by for v in violations)
        notices.append(
            Notice.objects.create(
                case=locked, language=language, comply_by=locked.comply_by, issued_by=actor
            )
        )

    CASES.transition(case, "notice", actor=actor, apply=issue, text=f"Notice ({language})")
    return notices[0]


def case_reinspect(*, case: CodeCase, today: date) -> CodeCase:
    """Comply-by reached (beat): the case moves to reinspection and its inspector gets the
    visit on the next business day."""

    def book(locked: CodeCase) -> None:
        CaseInspection.objects.get_or_create(
            case=locked,
            kind=InspectionKind.REINSPECTION,
            scheduled_for=add_business_days(today, 1),
            defaults={"inspector": locked.inspector},
        )

    return CASES.transition(
        case, "reinspect", actor=None, apply=book, text="Comply-by date reached"
    )


@CASES.handler("reinspection")
@transaction.atomic
def case_record_reinspection(
    *, case: CodeCase, actor, complied: bool, notes: str = "", fine: Decimal | None = None
) -> CodeCase:
    if not complied and (not fine or fine <= 0):
        raise ValidationError("Enter the fine for the citation.")
    result = InspectionResult.COMPLIED if complied else InspectionResult.NOT_COMPLIED

    def record(locked: CodeCase) -> None:
        if complied:
            for violation in locked.violations.filter(corrected_at__isnull=True):
                violation.corrected_at = timezone.now()
                audit_as(violation, actor).save(update_fields=["corrected_at"])
        else:
            locked.fine_amount = fine
            locked.fine_due = timezone.localdate() + timedelta(days=30)
        inspection = locked.inspections.filter(
            kind=InspectionKind.REINSPECTION, completed_at__isnull=True
        ).last()
        if inspection is not None:
            inspection.result, inspection.notes = result, notes
            inspection.completed_at = timezone.now()
            audit_as(inspection, actor).save()

    return CASES.transition(
        case,
        "reinspection",
        actor=actor,
        target=CaseStatus.COMPLIED if complied else CaseStatus.ESCALATED,
        apply=record,
        text=notes if complied else f"Citation ${fine}. {notes}",
        notify=None if complied else _tell_owner_of_citation,
    )


def _tell_owner_of_citation(case: CodeCase) -> None:
    """The citation by email, when the owner gave one: the fine, when it is due, and the link to
    pay it online with the notice number and the address (no account needed)."""
    if case.owner_email:
        notify_address(
            email=case.owner_email,
            language=case.owner_language,
            template="fine_citation",
            context={"case": case},
        )


@CASES.handler("close")
@transaction.atomic
def case_close(*, case: CodeCase, actor, notes: str = "") -> CodeCase:
    def close(locked: CodeCase) -> None:
        locked.closed_at = timezone.now()

    case = CASES.transition(case, "close", actor=actor, text=notes, apply=close)
    resolution = Resolution.NO_VIOLATION if case.violations.count() == 0 else Resolution.RESOLVED
    for request in case.requests.exclude(status=RequestStatus.CLOSED):
        request_close(
            request=request,
            actor=actor,
            resolution=resolution,
            note=notes or f"Case {case.number} closed.",
        )
    return case
