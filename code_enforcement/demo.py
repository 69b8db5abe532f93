"""Code enforcement demo data: categories, the address list, two years of seasonal requests,
cases in every state and inspectors with schedules."""

from __future__ import annotations

import math
import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from cityhall.constants import EventKind
from cityhall.models import Neighborhood, User, system_user
from cityhall.numbering import case_sequence, next_number, set_at_least

from .constants import (
    CaseStatus,
    Datatype,
    InspectionKind,
    InspectionResult,
    RequestStatus,
    Resolution,
    Severity,
    Source,
)
from .models import (
    Address,
    CaseEvent,
    CaseInspection,
    CodeCase,
    Department,
    RequestEvent,
    ServiceAttribute,
    ServiceCategory,
    ServiceRequest,
    Violation,
    ViolationType,
)

DEPARTMENTS = {
    "Code Enforcement": "Cumplimiento de Códigos",
    "Public Works": "Obras Públicas",
    "Police (non-emergency)": "Policía (no emergencias)",
}

# code, en, es, description en/es, group, department, triage, resolve, anonymous, opens cases, sensitive,
# weight, summer peak (seasonality), attributes
CATEGORIES = [
    (
        "overgrown-vegetation",
        "Overgrown vegetation",
        "Vegetación crecida",
        "Weeds or brush that are a fire or pest risk.",
        "Maleza o arbustos que son riesgo de incendio o plagas.",
        "Property",
        0,
        3,
        20,
        True,
        True,
        False,
        14,
        1.6,
        [],
    ),
    (
        "illegal-dumping",
        "Illegal dumping",
        "Basura tirada ilegalmente",
        "Furniture, mattresses or trash left on streets or lots.",
        "Muebles, colchones o basura dejados en calles o lotes.",
        "Streets",
        1,
        2,
        10,
        True,
        False,
        False,
        18,
        1.2,
        [
            (
                "items",
                Datatype.MULTI,
                True,
                "What was dumped?",
                "¿Qué tiraron?",
                [
                    ("furniture", "Furniture", "Muebles"),
                    ("mattress", "Mattress", "Colchón"),
                    ("trash", "Bags of trash", "Bolsas de basura"),
                    ("tires", "Tires", "Llantas"),
                ],
            )
        ],
    ),
    (
        "graffiti",
        "Graffiti",
        "Grafiti",
        "Graffiti on public or private property.",
        "Grafiti en propiedad pública o privada.",
        "Streets",
        1,
        2,
        10,
        True,
        False,
        False,
        16,
        1.0,
        [
            (
                "surface",
                Datatype.SINGLE,
                True,
                "Where is it painted?",
                "¿Dónde está pintado?",
                [
                    ("wall", "Wall or fence", "Pared o cerca"),
                    ("sign", "Sign or pole", "Letrero o poste"),
                    ("other", "Somewhere else", "Otro lugar"),
                ],
            )
        ],
    ),
    (
        "abandoned-vehicle",
        "Abandoned vehicle",
        "Vehículo abandonado",
        "A vehicle parked more than 72 hours or inoperable.",
        "Un vehículo estacionado más de 72 horas o que no funciona.",
        "Streets",
        2,
        2,
        10,
        True,
        False,
        False,
        10,
        1.0,
        [("plate", Datatype.STRING, False, "License plate", "Placa", [])],
    ),
    (
        "unpermitted-construction",
        "Unpermitted construction",
        "Construcción sin permiso",
        "Building work without a visible permit.",
        "Obras sin un permiso visible.",
        "Property",
        0,
        3,
        30,
        True,
        True,
        False,
        5,
        1.2,
        [],
    ),
    (
        "substandard-housing",
        "Substandard housing",
        "Vivienda en malas condiciones",
        "Unsafe or unhealthy rental housing: mold, no heat, pests.",
        "Vivienda de alquiler insegura o insalubre: moho, sin calefacción, plagas.",
        "Property",
        0,
        2,
        30,
        False,
        True,
        True,
        5,
        0.8,
        [],
    ),
    (
        "noise",
        "Noise",
        "Ruido",
        "Ongoing loud noise from a business or property.",
        "Ruido fuerte y constante de un negocio o propiedad.",
        "Neighborhood",
        2,
        3,
        15,
        True,
        False,
        True,
        6,
        1.4,
        [],
    ),
    (
        "pothole",
        "Pothole",
        "Bache",
        "A hole in the street.",
        "Un hoyo en la calle.",
        "Streets",
        1,
        2,
        15,
        True,
        False,
        False,
        14,
        0.7,
        [
            (
                "size",
                Datatype.SINGLE,
                False,
                "How big is it?",
                "¿Qué tan grande es?",
                [
                    ("small", "Smaller than a plate", "Más chico que un plato"),
                    ("large", "Larger than a plate", "Más grande que un plato"),
                ],
            )
        ],
    ),
    (
        "streetlight-out",
        "Streetlight out",
        "Alumbrado apagado",
        "A streetlight that is off or flickering.",
        "Una lámpara de calle apagada o que parpadea.",
        "Streets",
        1,
        2,
        10,
        True,
        False,
        False,
        8,
        0.8,
        [
            (
                "pole",
                Datatype.STRING,
                False,
                "Pole number, if you see one",
                "Número del poste, si lo ve",
                [],
            )
        ],
    ),
    (
        "damaged-sidewalk",
        "Damaged sidewalk",
        "Banqueta dañada",
        "Broken or lifted sidewalk that is a trip hazard.",
        "Banqueta rota o levantada que puede causar caídas.",
        "Streets",
        1,
        3,
        30,
        True,
        False,
        False,
        6,
        1.0,
        [],
    ),
]

VIOLATIONS = [
    (
        "RMC 8.12.030",
        "Overgrown vegetation",
        "Vegetación crecida",
        "Cut weeds and brush to under 6 inches and remove the cuttings.",
        "Corte la maleza a menos de 6 pulgadas y retire los restos.",
        {"low": 21, "medium": 14, "high": 7, "critical": 3},
    ),
    (
        "RMC 8.20.010",
        "Accumulated junk and debris",
        "Acumulación de basura y escombros",
        "Remove the junk and debris from the property.",
        "Retire la basura y los escombros de la propiedad.",
        {},
    ),
    (
        "RMC 15.04.100",
        "Work without a building permit",
        "Obras sin permiso de construcción",
        "Apply for a building permit or remove the work.",
        "Solicite un permiso de construcción o retire la obra.",
        {"low": 30, "medium": 30, "high": 14, "critical": 2},
    ),
    (
        "RMC 15.40.200",
        "Substandard housing conditions",
        "Condiciones de vivienda deficientes",
        "Repair the conditions listed so the unit is safe and sanitary.",
        "Repare las condiciones indicadas para que la vivienda sea segura y salubre.",
        {},
    ),
    (
        "RMC 9.36.050",
        "Excessive noise",
        "Ruido excesivo",
        "Keep noise within the limits of the noise ordinance.",
        "Mantenga el ruido dentro de los límites de la ordenanza.",
        {"low": 7, "medium": 3, "high": 1, "critical": 1},
    ),
]

STREETS = [
    "Oak Street",
    "Main Street",
    "River Road",
    "Calle Palma",
    "Mission Avenue",
    "Sunset Boulevard",
    "Eastgate Drive",
    "Vista del Río Court",
    "Hill Road",
    "Camino Real",
    "Pine Street",
    "Market Street",
    "Alvarado Way",
    "Sequoia Lane",
]


@transaction.atomic
def demo_load() -> dict[str, int]:
    created = {"service categories": 0, "addresses": 0, "service requests": 0, "code cases": 0}
    departments = {
        name: Department.objects.update_or_create(name=name, defaults={"name_es": name_es})[0]
        for name, name_es in DEPARTMENTS.items()
    }
    categories = {}
    for position, row in enumerate(CATEGORIES):
        (
            code,
            en,
            es,
            d_en,
            d_es,
            group,
            dept,
            triage,
            resolve,
            anonymous,
            cases,
            sensitive,
            _w,
            _s,
            attrs,
        ) = row
        category, new = ServiceCategory.objects.get_or_create(
            code=code,
            defaults={
                "name_en": en,
                "name_es": es,
                "description_en": d_en,
                "description_es": d_es,
                "group": group,
                "department": departments[list(DEPARTMENTS)[dept]],
                "triage_sla_days": triage,
                "resolution_sla_days": resolve,
                "allow_anonymous": anonymous,
                "opens_cases": cases,
                "sensitive": sensitive,
                "position": position,
                "keywords": en.lower(),
            },
        )
        if new:
            created["service categories"] += 1
            for order, (a_code, datatype, required, q_en, q_es, values) in enumerate(
                attrs, start=1
            ):
                ServiceAttribute.objects.create(
                    category=category,
                    code=a_code,
                    datatype=datatype,
                    required=required,
                    order=order,
                    description_en=q_en,
                    description_es=q_es,
                    values=[{"key": k, "en": v_en, "es": v_es} for k, v_en, v_es in values],
                )
        categories[code] = (category, row[12], row[13])
    for code_section, en, es, c_en, c_es, days in VIOLATIONS:
        ViolationType.objects.get_or_create(
            code_section=code_section,
            defaults={
                "title_en": en,
                "title_es": es,
                "correction_en": c_en,
                "correction_es": c_es,
                "comply_days": days,
            },
        )

    rng = random.Random(311)
    hoods = list(Neighborhood.objects.all())
    if not Address.objects.exists() and hoods:
        rows, seen = [], set()
        for hood in hoods:
            for _n in range(180):
                line = f"{rng.randint(10, 2999)} {rng.choice(STREETS)}"
                if line in seen:
                    continue
                seen.add(line)
                rows.append(
                    Address(
                        line=line,
                        latitude=rng.uniform(hood.min_lat, hood.max_lat),
                        longitude=rng.uniform(hood.min_lon, hood.max_lon),
                        neighborhood=hood,
                    )
                )
        # City Hall's own address and the example the forms give are real addresses too.
        downtown = next((hood for hood in hoods if hood.name == "Downtown"), hoods[0])
        for line in ("100 Main Street", "120 Oak Street"):
            if line not in seen:
                rows.append(
                    Address(
                        line=line,
                        latitude=(downtown.min_lat + downtown.max_lat) / 2,
                        longitude=(downtown.min_lon + downtown.max_lon) / 2,
                        neighborhood=downtown,
                    )
                )
        Address.objects.bulk_create(rows)
        created["addresses"] = len(rows)

    if (
        ServiceRequest.objects.filter(
            source=Source.PHONE, description__startswith="[demo]"
        ).exists()
        or not hoods
    ):
        return created
    addresses = list(Address.objects.select_related("neighborhood"))
    residents = list(User.objects.filter(email__endswith="@residents.example")[:200]) + list(
        User.objects.filter(email__in=["maria@example.com", "john@example.com"])
    )
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    staff = system_user()
    weights = [w for _c, w, _s in categories.values()]
    cats = list(categories.values())
    requests = []
    now = timezone.now()
    for day in range(730, -1, -1):
        date = today - timedelta(days=day)
        seasonal = 1 + 0.35 * math.sin(2 * math.pi * (date.timetuple().tm_yday - 100) / 365)
        weekday = 0.7 if date.weekday() >= 5 else 1.0
        count = max(0, int(rng.gauss(26 * seasonal * weekday, 4)))
        for _n in range(count):
            category, _w, summer = rng.choices(cats, weights=weights)[0]
            if summer > 1 and rng.random() > seasonal / 1.35:
                continue
            place = rng.choice(addresses)
            created_at = timezone.make_aware(
                datetime.combine(date, time(rng.randint(6, 21), rng.randint(0, 59))), tz
            )
            # Today's reports were made before now, never later in the day.
            created_at = min(created_at, now - timedelta(minutes=10))
            age = day
            status, resolution, closed_at = RequestStatus.NEW, "", None
            if age > 2 or rng.random() < 0.4:
                status = RequestStatus.ACKNOWLEDGED
            # Most reports close within weeks; a backlog of older ones stays open, but a city
            # does not keep hundreds of reports open for a year and more.
            if age > 5 and rng.random() < (0.9 if age <= 90 else 0.997):
                status = RequestStatus.CLOSED
                closed_at = created_at + timedelta(
                    days=max(1, rng.gauss(category.resolution_sla_days * 0.8, 5))
                )
                if closed_at > now:
                    status, closed_at = RequestStatus.IN_PROGRESS, None
                else:
                    resolution = rng.choices(
                        [
                            Resolution.RESOLVED,
                            Resolution.DUPLICATE,
                            Resolution.NO_VIOLATION,
                            Resolution.REFERRED,
                        ],
                        weights=[78, 8, 9, 5],
                    )[0]
            reporter = rng.choice(residents) if residents and rng.random() < 0.45 else None
            requests.append(
                ServiceRequest(
                    category=category,
                    status=status,
                    resolution=resolution,
                    description=f"[demo] {category.name_en}",
                    address=place.line,
                    latitude=place.latitude + rng.uniform(-0.0003, 0.0003),
                    longitude=place.longitude + rng.uniform(-0.0003, 0.0003),
                    neighborhood=place.neighborhood,
                    reporter=reporter,
                    language=reporter.preferred_language
                    if reporter
                    else rng.choice(["es", "en", "es"]),
                    source=rng.choices(
                        [Source.WEB, Source.OPEN311, Source.PHONE], weights=[70, 10, 20]
                    )[0],
                    department=category.department,
                    created_at=created_at,
                    triage_due=date + timedelta(days=category.triage_sla_days + 1),
                    resolve_due=date + timedelta(days=int(category.resolution_sla_days * 1.4)),
                    acknowledged_at=min(created_at + timedelta(hours=rng.randint(2, 60)), now)
                    if status != RequestStatus.NEW
                    else None,
                    closed_at=closed_at,
                    reopened_count=1 if rng.random() < 0.03 else 0,
                )
            )
    bulk_create_with_history(requests, ServiceRequest, default_user=staff, batch_size=2000)
    created["service requests"] = len(requests)
    saved = ServiceRequest.objects.filter(description__startswith="[demo]")
    events = []
    for request in saved.only(
        "pk", "created_at", "status", "acknowledged_at", "closed_at"
    ).iterator(chunk_size=5000):
        events.append(
            RequestEvent(
                request_id=request.pk,
                kind=EventKind.STATUS,
                status=RequestStatus.NEW,
                created_at=request.created_at,
            )
        )
        if request.acknowledged_at:
            events.append(
                RequestEvent(
                    request_id=request.pk,
                    kind=EventKind.STATUS,
                    status=RequestStatus.ACKNOWLEDGED,
                    created_at=request.acknowledged_at,
                )
            )
        if request.closed_at:
            events.append(
                RequestEvent(
                    request_id=request.pk,
                    kind=EventKind.STATUS,
                    status=RequestStatus.CLOSED,
                    created_at=request.closed_at,
                )
            )
    RequestEvent.objects.bulk_create(events, batch_size=5000)

    inspectors = list(User.objects.filter(groups__name="Code inspector"))
    types = list(ViolationType.objects.all())
    case_requests = list(saved.filter(category__opens_cases=True).order_by("created_at")[::12])
    statuses = [
        CaseStatus.OPEN,
        CaseStatus.INSPECTION_SCHEDULED,
        CaseStatus.VIOLATION_CONFIRMED,
        CaseStatus.NOTICE_ISSUED,
        CaseStatus.REINSPECTION,
        CaseStatus.COMPLIED,
        CaseStatus.ESCALATED,
        CaseStatus.NO_VIOLATION,
        CaseStatus.CLOSED,
    ]
    counters: dict[int, int] = {}
    for index, request in enumerate(case_requests):
        year = request.created_at.year
        counters[year] = counters.get(year, 0) + 1
        recent = (today - timezone.localdate(request.created_at)).days < 60
        status = (
            statuses[index % 5]
            if recent
            else rng.choice(
                [
                    CaseStatus.CLOSED,
                    CaseStatus.CLOSED,
                    CaseStatus.COMPLIED,
                    CaseStatus.ESCALATED,
                    CaseStatus.NO_VIOLATION,
                ]
            )
        )
        inspector = rng.choice(inspectors) if inspectors else None
        case = CodeCase(
            number=f"CE-{year}-{counters[year]:05d}",
            status=status,
            address=request.address,
            latitude=request.latitude,
            longitude=request.longitude,
            neighborhood_id=request.neighborhood_id,
            owner_name="Property owner",
            owner_mailing_address=f"{request.address}\nRiverbend, CA 95000",
            owner_language=rng.choice(["es", "en"]),
            inspector=inspector,
            opened_by=staff,
            opened_at=request.created_at + timedelta(days=2),
            comply_by=timezone.localdate(request.created_at) + timedelta(days=20)
            if status
            not in (CaseStatus.OPEN, CaseStatus.INSPECTION_SCHEDULED, CaseStatus.NO_VIOLATION)
            else None,
            fine_amount=250 if status == CaseStatus.ESCALATED else None,
            closed_at=request.created_at + timedelta(days=45)
            if status == CaseStatus.CLOSED
            else None,
            repeat_violation=rng.random() < 0.08,
        )
        case.save()
        ServiceRequest.objects.filter(pk=request.pk).update(case=case)
        CaseEvent.objects.create(case=case, status=status, created_at=case.opened_at, actor=staff)
        if status not in (CaseStatus.OPEN, CaseStatus.NO_VIOLATION) and types:
            Violation.objects.create(
                case=case,
                violation_type=rng.choice(types),
                description="Found at inspection",
                severity=rng.choice(list(Severity)),
                comply_by=case.comply_by or today,
                recorded_by=inspector,
                created_at=case.opened_at + timedelta(days=5),
            )
        when = (
            today + timedelta(days=rng.randint(0, 10))
            if recent
            else timezone.localdate(case.opened_at) + timedelta(days=5)
        )
        # An inspection in the past was done: only today's and later ones are still to do.
        done = when < today and status not in (
            CaseStatus.INSPECTION_SCHEDULED,
            CaseStatus.REINSPECTION,
        )
        if status == CaseStatus.NO_VIOLATION:
            result = InspectionResult.NO_VIOLATION
        elif status == CaseStatus.COMPLIED:
            result = InspectionResult.COMPLIED
        else:
            result = InspectionResult.VIOLATION
        CaseInspection.objects.get_or_create(
            case=case,
            kind=InspectionKind.REINSPECTION
            if status == CaseStatus.REINSPECTION
            else InspectionKind.INITIAL,
            scheduled_for=when,
            defaults={
                "inspector": inspector,
                "result": result if done else "",
                "completed_at": timezone.make_aware(datetime.combine(when, time(11)))
                if done
                else None,
            },
        )
        created["code cases"] += 1
    for year, last in counters.items():
        set_at_least(case_sequence(year), last)
    if _demo_citation(today, inspectors[0] if inspectors else None):
        created["code cases"] += 1
    created["service requests"] += _demo_old_reports(categories)
    return created


def _demo_old_reports(categories) -> int:
    """Reports closed over two years ago, still with who sent them: tonight's disposal run
    (cityhall.records) anonymises them, and the console's retention schedule says so."""
    if ServiceRequest.objects.filter(public_id__startswith="OLD").exists() or not categories:
        return 0
    category = next(iter(categories.values()))[0]
    closed = timezone.now() - timedelta(days=800)
    for number, (name, email, address) in enumerate(
        (
            ("Ana Ruiz", "ana.ruiz@example.com", "415 Elm St"),
            ("Tom Becker", "tom.becker@example.com", "88 River Rd"),
            ("Lucía Méndez", "lucia.mendez@example.com", "120 Oak St"),
        ),
        start=1,
    ):
        request = ServiceRequest.objects.create(
            public_id=f"OLD{number:07d}",
            category=category,
            description="Reported before the city's two-year retention period.",
            address=address,
            contact_name=name,
            contact_email=email,
            contact_phone=f"(555) 010-77{number:02d}",
            created_at=closed - timedelta(days=20),
        )
        ServiceRequest.objects.filter(pk=request.pk).update(
            status=RequestStatus.CLOSED,
            resolution="resolved",
            acknowledged_at=closed - timedelta(days=19),
            closed_at=closed,
        )
    return 3


DEMO_CITATION_ADDRESS = "120 Oak St"


def _demo_citation(today, inspector) -> bool:
    """A citation anyone can pay at /pay/fine/ with its notice number and "120 Oak St"."""
    if CodeCase.objects.filter(address=DEMO_CITATION_ADDRESS, fine_amount__isnull=False).exists():
        return False
    year = today.year
    case = CodeCase.objects.create(
        number=f"CE-{year}-{next_number(case_sequence(year)):05d}",
        status=CaseStatus.ESCALATED,
        address=DEMO_CITATION_ADDRESS,
        owner_name="Rosa Hernández",
        owner_mailing_address=f"{DEMO_CITATION_ADDRESS}\nRiverbend, CA 95000",
        owner_email="owner@example.com",
        owner_language="es",
        inspector=inspector,
        opened_at=timezone.now() - timedelta(days=50),
        comply_by=today - timedelta(days=5),
        fine_amount=250,
        fine_due=today + timedelta(days=25),
    )
    CaseEvent.objects.create(case=case, status=CaseStatus.ESCALATED, actor=inspector)
    print(f"Demo citation to pay without an account: notice {case.number}, {DEMO_CITATION_ADDRESS}")
    return True
