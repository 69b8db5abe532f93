"""Writes for service requests and code cases."""

from __future__ import annotations

import io
import math
import secrets
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.services import notify, notify_address
from cityhall.calendar import add_business_days
from cityhall.models import Neighborhood, User, audit_as, system_user

from .constants import (
    DEFAULT_COMPLY_DAYS,
    DUPLICATE_RADIUS_METERS,
    MAX_DESCRIPTION,
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    REOPEN_WINDOW_DAYS,
    REPEAT_WINDOW_DAYS,
    CaseStatus,
    InspectionKind,
    InspectionResult,
    RequestStatus,
    Resolution,
    Source,
)
from .models import (
    CaseEvent,
    CaseInspection,
    CodeCase,
    Follower,
    Notice,
    RequestEvent,
    RequestPhoto,
    ServiceCategory,
    ServiceRequest,
    Violation,
    ViolationType,
    _hash,
)
from .workflow import CASE_TRANSITIONS, REQUEST_TRANSITIONS, TransitionNotAllowed, check

# --- Places -------------------------------------------------------------------------------------


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in meters (haversine)."""
    r = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def validate_location(latitude, longitude) -> Neighborhood:
    """The neighborhood at a point, or a ValidationError a resident can act on."""
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        raise ValidationError(_("The location is not a valid latitude and longitude.")) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
        raise ValidationError(_("The location is not a valid latitude and longitude."))
    neighborhood = Neighborhood.objects.containing(latitude=lat, longitude=lon)
    if neighborhood is None:
        raise ValidationError(
            _("That location is outside the city. Choose a place inside the city limits.")
        )
    return neighborhood


def nearby_open_requests(
    *, category: ServiceCategory, latitude: float, longitude: float, exclude_pk=None
):
    """Open requests of the same category within 150 m, nearest first."""
    dlat = DUPLICATE_RADIUS_METERS / 111_000
    dlon = DUPLICATE_RADIUS_METERS / (111_000 * max(math.cos(math.radians(latitude)), 0.01))
    candidates = (
        ServiceRequest.objects.filter(category=category)
        .exclude(status=RequestStatus.CLOSED)
        .filter(
            latitude__range=(latitude - dlat, latitude + dlat),
            longitude__range=(longitude - dlon, longitude + dlon),
        )
        .exclude(pk=exclude_pk)
    )
    found = []
    for request in candidates:
        meters = distance_m(latitude, longitude, request.latitude, request.longitude)
        if meters <= DUPLICATE_RADIUS_METERS:
            found.append((meters, request))
    return [request for _meters, request in sorted(found, key=lambda pair: pair[0])]


# --- Photos -------------------------------------------------------------------------------------


def _gps_from_exif(image) -> tuple[float, float] | None:
    try:
        gps = image.getexif().get_ifd(0x8825)
    except Exception:
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None

    def degrees(values, ref) -> float:
        d, m, s = (float(v) for v in values)
        value = d + m / 60 + s / 3600
        return -value if ref in ("S", "W") else value

    try:
        return degrees(gps[2], gps.get(1, "N")), degrees(gps[4], gps.get(3, "E"))
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def photo_clean(uploaded) -> tuple[ContentFile, tuple[float, float] | None]:
    """Re-encode a photo as JPEG without metadata; return it and the GPS point it carried."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if uploaded.size > MAX_PHOTO_BYTES:
        raise ValidationError(_("A photo can be up to 8 MB."))
    try:
        image = Image.open(uploaded)
        image.verify()
        uploaded.seek(0)
        image = Image.open(uploaded)
        # MPO is how many phones save JPEGs (a JPEG with a second, depth or preview, frame).
        if image.format not in ("JPEG", "MPO", "PNG", "HEIF", "WEBP"):
            raise ValidationError(_("Photos must be JPEG or PNG."))
        gps = _gps_from_exif(image)
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise ValidationError(
            _("That file is not a photo we can read. Use a JPEG or PNG.")
        ) from None
    image.thumbnail((2400, 2400))
    out = io.BytesIO()
    # Saving without exif= drops every tag: camera, time and location stay private.
    image.save(out, format="JPEG", quality=85)
    return ContentFile(out.getvalue(), name="photo.jpg"), gps


@transaction.atomic
def photo_add_to_draft(
    *, draft_token: str, uploaded
) -> tuple[RequestPhoto, tuple[float, float] | None]:
    if (
        RequestPhoto.objects.filter(draft_token=draft_token, request__isnull=True).count()
        >= MAX_PHOTOS
    ):
        raise ValidationError(_("You can add up to 5 photos."))
    content, gps = photo_clean(uploaded)
    photo = RequestPhoto(draft_token=draft_token)
    photo.image.save("photo.jpg", content, save=False)
    photo.save()
    return photo, gps


# --- Reporting ----------------------------------------------------------------------------------


def _event(
    request: ServiceRequest, kind: str, *, actor=None, text: str = "", public: bool = True
) -> None:
    RequestEvent.objects.create(
        request=request, kind=kind, status=request.status, text=text, actor=actor, public=public
    )


def _tell_reporter(request: ServiceRequest, event: str, **context) -> None:
    """Reporter and followers, each in their language, after commit."""

    def send():
        ctx = {"event": event, "request": request, **context}
        link = request.get_absolute_url()
        if request.reporter_id:
            notify(user=request.reporter, template="request_notice", context=ctx, link=link)
        elif request.contact_email or request.contact_phone:
            notify_address(
                language=request.language,
                template="request_notice",
                context={**ctx, "link": link},
                email=request.contact_email,
                phone=request.contact_phone if not request.contact_email else "",
            )
        for follower in request.followers.select_related("user"):
            if follower.user_id:
                notify(user=follower.user, template="request_notice", context=ctx, link=link)
            else:
                notify_address(
                    language=follower.language,
                    template="request_notice",
                    context={**ctx, "link": link},
                    email=follower.email,
                    phone=follower.phone if not follower.email else "",
                )

    transaction.on_commit(send)


@transaction.atomic
def request_submit(
    *,
    category: ServiceCategory,
    description: str,
    latitude,
    longitude,
    address: str = "",
    attributes: dict | None = None,
    reporter: User | None = None,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    language: str = "en",
    source: str = Source.WEB,
    api_key=None,
    draft_token: str = "",
) -> tuple[ServiceRequest, str]:
    """File a report. Returns it and a secret the anonymous reporter keeps to add information."""
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": _("Describe the problem.")})
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError({"description": _("Keep the description under 4,000 characters.")})
    if reporter is None and not category.allow_anonymous:
        raise ValidationError(_("Sign in to report this kind of problem."))
    neighborhood = validate_location(latitude, longitude)
    today = timezone.localdate()
    secret = secrets.token_urlsafe(16)
    request = ServiceRequest(
        category=category,
        description=description,
        attributes=attributes or {},
        address=address[:200],
        latitude=float(latitude),
        longitude=float(longitude),
        neighborhood=neighborhood,
        reporter=reporter,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        language=language,
        source=source,
        api_key=api_key,
        department=category.department,
        reporter_secret=_hash(secret),
        triage_due=add_business_days(today, category.triage_sla_days),
        resolve_due=add_business_days(today, category.resolution_sla_days),
    )
    audit_as(request, reporter).save()
    if draft_token:
        RequestPhoto.objects.filter(draft_token=draft_token, request__isnull=True).update(
            request=request, draft_token=""
        )
    _event(request, "received")
    return request, secret


def _move(request: ServiceRequest, target: str, *, actor, is_reporter=False) -> ServiceRequest:
    locked = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    check(
        REQUEST_TRANSITIONS,
        current=locked.status,
        target=target,
        actor=actor,
        is_reporter=is_reporter,
    )
    locked.status = target
    return locked


@transaction.atomic
def request_acknowledge(*, request: ServiceRequest, actor, note: str = "") -> ServiceRequest:
    request = _move(request, RequestStatus.ACKNOWLEDGED, actor=actor)
    request.acknowledged_at = request.acknowledged_at or timezone.now()
    request.status_notes = note[:300]
    audit_as(request, actor).save()
    _event(request, "acknowledged", actor=actor, text=note)
    _tell_reporter(request, "acknowledged")
    return request


@transaction.atomic
def request_assign(
    *, request: ServiceRequest, actor, department=None, assignee=None
) -> ServiceRequest:
    if not actor.has_perm("code_enforcement.triage_request"):
        raise TransitionNotAllowed("You do not have permission to assign requests.")
    request = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    request.department = department or request.department
    request.assigned_to = assignee
    audit_as(request, actor).save()
    _event(
        request,
        "assigned",
        actor=actor,
        public=False,
        text=f"{request.department} / {assignee or '-'}",
    )
    return request


@transaction.atomic
def request_start(*, request: ServiceRequest, actor, note: str = "") -> ServiceRequest:
    request = _move(request, RequestStatus.IN_PROGRESS, actor=actor)
    request.status_notes = note[:300]
    audit_as(request, actor).save()
    _event(request, "in_progress", actor=actor, text=note)
    return request


@transaction.atomic
def request_close(
    *, request: ServiceRequest, actor, resolution: str, note: str = ""
) -> ServiceRequest:
    if resolution not in Resolution.values:
        raise ValidationError("Choose a resolution.")
    if request.status == RequestStatus.NEW and actor is not None:
        request = request_acknowledge(request=request, actor=actor)
    request = _move(request, RequestStatus.CLOSED, actor=actor)
    request.resolution = resolution
    request.closed_at = timezone.now()
    request.status_notes = note[:300]
    audit_as(request, actor).save()
    _event(request, "closed", actor=actor, text=note)
    _tell_reporter(request, "closed", note=note)
    return request


@transaction.atomic
def request_merge(*, duplicate: ServiceRequest, original: ServiceRequest, actor) -> ServiceRequest:
    """Close `duplicate` as a duplicate; its reporter follows `original` from now on."""
    if duplicate.pk == original.pk:
        raise ValidationError("A request cannot duplicate itself.")
    if original.status == RequestStatus.CLOSED:
        raise ValidationError("Merge into an open request.")
    if duplicate.reporter_id:
        Follower.objects.get_or_create(
            request=original, user=duplicate.reporter, defaults={"language": duplicate.language}
        )
    elif duplicate.contact_email or duplicate.contact_phone:
        Follower.objects.get_or_create(
            request=original,
            email=duplicate.contact_email,
            phone=duplicate.contact_phone,
            defaults={"language": duplicate.language},
        )
    closed = request_close(
        request=duplicate,
        actor=actor,
        resolution=Resolution.DUPLICATE,
        note=f"Same problem as request {original.public_id}; follow that one.",
    )
    closed.duplicate_of = original
    audit_as(closed, actor).save(update_fields=["duplicate_of", "updated_at"])
    return closed


@transaction.atomic
def request_add_info(
    *, request: ServiceRequest, text: str, actor=None, secret: str = ""
) -> RequestEvent:
    is_reporter = (actor is not None and request.reporter_id == actor.pk) or request.secret_matches(
        secret
    )
    if not is_reporter:
        raise TransitionNotAllowed("Only the person who reported can add information.")
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write what you want to add.")})
    return RequestEvent.objects.create(
        request=request, kind="info_added", status=request.status, text=text[:4000], actor=actor
    )


@transaction.atomic
def request_reopen(
    *, request: ServiceRequest, reason: str, actor=None, secret: str = ""
) -> ServiceRequest:
    is_reporter = (actor is not None and request.reporter_id == actor.pk) or request.secret_matches(
        secret
    )
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the problem is not fixed.")})
    if request.closed_at and timezone.now() - request.closed_at > timedelta(
        days=REOPEN_WINDOW_DAYS
    ):
        raise ValidationError(
            _("Requests can be reopened up to 14 days after they close. Please report it again.")
        )
    request = _move(
        request, RequestStatus.ACKNOWLEDGED, actor=actor or system_user(), is_reporter=is_reporter
    )
    request.resolution = ""
    request.closed_at = None
    request.reopened_count += 1
    request.triage_due = add_business_days(timezone.localdate(), request.category.triage_sla_days)
    request.breach_notified_at = None
    audit_as(request, actor).save()
    _event(request, "reopened", actor=actor, text=reason)
    _tell_reporter(request, "reopened")
    return request


@transaction.atomic
def photo_set_hidden(*, photo: RequestPhoto, actor, hidden: bool) -> RequestPhoto:
    if not actor.has_perm("code_enforcement.hide_photo"):
        raise TransitionNotAllowed("You do not have permission to hide photos.")
    photo.hidden = hidden
    photo.save(update_fields=["hidden"])
    _event(photo.request, "photo_hidden" if hidden else "photo_shown", actor=actor, public=False)
    return photo


# --- Code cases ---------------------------------------------------------------------------------


def _next_case_number(year: int) -> str:
    # Serialized by an advisory transaction lock: unique, gap-free case numbers per year.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [7_311_000 + year])
    last = CodeCase.objects.filter(number__startswith=f"CE-{year}-").aggregate(m=Max("number"))["m"]
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"CE-{year}-{n:05d}"


def _case_move(case: CodeCase, target: str, *, actor, text: str = "") -> CodeCase:
    locked = CodeCase.objects.select_for_update().get(pk=case.pk)
    check(CASE_TRANSITIONS, current=locked.status, target=target, actor=actor)
    locked.status = target
    CaseEvent.objects.create(case=locked, status=target, text=text, actor=actor)
    return locked


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
    if not actor.has_perm("code_enforcement.manage_case"):
        raise TransitionNotAllowed("You do not have permission to open cases.")
    if not requests:
        raise ValidationError("Choose at least one request.")
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
    CaseEvent.objects.create(
        case=case, status=CaseStatus.OPEN, actor=actor, text="Opened from requests"
    )
    for request in requests:
        if request.status == RequestStatus.NEW:
            request = request_acknowledge(request=request, actor=actor)
        if request.status == RequestStatus.ACKNOWLEDGED:
            request = request_start(request=request, actor=actor, note=f"Code case {case.number}")
        request.case = case
        audit_as(request, actor).save(update_fields=["case", "updated_at"])
        _event(request, "case_opened", actor=actor, text=case.number)
        _tell_reporter(request, "case_opened", case=case)
    return case


@transaction.atomic
def case_schedule_inspection(
    *, case: CodeCase, actor, when: date, inspector=None
) -> CaseInspection:
    case = _case_move(
        case, CaseStatus.INSPECTION_SCHEDULED, actor=actor, text=f"Inspection {when:%Y-%m-%d}"
    )
    case.inspector = inspector or case.inspector or actor
    audit_as(case, actor).save()
    inspection = CaseInspection(
        case=case, kind=InspectionKind.INITIAL, scheduled_for=when, inspector=case.inspector
    )
    audit_as(inspection, actor).save()
    return inspection


def comply_days(violation_type: ViolationType, severity: str) -> int:
    return int((violation_type.comply_days or {}).get(severity, DEFAULT_COMPLY_DAYS[severity]))


@transaction.atomic
def case_record_violation(
    *, case: CodeCase, actor, violation_type: ViolationType, description: str, severity: str
) -> Violation:
    """The inspector found a violation: the case is confirmed (first time) and it is recorded."""
    if not description.strip():
        raise ValidationError("Describe what was found.")
    if case.status == CaseStatus.INSPECTION_SCHEDULED:
        case = _case_move(
            case, CaseStatus.VIOLATION_CONFIRMED, actor=actor, text=violation_type.code_section
        )
        case.repeat_violation = case.repeat_violation or _is_repeat(
            case.address, exclude_pk=case.pk
        )
        audit_as(case, actor).save()
        _complete_inspections(
            case.inspections.filter(completed_at__isnull=True, kind=InspectionKind.INITIAL),
            actor=actor,
            result=InspectionResult.VIOLATION,
        )
    elif case.status != CaseStatus.VIOLATION_CONFIRMED:
        raise ValidationError("Violations are recorded at the inspection, before the notice.")
    if not actor.has_perm("code_enforcement.manage_case"):
        raise TransitionNotAllowed("You do not have permission to record violations.")
    violation = Violation(
        case=case,
        violation_type=violation_type,
        description=description,
        severity=severity,
        comply_by=timezone.localdate() + timedelta(days=comply_days(violation_type, severity)),
        recorded_by=actor,
    )
    audit_as(violation, actor).save()
    return violation


def _complete_inspections(inspections, *, actor, result: str, notes: str = "") -> None:
    # Saved one by one (not QuerySet.update) so the audit history records each result.
    for inspection in inspections:
        inspection.result, inspection.completed_at = result, timezone.now()
        if notes:
            inspection.notes = notes
        audit_as(inspection, actor).save()


@transaction.atomic
def case_no_violation(*, case: CodeCase, actor, notes: str = "") -> CodeCase:
    case = _case_move(case, CaseStatus.NO_VIOLATION, actor=actor, text=notes)
    audit_as(case, actor).save()
    _complete_inspections(
        case.inspections.filter(completed_at__isnull=True),
        actor=actor,
        result=InspectionResult.NO_VIOLATION,
        notes=notes,
    )
    for request in case.requests.exclude(status=RequestStatus.CLOSED):
        request_close(request=request, actor=actor, resolution=Resolution.NO_VIOLATION, note=notes)
    return case


@transaction.atomic
def case_issue_notice(*, case: CodeCase, actor, language: str) -> Notice:
    """Notice of violation, in English or Spanish; comply-by is the earliest violation's date."""
    violations = list(case.violations.all())
    if not violations:
        raise ValidationError("Record at least one violation first.")
    case = _case_move(case, CaseStatus.NOTICE_ISSUED, actor=actor, text=f"Notice ({language})")
    case.comply_by = min(v.comply_by for v in violations)
    audit_as(case, actor).save()
    return Notice.objects.create(
        case=case, language=language, comply_by=case.comply_by, issued_by=actor
    )


@transaction.atomic
def case_record_reinspection(
    *, case: CodeCase, actor, complied: bool, notes: str = "", fine: Decimal | None = None
) -> CodeCase:
    inspection = case.inspections.filter(
        kind=InspectionKind.REINSPECTION, completed_at__isnull=True
    ).last()
    if complied:
        case = _case_move(case, CaseStatus.COMPLIED, actor=actor, text=notes)
        for violation in case.violations.filter(corrected_at__isnull=True):
            violation.corrected_at = timezone.now()
            audit_as(violation, actor).save(update_fields=["corrected_at"])
        result = InspectionResult.COMPLIED
    else:
        if not fine or fine <= 0:
            raise ValidationError("Enter the fine for the citation.")
        case = _case_move(
            case, CaseStatus.ESCALATED, actor=actor, text=f"Citation ${fine}. {notes}"
        )
        case.fine_amount = fine
        case.fine_due = timezone.localdate() + timedelta(days=30)
        result = InspectionResult.NOT_COMPLIED
    audit_as(case, actor).save()
    if inspection is not None:
        inspection.result, inspection.notes, inspection.completed_at = result, notes, timezone.now()
        audit_as(inspection, actor).save()
    return case


@transaction.atomic
def case_close(*, case: CodeCase, actor, notes: str = "") -> CodeCase:
    case = _case_move(case, CaseStatus.CLOSED, actor=actor, text=notes)
    case.closed_at = timezone.now()
    audit_as(case, actor).save()
    resolution = Resolution.NO_VIOLATION if case.violations.count() == 0 else Resolution.RESOLVED
    for request in case.requests.exclude(status=RequestStatus.CLOSED):
        request_close(
            request=request,
            actor=actor,
            resolution=resolution,
            note=notes or f"Case {case.number} closed.",
        )
    return case
