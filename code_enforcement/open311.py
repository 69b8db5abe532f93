"""Open311 GeoReport v2: the city's service requests for third-party apps.

Plain function views, JSON or XML chosen by the URL's extension. Reading is public; submitting
needs an API key (`ApiKey`), counted against its per-minute limit in the Redis cache. Errors use
the spec's shape in both formats, with the HTTP status equal to the error code:

    JSON  [{"code": 400, "description": "..."}]
    XML   <errors><error><code>400</code><description>...</description></error></errors>

The API speaks English only (it has no language negotiation), whatever the client's
Accept-Language says. Nothing here ever shows a reporter's name, email or phone, and requests of
private (sensitive) categories are not served at all.
"""

from __future__ import annotations

import json
import math
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt

from cityhall import ratelimit
from cityhall.links import absolute_url
from cityhall.pagecache import public_page
from cityhall.phones import normalize_sms_phone

from . import services
from .constants import Datatype, RequestStatus, Source
from .models import Address, ApiKey, RequestPhoto, ServiceAttribute, ServiceCategory, ServiceRequest

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this API last changed in a way clients may care about (the discovery "changeset").
CHANGESET = "2026-11-26T00:00:00Z"
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_RESULTS = 1000
MAX_WINDOW = timedelta(days=90)
RATE_WINDOW_SECONDS = 60

# In XML every list is an element holding one element per item, named after the list.
_ITEM_TAGS = {
    "errors": "error",
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry, even escaped.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# An unescaped "+" in a query string arrives as a space: "...T10:00:00 07:00".
_SPACE_FOR_PLUS = re.compile(r" (\d{2}:?\d{2})$")
_DATATYPE_DESCRIPTIONS = {
    Datatype.NUMBER: "A number, e.g. 3 or 2.5.",
    Datatype.DATETIME: "An ISO 8601 date and time, e.g. 2026-05-01T14:30:00-07:00.",
    Datatype.SINGLE: "One of the keys in values.",
    Datatype.MULTI: "One or more of the keys in values, each sent as attribute[code][].",
}


class Open311Error(Exception):
    def __init__(self, code: int, description: str, *, headers: dict[str, str] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.headers = headers or {}


# --- Rendering ----------------------------------------------------------------------------------


def _xml_fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _xml_fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        item_tag = _ITEM_TAGS[element.tag]
        for item in value:
            _xml_fill(ET.SubElement(element, item_tag), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _XML_ILLEGAL.sub("", str(value))


def _xml(data, root: str) -> bytes:
    element = ET.Element(root)
    _xml_fill(element, data)
    body = ET.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()


def _respond(data, fmt: str, *, root: str, status: int = 200) -> HttpResponse:
    body = _xml(data, root) if fmt == "xml" else json.dumps(data, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def _error_response(error: Open311Error, fmt: str) -> HttpResponse:
    data = [{"code": error.code, "description": error.description}]
    response = _respond(data, fmt, root="errors", status=error.code)
    for header, value in error.headers.items():
        response[header] = value
    return response


def _endpoint(*methods: str) -> Callable:
    """Method check, English, errors in the spec's format, CORS for reads, no CSRF (API keys)."""
    allowed = tuple(dict.fromkeys([*methods, "HEAD"] if "GET" in methods else methods))

    def decorate(view):
        @wraps(view)
        def wrapper(request: HttpRequest, fmt: str | None, **kwargs) -> HttpResponse:
            fmt = fmt or "json"
            with translation.override("en"):
                try:
                    if request.method not in allowed:
                        raise Open311Error(
                            405,
                            f"{request.method} is not allowed here; use {' or '.join(methods)}.",
                            headers={"Allow": ", ".join(allowed)},
                        )
                    response = view(request, fmt, **kwargs)
                except Open311Error as error:
                    response = _error_response(error, fmt)
            if request.method in ("GET", "HEAD"):
                response["Access-Control-Allow-Origin"] = "*"
            return response

        return csrf_exempt(wrapper)

    return decorate


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


# --- Discovery and services ---------------------------------------------------------------------


@_endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    city = settings.CITY
    data = {
        "changeset": CHANGESET,
        "contact": f"{city['name']}: {city['email']}, {city['phone']}",
        "key_service": (
            f"Reading is open to all. To submit requests, ask for an API key at {city['email']}."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                # The address the client reached us at: always one it can reach again.
                "url": request.build_absolute_uri("/open311/v2"),  # where the client reached us
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return _respond(data, fmt, root="discovery")


@_endpoint("GET")
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    # jurisdiction_id is accepted and ignored: this server answers for one city.
    categories = _api_categories().annotate(
        has_attributes=Exists(ServiceAttribute.objects.filter(category=OuterRef("pk")))
    )
    data = [
        {
            "service_code": category.code,
            "service_name": category.name_en,
            "description": category.description_en or None,
            "metadata": category.has_attributes,
            "type": "realtime",
            "keywords": category.keywords or None,
            "group": category.group or None,
        }
        for category in categories
    ]
    return _respond(data, fmt, root="services")


def _api_categories():
    """What API clients can use: active categories that take reports without a signed-in
    resident (the others need a City Hall account, which Open311 clients do not have)."""
    return ServiceCategory.objects.filter(is_active=True, allow_anonymous=True)


def _active_category(code: str) -> ServiceCategory | None:
    return _api_categories().filter(code=code).select_related("department").first()


def _attribute_values(attribute: ServiceAttribute) -> list[dict[str, str]]:
    """The stored list [{"key": "car", "en": "Car", "es": "Auto"}] as Open311 key/name pairs."""
    values = []
    for value in attribute.values or []:
        if isinstance(value, dict) and value.get("key") not in (None, ""):
            key = str(value["key"])
            values.append({"key": key, "name": str(value.get("en") or value.get("name") or key)})
        elif isinstance(value, str | int) and not isinstance(value, bool):
            values.append({"key": str(value), "name": str(value)})
    return values


@_endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    category = _active_category(code)
    if category is None:
        raise Open311Error(404, f"service_code {code} not found.")
    attributes = []
    for attribute in category.attributes.all():
        item = {
            "variable": True,
            "code": attribute.code,
            "datatype": attribute.datatype,
            "required": attribute.required,
            "datatype_description": _DATATYPE_DESCRIPTIONS.get(attribute.datatype),
            "order": attribute.order,
            "description": attribute.description_en,
        }
        if attribute.datatype in (Datatype.SINGLE, Datatype.MULTI):
            item["values"] = _attribute_values(attribute)
        attributes.append(item)
    data = {"service_code": category.code, "attributes": attributes}
    return _respond(data, fmt, root="service_definition")


def _service_notice(category: ServiceCategory, department_name: str | None = None) -> str:
    department_name = department_name or category.department.name
    return (
        f"{department_name} reviews new reports within {category.triage_sla_days} business days "
        f"and aims to resolve them within {category.resolution_sla_days} business days."
    )


# --- Requests: reading --------------------------------------------------------------------------


def _requests_queryset():
    # Private categories (neighbour noise, substandard housing) never leave City Hall.
    return (
        ServiceRequest.objects.filter(category__sensitive=False)
        .select_related("category__department", "department")
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=RequestPhoto.objects.filter(hidden=False),
                to_attr="visible_photos",
            )
        )
    )


def _media_url(photo: RequestPhoto) -> str:
    # The public photo view (hidden photos are never served there), not the storage URL.
    return absolute_url(reverse("code_enforcement:photo", args=[photo.request.public_id, photo.pk]))


def _request_data(service_request: ServiceRequest) -> dict:
    """One request as Open311 sees it: never the reporter's name, email or phone."""
    category = service_request.category
    department = service_request.department or category.department
    closed = service_request.status == RequestStatus.CLOSED
    photos = getattr(service_request, "visible_photos", [])
    expected = None
    if service_request.resolve_due:
        expected = timezone.make_aware(
            datetime.combine(service_request.resolve_due, clock(23, 59, 59))
        )
    updated = (
        service_request.closed_at
        if closed and service_request.closed_at
        else service_request.updated_at
    )
    return {
        "service_request_id": service_request.public_id,
        "status": "closed" if closed else "open",
        "status_notes": service_request.status_notes or None,
        "service_name": category.name_en,
        "service_code": category.code,
        "description": service_request.description or None,
        "agency_responsible": department.name if department else None,
        "service_notice": _service_notice(category, department.name if department else None),
        "requested_datetime": _iso(service_request.created_at),
        "updated_datetime": _iso(updated),
        "expected_datetime": _iso(expected),
        "address": service_request.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": service_request.latitude,
        "long": service_request.longitude,
        "media_url": _media_url(photos[0]) if photos else service_request.media_url or None,
    }


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


_PUBLIC_ID = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def _ids(value: str) -> list[str]:
    # Only what could be an id reaches the database (no NUL bytes, no 5,000-character ids).
    ids = [part for part in _split(value) if _PUBLIC_ID.match(part)]
    return list(dict.fromkeys(ids + [public_id.upper() for public_id in ids]))


def _parse_when(value: str, name: str) -> tuple[datetime, bool]:
    """A W3C/ISO 8601 date-time (naive means city time) or a date; returns (moment, date_only)."""
    value = value.strip()
    for candidate in (value, _SPACE_FOR_PLUS.sub(r"+\1", value)):
        try:
            moment = parse_datetime(candidate)
        except ValueError:
            moment = None
        if moment is not None:
            return (timezone.make_aware(moment) if timezone.is_naive(moment) else moment), False
    try:
        day = parse_date(value)
    except ValueError:
        day = None
    if day is None:
        raise Open311Error(
            400, f"{name} is not a valid W3C date and time, e.g. 2026-05-01T00:00:00-07:00."
        )
    return timezone.make_aware(datetime.combine(day, clock.min)), True


def _date_window(params) -> tuple[datetime, datetime | None]:
    """(from, before): requested_datetime >= from and < before. Spans at most 90 days."""
    start = end = None
    end_date_only = False
    if params.get("start_date", "").strip():
        start, _date_only = _parse_when(params["start_date"], "start_date")
    if params.get("end_date", "").strip():
        end, end_date_only = _parse_when(params["end_date"], "end_date")
    if start and end:
        if end < start:
            raise Open311Error(400, "end_date is before start_date.")
        if end - start > MAX_WINDOW:
            raise Open311Error(400, "start_date and end_date may not span more than 90 days.")
    elif start:
        end = start + MAX_WINDOW
    elif end:
        start = end - MAX_WINDOW
    else:
        return timezone.now() - MAX_WINDOW, None
    # A date alone as end_date includes that whole day.
    before = end + timedelta(days=1) if end_date_only else end + timedelta(microseconds=1)
    return start, before


def _request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    params = request.GET
    requests = _requests_queryset()
    ids = _ids(params.get("service_request_id", ""))
    if ids:
        # The spec: service_request_id overrides every other filter.
        requests = requests.filter(public_id__in=ids)
    else:
        codes = _split(params.get("service_code", ""))
        if codes:
            requests = requests.filter(category__code__in=codes)
        start, before = _date_window(params)
        requests = requests.filter(created_at__gte=start)
        if before is not None:
            requests = requests.filter(created_at__lt=before)
        statuses = {status.lower() for status in _split(params.get("status", ""))}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status must be open, closed or both (comma-separated).")
        if statuses == {"open"}:
            requests = requests.exclude(status=RequestStatus.CLOSED)
        elif statuses == {"closed"}:
            requests = requests.filter(status=RequestStatus.CLOSED)
    data = [_request_data(r) for r in requests.order_by("-created_at", "-pk")[:MAX_RESULTS]]
    return _respond(data, fmt, root="service_requests")


@_endpoint("GET")
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    found = _requests_queryset().filter(public_id__in=_ids(request_id)).first()
    if found is None:
        raise Open311Error(404, f"service_request_id {request_id} not found.")
    return _respond([_request_data(found)], fmt, root="service_requests")


@_endpoint("GET")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    # Requests get their id at once, so the only tokens are the ids themselves.
    public_id = (
        ServiceRequest.objects.filter(public_id__in=_ids(token), category__sensitive=False)
        .values_list("public_id", flat=True)
        .first()
    )
    if public_id is None:
        raise Open311Error(404, f"token {token} not found.")
    return _respond(
        [{"service_request_id": public_id, "token": token}], fmt, root="service_requests"
    )


@_endpoint("GET", "POST")
def not_found(request: HttpRequest, fmt: str | None, rest: str = "") -> HttpResponse:
    raise Open311Error(404, "There is no such Open311 endpoint; see discovery.json.")


# --- Requests: submitting -----------------------------------------------------------------------


def _api_key(request: HttpRequest) -> ApiKey:
    raw = (request.POST.get("api_key") or request.GET.get("api_key") or "").strip()
    if not raw:
        raise Open311Error(
            403, f"api_key is required to submit requests. Ask for one at {settings.CITY['email']}."
        )
    key = ApiKey.find(raw)
    if key is None:
        raise Open311Error(403, "api_key is not valid: it is unknown or has been revoked.")
    return key


def _now() -> float:
    return time.time()


def _count_against_limit(key: ApiKey) -> None:
    """Fixed one-minute windows in the shared cache: the same count on every web worker."""
    now = _now()
    window = int(now // RATE_WINDOW_SECONDS)
    cache_key = f"open311:rate:{key.key_hash[:24]}:{window}"
    if cache.add(cache_key, 1, timeout=RATE_WINDOW_SECONDS * 2):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=RATE_WINDOW_SECONDS * 2)
            count = 1
    if count > key.requests_per_minute:
        retry_after = max(1, math.ceil((window + 1) * RATE_WINDOW_SECONDS - now))
        raise Open311Error(
            429,
            f"Rate limit exceeded: this api_key may submit {key.requests_per_minute} requests "
            f"per minute. Try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


def _location(params) -> tuple[str, str, str]:
    """(latitude, longitude, address) from lat+long, address_string or address_id."""
    lat, lon = params.get("lat", "").strip(), params.get("long", "").strip()
    address_string = " ".join(params.get("address_string", "").split())
    address_id = params.get("address_id", "").strip()
    if lat or lon:
        if not (lat and lon):
            raise Open311Error(400, "Give both lat and long.")
        return lat, lon, address_string
    if not (address_string or address_id):
        raise Open311Error(
            400, "A location is required: lat and long, address_string or address_id."
        )
    found = None
    if address_string:
        # "12 Main Street" or "12 Main Street, Riverbend, CA 95000".
        lines = dict.fromkeys([address_string, address_string.split(",")[0].strip()])
        for line in lines:
            found = Address.objects.filter(line__iexact=line).first()
            if found:
                break
    if found is None and address_id.isdigit():
        found = Address.objects.filter(pk=int(address_id)).first()
    if found is None:
        raise Open311Error(400, "location not found in the city: give lat and long instead.")
    return str(found.latitude), str(found.longitude), found.line


def _attribute_answers(category: ServiceCategory, params) -> dict:
    """attribute[CODE] (and attribute[CODE][] for multivaluelist), as sent; the service checks
    them against the category's definitions."""
    answers: dict = {}
    for attribute in category.attributes.all():
        name = f"attribute[{attribute.code}]"
        if attribute.datatype == Datatype.MULTI:
            answers[attribute.code] = params.getlist(name + "[]") + params.getlist(name)
        else:
            answers[attribute.code] = params.get(name, "")
    return answers


def _open311_message(error: ValidationError) -> str:
    """A service's refusal in Open311's field names (description, attribute[CODE])."""
    if hasattr(error, "error_dict"):
        return " ".join(
            f"{field}: {message}" if field != "__all__" else message
            for field, errors in error.message_dict.items()
            for message in errors
        )
    return " ".join(str(message) for message in error.messages)


def _media_url_param(params) -> str:
    url = params.get("media_url", "").strip()
    if not url:
        return ""
    validator = URLValidator(schemes=["http", "https"])
    try:
        if len(url) > 500:
            raise ValidationError("too long")
        validator(url)
    except ValidationError:
        raise Open311Error(
            400, "media_url must be an http or https URL of at most 500 characters."
        ) from None
    return url


def _contact(params) -> dict[str, str]:
    email = params.get("email", "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise Open311Error(400, "email is not a valid email address.") from None
    try:
        phone = normalize_sms_phone(params.get("phone", ""))
    except ValidationError:
        # Optional in the spec, and written every way there is: a number we cannot text is
        # left out rather than refusing the report.
        phone = ""
    name = " ".join(" ".join([params.get("first_name", ""), params.get("last_name", "")]).split())
    return {"contact_name": name[:100], "contact_email": email, "contact_phone": phone}


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.content_type == "application/json":
        raise Open311Error(
            400, "Send form fields (application/x-www-form-urlencoded), as GeoReport v2 specifies."
        )
    key = _api_key(request)
    _count_against_limit(key)
    try:
        ratelimit.check(request, "open311_post")
    except ratelimit.Limited as limited:
        raise Open311Error(
            429,
            f"Too many requests from this address; try again in {limited.retry_after} seconds.",
            headers={"Retry-After": str(limited.retry_after)},
        ) from None
    params = request.POST
    code = params.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required.")
    category = _active_category(code)
    if category is None:
        raise Open311Error(404, f"service_code {code} not found.")
    latitude, longitude, address = _location(params)
    attributes = _attribute_answers(category, params)
    contact = _contact(params)
    # device_id and account_id are accepted and ignored: no accounts are linked. media_url is
    # kept and shown to staff as a link; the City never fetches what a client points it to.
    media_url = _media_url_param(params)
    try:
        created, _secret = services.request_submit(
            category=category,
            description=params.get("description", ""),
            latitude=latitude,
            longitude=longitude,
            address=address,
            attributes=attributes,
            attribute_names=lambda attribute_code: f"attribute[{attribute_code}]",
            language="en",
            source=Source.OPEN311,
            api_key=key,
            media_url=media_url,
            **contact,
        )
    except ValidationError as error:
        raise Open311Error(400, _open311_message(error)) from None
    data = [
        {
            "service_request_id": created.public_id,
            "service_notice": _service_notice(category),
            "account_id": None,
        }
    ]
    return _respond(data, fmt, root="service_requests", status=201)


@public_page
@_endpoint("GET", "POST")
def request_collection(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    return _request_list(request, fmt)
