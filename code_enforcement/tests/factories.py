"""Small helpers that build valid code enforcement objects for tests.

Requests are filed through `services.request_submit` (the same call the wizard and Open311
make) and move only through the services; nothing here writes a status directly, except the
`*_days_ago` helpers that age a row the way time would.
"""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from cityhall.models import Neighborhood, User
from cityhall.places import DEMO_NEIGHBORHOODS, neighborhoods_load
from cityhall.roles import Role
from code_enforcement import services
from code_enforcement.constants import Datatype
from code_enforcement.models import (
    Address,
    CodeCase,
    Department,
    ServiceAttribute,
    ServiceCategory,
    ServiceRequest,
    ViolationType,
)
from tests.personas import make_staff

DOWNTOWN = (36.405, -121.300)
# One metre of latitude, in degrees (the haversine of services.distance_m agrees within 0.1%).
METRE = 1 / 111_195


def ensure_city() -> None:
    """The demo neighborhoods (the city limits); loading twice changes nothing."""
    if not Neighborhood.objects.exists():
        neighborhoods_load(path=DEMO_NEIGHBORHOODS)


# --- Setup ----------------------------------------------------------------------------------------


def make_department(name: str = "Public Works") -> Department:
    department, _created = Department.objects.get_or_create(
        name=name, defaults={"email": "works@riverbend.example"}
    )
    return department


_NAMES = {
    "pothole": ("Pothole", "Bache"),
    "graffiti": ("Graffiti", "Grafiti"),
    "overgrown-lot": ("Overgrown lot", "Lote descuidado"),
    "unsafe-building": ("Unsafe building", "Edificio inseguro"),
    "abandoned-vehicle": ("Abandoned vehicle", "Vehículo abandonado"),
}


def make_category(code: str = "pothole", **kw) -> ServiceCategory:
    """An active bilingual category of the Public Works department (unless overridden)."""
    name_en, name_es = _NAMES.get(code, (code.replace("-", " ").capitalize(), f"{code} (es)"))
    fields = {
        "name_en": name_en,
        "name_es": name_es,
        "description_en": f"Report a {name_en.lower()}.",
        "description_es": f"Reporte: {name_es.lower()}.",
        "group": "Streets",
        "department": kw.pop("department", None) or make_department(),
    }
    fields.update(kw)
    return ServiceCategory.objects.create(code=code, **fields)


def make_required_attribute(category: ServiceCategory, code: str = "kind") -> ServiceAttribute:
    """A required single choice: car or truck."""
    return ServiceAttribute.objects.create(
        category=category,
        code=code,
        datatype=Datatype.SINGLE,
        required=True,
        description_en="What kind of vehicle?",
        description_es="¿Qué tipo de vehículo?",
        values=[
            {"key": "car", "en": "Car", "es": "Auto"},
            {"key": "truck", "en": "Truck", "es": "Camión"},
        ],
    )


def make_address(line: str = "120 Oak Street", lat: float = 36.420, lon: float = -121.330):
    ensure_city()
    return Address.objects.create(line=line, latitude=lat, longitude=lon)


def make_violation_type(code_section: str = "RMC 8.24.040", **kw) -> ViolationType:
    fields = {
        "title_en": "Overgrown vegetation",
        "title_es": "Vegetación descuidada",
        "correction_en": "Cut the weeds to under 6 inches.",
        "correction_es": "Corte la maleza a menos de 15 cm.",
    }
    fields.update(kw)
    return ViolationType.objects.create(code_section=code_section, **fields)


def staff(role: Role, name: str | None = None) -> User:
    """A staff member with `role`; `name` keeps several of one role apart."""
    email = f"{name or 'ce.' + role.value.replace('_', '.')}@riverbend.example"
    return User.objects.filter(email=email).first() or make_staff(role, email)


# --- Requests -------------------------------------------------------------------------------------


def submit(category: ServiceCategory | None = None, *, lat=DOWNTOWN[0], lon=DOWNTOWN[1], **kw):
    """File a request through the service; returns (request, reporter secret)."""
    ensure_city()
    fields = {
        "description": "Deep pothole by the curb",
        "address": "100 Main Street",
    }
    fields.update(kw)
    return services.request_submit(
        category=category or ServiceCategory.objects.first() or make_category(),
        latitude=lat,
        longitude=lon,
        **fields,
    )


def make_request(
    category: ServiceCategory | None = None, *, lat=DOWNTOWN[0], lon=DOWNTOWN[1], **kw
) -> ServiceRequest:
    """A new request filed through services.request_submit (anonymous unless reporter=...)."""
    request, _secret = submit(category, lat=lat, lon=lon, **kw)
    return request


def closed_days_ago(request: ServiceRequest, days: float) -> ServiceRequest:
    ServiceRequest.objects.filter(pk=request.pk).update(
        closed_at=timezone.now() - timedelta(days=days)
    )
    return ServiceRequest.objects.get(pk=request.pk)


# --- Cases ----------------------------------------------------------------------------------------


def make_case(*requests: ServiceRequest, actor: User | None = None, **kw) -> CodeCase:
    actor = actor or staff(Role.CODE_INSPECTOR)
    return services.case_open(
        requests=list(requests) or [make_request(address="12 Elm Street")], actor=actor, **kw
    )


def case_with_notice(
    *requests: ServiceRequest,
    actor: User | None = None,
    inspector: User | None = None,
    severity: str = "medium",
    violation_type: ViolationType | None = None,
    language: str = "en",
    **kw,
) -> CodeCase:
    """A case through inspection and one violation to an issued notice."""
    actor = actor or staff(Role.CODE_INSPECTOR)
    case = make_case(*requests, actor=actor, inspector=inspector, **kw)
    services.case_schedule_inspection(
        case=case, actor=actor, when=timezone.localdate(), inspector=inspector
    )
    case.refresh_from_db()  # the services read the status of the object they are given
    services.case_record_violation(
        case=case,
        actor=actor,
        violation_type=violation_type or ViolationType.objects.first() or make_violation_type(),
        description="Weeds three feet tall along the fence.",
        severity=severity,
    )
    services.case_issue_notice(case=case, actor=actor, language=language)
    return CodeCase.objects.get(pk=case.pk)


# --- Photos ---------------------------------------------------------------------------------------


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes_float = (value - degrees) * 60
    minutes = int(minutes_float)
    seconds = round((minutes_float - minutes) * 60, 4)
    return float(degrees), float(minutes), seconds


def jpeg_bytes(
    gps: tuple[float, float] | None = None,
    *,
    size: tuple[int, int] = (64, 48),
    color=(200, 30, 30),
    camera: str = "Canon EOS 5D",
) -> bytes:
    """A real JPEG with EXIF (camera make, and GPS tags when `gps=(lat, lon)` is given)."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = camera  # Make
    if gps is not None:
        lat, lon = gps
        exif[0x8825] = {
            1: "N" if lat >= 0 else "S",
            2: _dms(lat),
            3: "E" if lon >= 0 else "W",
            4: _dms(lon),
        }
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def jpeg_upload(name: str = "photo.jpg", gps=None, *, pad_to: int | None = None, **kw):
    """A JPEG upload; `pad_to` appends bytes after the image so the file has that size."""
    data = jpeg_bytes(gps, **kw)
    if pad_to is not None and pad_to > len(data):
        data += b"\0" * (pad_to - len(data))
    return SimpleUploadedFile(name, data, content_type="image/jpeg")
