"""Service requests: where they are, what they say, and every move they make."""

from __future__ import annotations

import math
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from alerts.services import notify, notify_address
from cityhall.calendar import add_business_days
from cityhall.constants import EventKind
from cityhall.geo import distance_m
from cityhall.models import Neighborhood, User, audit_as
from cityhall.timeline import word

from ..constants import (
    DUPLICATE_RADIUS_METERS,
    MAX_DESCRIPTION,
    Datatype,
    RequestStatus,
    Resolution,
    Source,
)
from ..models import (
    Follower,
    RequestPhoto,
    ServiceCategory,
    ServiceRequest,
    _hash,
    _public_id,
)
from ..workflow import REQUESTS

# --- Places -------------------------------------------------------------------------------------


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
    """Open requests of the same category within DUPLICATE_RADIUS_METERS (500 feet), nearest
    first; each carries `distance_m`, its distance from the given point."""
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
    found.sort(key=lambda pair: pair[0])
    for meters, request in found:
        request.distance_m = meters
    return [request for _meters, request in found]


# --- What a report says -------------------------------------------------------------------------


def description_clean(description: str, *, required: bool = True) -> str:
    """The report's description. Open311 GeoReport v2 makes it optional for API clients (the
    category, place and attributes may say it all); people on the web always describe it."""
    description = (description or "").strip()
    if not description and required:
        raise ValidationError({"description": _("Describe the problem.")})
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError({"description": _("Keep the description under 4,000 characters.")})
    return description


def attributes_clean(category: ServiceCategory, answers: dict, *, name=lambda code: code) -> dict:
    """The category's own questions checked against their definitions (every channel: the web
    form, Open311). `answers` maps attribute code to a string (a list for several choices);
    `name(code)` is how the channel calls the field in its messages."""
    cleaned: dict = {}
    for attribute in category.attributes.all():
        label = name(attribute.code)
        keys = {value["key"] for value in attribute.values or []}
        answer = answers.get(attribute.code)
        if attribute.datatype == Datatype.MULTI:
            given = answer if isinstance(answer, list) else ([answer] if answer else [])
            answer = list(dict.fromkeys(str(v).strip() for v in given if str(v).strip()))
        else:
            answer = "" if answer is None else str(answer).strip()
        if not answer:
            if attribute.required:
                raise ValidationError(f"{label} is required: {attribute.description_en}")
            continue
        if attribute.datatype == Datatype.SINGLE and answer not in keys:
            raise ValidationError(f"{label} must be one of: {', '.join(sorted(keys))}.")
        if attribute.datatype == Datatype.MULTI and not set(answer) <= keys:
            raise ValidationError(f"{label}[] values must be among: {', '.join(sorted(keys))}.")
        if attribute.datatype == Datatype.NUMBER:
            try:
                number = float(answer)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise ValidationError(f"{label} must be a number.")
        if attribute.datatype == Datatype.DATETIME:
            try:
                moment = parse_datetime(answer) or parse_date(answer)
            except ValueError:
                moment = None
            if moment is None:
                raise ValidationError(f"{label} must be a date and time, like 2026-05-01T14:30.")
        if isinstance(answer, str) and len(answer) > MAX_DESCRIPTION:
            raise ValidationError(f"{label} is longer than 4,000 characters.")
        cleaned[attribute.code] = answer
    return cleaned


SIGN_IN_REQUIRED = "sign_in_required"


def reporter_allowed(category: ServiceCategory, reporter) -> None:
    """Some categories need a signed-in resident (the City must be able to reach them)."""
    if reporter is None and not category.allow_anonymous:
        raise ValidationError(
            _("Sign in to report this kind of problem; we need to reach you about it."),
            code=SIGN_IN_REQUIRED,
        )


# --- Telling people -----------------------------------------------------------------------------


def _tell_reporter(request: ServiceRequest, event: str, **context) -> None:
    """Reporter and followers, each in their language. Called inside the transaction: the
    notifications commit with the change, and sending waits for the commit."""
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
            continue
        # A follower's typed number gets nothing until its code came back (double opt-in).
        phone = follower.phone if not follower.email and follower.phone_confirmed_at else ""
        if follower.email or phone:
            notify_address(
                language=follower.language,
                template="request_notice",
                context={**ctx, "link": link},
                email=follower.email,
                phone=phone,
            )


def _telling(event: str, **context):
    return lambda request: _tell_reporter(request, event, **context)


# --- Reporting ----------------------------------------------------------------------------------


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
    attribute_names=None,
    media_url: str = "",
) -> tuple[ServiceRequest, str]:
    """File a report. Returns it and a secret the anonymous reporter keeps to add information.
    `attribute_names(code)` names a category question in error messages (Open311's
    `attribute[CODE]`)."""
    reporter_allowed(category, reporter)
    description = description_clean(description, required=source != Source.OPEN311)
    attributes = attributes_clean(
        category, attributes or {}, name=attribute_names or (lambda code: code)
    )
    neighborhood = validate_location(latitude, longitude)
    today = timezone.localdate()
    secret = secrets.token_urlsafe(16)
    request = ServiceRequest(
        category=category,
        description=description,
        attributes=attributes,
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
        media_url=media_url,
        department=category.department,
        reporter_secret=_hash(secret),
        triage_due=add_business_days(today, category.triage_sla_days),
        resolve_due=add_business_days(today, category.resolution_sla_days),
    )
    for attempt in range(3):
        try:
            with transaction.atomic():  # a savepoint: a clashing public id is tried again
                audit_as(request, reporter).save()
            break
        except IntegrityError:
            if (
                attempt == 2
                or ServiceRequest.objects.filter(public_id=request.public_id).count() == 0
            ):
                raise
            request.public_id = _public_id()
    if draft_token:
        # RequestPhoto has no history: a bulk update records nothing that history would miss.
        RequestPhoto.objects.filter(draft_token=draft_token, request__isnull=True).update(
            request=request, draft_token=""
        )
    REQUESTS.record(request, kind=EventKind.STATUS, status=RequestStatus.NEW, actor=reporter)
    return request, secret


# --- Staff moves --------------------------------------------------------------------------------


@REQUESTS.handler("acknowledge")
def request_acknowledge(*, request: ServiceRequest, actor, note: str = "") -> ServiceRequest:
    def acknowledge(locked: ServiceRequest) -> None:
        locked.acknowledged_at = locked.acknowledged_at or timezone.now()
        locked.status_notes = note[:300]

    return REQUESTS.transition(
        request,
        "acknowledge",
        actor=actor,
        text=note,
        apply=acknowledge,
        notify=_telling("acknowledged"),
    )


@REQUESTS.handler("assign")
def request_assign(
    *, request: ServiceRequest, actor, department=None, assignee=None
) -> ServiceRequest:
    def assign(locked: ServiceRequest) -> None:
        locked.department = department or locked.department
        locked.assigned_to = assignee

    who = assignee.display_name if assignee else "nobody"
    where = f"{department or request.department} / {who}"
    return REQUESTS.transition(request, "assign", actor=actor, apply=assign, text=where)


@REQUESTS.handler("start")
def request_start(*, request: ServiceRequest, actor, note="") -> ServiceRequest:
    """`note` is staff's words, or `said(...)` when the system words it (see cityhall.timeline);
    Open311's status_notes carry the English."""
    english = word(*note, "en") if isinstance(note, tuple) else note

    def start(locked: ServiceRequest) -> None:
        locked.status_notes = english[:300]

    return REQUESTS.transition(request, "start", actor=actor, text=note, apply=start)


@REQUESTS.handler("close")
@transaction.atomic
def request_close(
    *, request: ServiceRequest, actor, resolution: str, note: str = ""
) -> ServiceRequest:
    if resolution not in Resolution.values:
        raise ValidationError("Choose a resolution.")
    # Read the status from the database: the caller's copy may be older than the row.
    if (
        actor is not None
        and ServiceRequest.objects.filter(pk=request.pk, status=RequestStatus.NEW).exists()
    ):
        request = request_acknowledge(request=request, actor=actor)

    def close(locked: ServiceRequest) -> None:
        locked.resolution = resolution
        locked.closed_at = timezone.now()
        locked.status_notes = note[:300]

    return REQUESTS.transition(
        request,
        "close",
        actor=actor,
        text=note,
        apply=close,
        notify=_telling("closed", note=note),
    )


@REQUESTS.handler("merge")
@transaction.atomic
def request_merge(*, request: ServiceRequest, original: ServiceRequest, actor) -> ServiceRequest:
    """Close `request` as a duplicate; its reporter follows `original` from now on."""
    REQUESTS.check(request, "merge", actor)
    if request.pk == original.pk:
        raise ValidationError("A request cannot duplicate itself.")
    if original.status == RequestStatus.CLOSED:
        raise ValidationError("Merge into an open request.")
    if request.reporter_id:
        Follower.objects.get_or_create(
            request=original, user=request.reporter, defaults={"language": request.language}
        )
    elif request.contact_email or request.contact_phone:
        # The duplicate's reporter gave these with their own report: no second opt-in.
        Follower.objects.get_or_create(
            request=original,
            email=request.contact_email,
            phone=request.contact_phone,
            defaults={"language": request.language, "phone_confirmed_at": timezone.now()},
        )
    if request.status == RequestStatus.NEW and actor is not None:
        request = request_acknowledge(request=request, actor=actor)
    note = f"Same problem as request {original.public_id}; follow that one."

    def close_as_duplicate(locked: ServiceRequest) -> None:
        locked.resolution = Resolution.DUPLICATE
        locked.closed_at = timezone.now()
        locked.duplicate_of = original
        locked.status_notes = note[:300]

    return REQUESTS.transition(
        request,
        "close",
        actor=actor,
        text=note,
        apply=close_as_duplicate,
        notify=_telling("closed", note=note),
    )


# --- The reporter -------------------------------------------------------------------------------


@REQUESTS.handler("add_info")
@transaction.atomic
def request_add_info(*, request: ServiceRequest, text: str, actor=None, secret: str = ""):
    """Information the reporter adds to their report; returns the timeline event."""
    text = (text or "").strip()
    REQUESTS.check(request, "add_info", _person(actor), secret=secret)
    if not text:
        raise ValidationError({"text": _("Write what you want to add.")})
    # Nothing about the request changes: the information is an event on its timeline, private
    # to the reporter and staff until staff publish it.
    move = REQUESTS.move("add_info")
    return REQUESTS.record(
        request, kind=move.event, actor=actor, text=text[:4000], public=move.public
    )


@REQUESTS.handler("publish_event")
@transaction.atomic
def request_event_publish(*, request: ServiceRequest, event, actor):
    """Staff make what the reporter wrote (added information, a reason to reopen) public."""
    REQUESTS.check(request, "publish_event", actor)
    event.public = True
    event.save(update_fields=["public"])
    REQUESTS.record(
        request,
        kind=EventKind.NOTE,
        actor=actor,
        public=False,
        text=f"Published the reporter's {event.get_kind_display().lower()} of "
        f"{event.created_at:%Y-%m-%d %H:%M}.",
    )
    return event


@REQUESTS.handler("reopen")
@transaction.atomic
def request_reopen(
    *, request: ServiceRequest, reason: str, actor=None, secret: str = ""
) -> ServiceRequest:
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the problem is not fixed.")})
    if request.status == RequestStatus.CLOSED and not request.can_reopen():
        raise ValidationError(
            _("Requests can be reopened up to 14 days after they close. Please report it again.")
        )

    def reopen(locked: ServiceRequest) -> None:
        locked.resolution = ""
        locked.closed_at = None
        locked.reopened_count += 1
        locked.triage_due = add_business_days(timezone.localdate(), locked.category.triage_sla_days)
        locked.breach_notified_at = None

    return REQUESTS.transition(
        request,
        "reopen",
        actor=_person(actor),
        text=reason,
        apply=reopen,
        notify=_telling("reopened"),
        secret=secret,
    )


def _person(actor):
    """The person acting on their own report: their account, or an anonymous visitor (who
    proves they reported with the secret). Never None, which would mean the system."""
    if actor is not None:
        return actor
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


# --- Following a report by text (double opt-in) ----------------------------------------------


def follower_send_code(*, http_request, follower: Follower) -> None:
    """Text a code to the number typed into "follow this report"; nothing else goes there
    until it is typed back."""
    from cityhall import ratelimit

    ratelimit.check(http_request, "follow", destinations=(follower.phone,))
    follower.phone_code = f"{secrets.randbelow(1_000_000):06d}"
    follower.phone_code_attempts = 0
    follower.save(update_fields=["phone_code", "phone_code_attempts"])
    notify_address(
        phone=follower.phone,
        language=follower.language,
        template="phone_code",
        context={"code": follower.phone_code, "report": follower.request.public_id},
    )


@transaction.atomic
def follower_confirm(*, follower_id: int, code: str) -> bool:
    follower = Follower.objects.select_for_update().filter(pk=follower_id).first()
    if follower is None:
        return False
    if follower.phone_confirmed_at:
        return True
    if not follower.phone_code or follower.phone_code_attempts >= 5:
        return False
    if secrets.compare_digest(follower.phone_code, code.strip()):
        follower.phone_confirmed_at = timezone.now()
        follower.phone_code = ""
        follower.save(update_fields=["phone_confirmed_at", "phone_code"])
        return True
    follower.phone_code_attempts += 1
    follower.save(update_fields=["phone_code_attempts"])
    return False


@transaction.atomic
def request_follow_with_report(
    *, request: ServiceRequest, description: str, draft_token: str = "", actor=None
) -> int:
    """A visitor about to file a report follows this one instead: what they wrote is kept on
    it as information from a follower (private until staff publish it) and their photos join
    it hidden (until staff show them). Nothing they typed is lost. Returns the photos moved."""
    text = (description or "").strip()
    if text:
        REQUESTS.record(
            request,
            kind=EventKind.FOLLOWER_INFO,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            text=text[:4000],
            public=False,
        )
    if not draft_token:
        return 0
    return RequestPhoto.objects.filter(draft_token=draft_token, request__isnull=True).update(
        request=request, draft_token="", hidden=True
    )


@transaction.atomic
def person_forget(*, user) -> dict[str, int]:
    """ "Delete my account": the reports stay (the city's record of a problem and its repair)
    without who sent them or how to reach them; following reports stops."""
    reports = ServiceRequest.objects.filter(reporter=user)
    count = reports.update(reporter=None, contact_name="", contact_email="", contact_phone="")
    followed, _kinds = Follower.objects.filter(user=user).delete()
    return {"reports kept without your name": count, "reports no longer followed": followed}
