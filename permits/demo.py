"""Permits demo data: ten types and two years of applications in every state."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from cityhall.models import Neighborhood, User, system_user
from cityhall.numbering import next_number, permit_sequence, set_at_least

from .constants import EventKind, FeeKind, Kind, PaymentMethod, Status
from .models import (
    Application,
    DocumentRequirement,
    InspectionType,
    Payment,
    PermitType,
    Question,
    TimelineEvent,
)

INSPECTIONS = [
    ("framing", "Framing", "Estructura"),
    ("electrical-rough", "Electrical rough-in", "Instalación eléctrica preliminar"),
    ("plumbing-rough", "Plumbing rough-in", "Plomería preliminar"),
    ("final", "Final inspection", "Inspección final"),
    ("fire", "Fire safety", "Seguridad contra incendios"),
    ("health", "Health inspection", "Inspección de salud"),
]

# code, kind, name en/es, description en/es, fee kind, amount, minimum, unit en/es, sla, validity, renewable,
# window, grace, reminders, auto, renewal fee, inspections, documents, questions
TYPES = [
    (
        "BLD",
        Kind.PERMIT,
        "Residential addition",
        "Ampliación residencial",
        "Add a room, garage or second story to a home.",
        "Agregue un cuarto, garaje o segundo piso a una casa.",
        FeeKind.PER_VALUATION,
        "12.00",
        "250.00",
        "",
        "",
        20,
        365,
        False,
        0,
        0,
        [],
        False,
        None,
        ["framing", "electrical-rough", "plumbing-rough", "final"],
        [
            ("Site plan", "Plano del sitio", True),
            ("Construction drawings", "Planos de construcción", True),
        ],
        [
            (
                "square_feet",
                "How many square feet will you add?",
                "¿Cuántos pies cuadrados agregará?",
                "number",
                True,
            ),
            ("contractor", "Who will do the work?", "¿Quién hará el trabajo?", "choice", True),
        ],
    ),
    (
        "ELE",
        Kind.PERMIT,
        "Electrical",
        "Eléctrico",
        "New circuits, panel upgrades, solar and EV chargers.",
        "Circuitos nuevos, cambio de panel, paneles solares y cargadores de autos.",
        FeeKind.FLAT,
        "145.00",
        "0",
        "",
        "",
        5,
        180,
        False,
        0,
        0,
        [],
        False,
        None,
        ["electrical-rough", "final"],
        [],
        [],
    ),
    (
        "PLM",
        Kind.PERMIT,
        "Plumbing",
        "Plomería",
        "Water heaters, new fixtures and pipe replacement.",
        "Calentadores de agua, muebles de baño nuevos y cambio de tuberías.",
        FeeKind.FLAT,
        "120.00",
        "0",
        "",
        "",
        5,
        180,
        False,
        0,
        0,
        [],
        False,
        None,
        ["plumbing-rough", "final"],
        [],
        [],
    ),
    (
        "FEN",
        Kind.PERMIT,
        "Fence",
        "Cerca",
        "Fences over 6 feet, or any fence in a front yard.",
        "Cercas de más de 6 pies o cualquier cerca en el jardín delantero.",
        FeeKind.PER_UNIT,
        "1.50",
        "75.00",
        "linear feet",
        "pies lineales",
        5,
        180,
        False,
        0,
        0,
        [],
        False,
        None,
        ["final"],
        [("Site plan", "Plano del sitio", True)],
        [],
    ),
    (
        "SGN",
        Kind.PERMIT,
        "Sign",
        "Letrero",
        "Business signs on buildings or on the ground.",
        "Letreros de negocios en edificios o en el suelo.",
        FeeKind.FLAT,
        "180.00",
        "0",
        "",
        "",
        10,
        365,
        False,
        0,
        0,
        [],
        False,
        None,
        [],
        [("Sign drawing with size", "Dibujo del letrero con medidas", True)],
        [],
    ),
    (
        "SPE",
        Kind.PERMIT,
        "Special event",
        "Evento especial",
        "Street fairs, block parties and events in parks.",
        "Ferias, fiestas de cuadra y eventos en parques.",
        FeeKind.FLAT,
        "95.00",
        "0",
        "",
        "",
        10,
        30,
        False,
        0,
        0,
        [],
        False,
        None,
        [],
        [("Event site map", "Mapa del lugar del evento", True)],
        [
            ("event_date", "Date of the event", "Fecha del evento", "date", True),
            (
                "attendance",
                "How many people do you expect?",
                "¿Cuántas personas espera?",
                "number",
                True,
            ),
        ],
    ),
    (
        "BUS",
        Kind.LICENSE,
        "Business license",
        "Licencia de negocio",
        "Every business in the city needs one, renewed yearly.",
        "Todo negocio en la ciudad la necesita; se renueva cada año.",
        FeeKind.FLAT,
        "85.00",
        "0",
        "",
        "",
        5,
        365,
        True,
        60,
        30,
        [60, 30, 7],
        True,
        "85.00",
        [],
        [],
        [("employees", "How many employees?", "¿Cuántos empleados?", "number", True)],
    ),
    (
        "HOC",
        Kind.LICENSE,
        "Home occupation",
        "Negocio en casa",
        "Run a small business from your home.",
        "Tenga un negocio pequeño en su casa.",
        FeeKind.FLAT,
        "60.00",
        "0",
        "",
        "",
        5,
        365,
        True,
        60,
        30,
        [60, 30, 7],
        False,
        "60.00",
        [],
        [],
        [
            (
                "clients_visit",
                "Will clients visit your home?",
                "¿Lo visitarán clientes en su casa?",
                "yesno",
                True,
            )
        ],
    ),
    (
        "FTR",
        Kind.LICENSE,
        "Food truck",
        "Camión de comida",
        "Sell food from a truck or cart on city streets.",
        "Venda comida en un camión o carrito en las calles.",
        FeeKind.FLAT,
        "250.00",
        "0",
        "",
        "",
        10,
        365,
        True,
        60,
        15,
        [60, 30, 7],
        False,
        "200.00",
        ["health", "fire"],
        [("County health permit", "Permiso de salud del condado", True)],
        [],
    ),
    (
        "FLM",
        Kind.PERMIT,
        "Film",
        "Filmación",
        "Filming on city streets or property.",
        "Filmación en calles o propiedades de la ciudad.",
        FeeKind.FLAT,
        "150.00",
        "0",
        "",
        "",
        5,
        14,
        False,
        0,
        0,
        [],
        False,
        None,
        [],
        [("Certificate of insurance", "Certificado de seguro", True)],
        [],
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
]


# How each demo type is published as open data (types without a BLDS type are licences or other
# permits, published in the licences dataset).
BLDS_MAPPING = {
    "BLD": {"blds_type": "Building", "blds_class": "Residential", "blds_work_class": "Existing"},
    "ELE": {"blds_type": "Electrical", "blds_class": "Residential", "blds_work_class": "Existing"},
    "PLM": {"blds_type": "Plumbing", "blds_class": "Residential", "blds_work_class": "Existing"},
    "FEN": {"blds_type": "Fence", "blds_class": "Residential", "blds_work_class": "New"},
    "SGN": {"blds_type": "Building", "blds_class": "Non-Residential", "blds_work_class": "New"},
}


CONTRACTORS = [
    ("Valle Builders Inc.", "1048217"),
    ("Riverbend Electric", "887312"),
    ("Ortiz Plumbing & Sons", "953108"),
    ("Coastline Fence Co.", "1102945"),
    ("", ""),  # owner-builder
]


def _building_details(permit_type: PermitType, number: str) -> dict:
    """Square footage, units, parcel and contractor for building permits (their own random
    stream, so the rest of the demo data stays as it was)."""
    if not permit_type.blds_type:
        return {}
    pick = random.Random(number)
    contractor, license_number = pick.choice(CONTRACTORS)
    return {
        "total_sq_ft": pick.randrange(120, 2400, 10),
        "housing_units": 1 if permit_type.blds_class == "Residential" else None,
        "parcel_number": f"{pick.randint(1, 999):03d}-{pick.randint(1, 999):03d}-{pick.randint(1, 99):03d}",
        "contractor_name": contractor,
        "contractor_license": license_number,
    }


# The singular of each plural unit above, in English and Spanish ("$1.50 per linear foot").
UNIT_ONE = {"linear feet": ("linear foot", "pie lineal")}


def _types() -> dict[str, PermitType]:
    inspections = {}
    for position, (code, en, es) in enumerate(INSPECTIONS):
        inspections[code], _ = InspectionType.objects.get_or_create(
            code=code, defaults={"name_en": en, "name_es": es, "position": position}
        )
    types = {}
    for position, row in enumerate(TYPES):
        (
            code,
            kind,
            n_en,
            n_es,
            d_en,
            d_es,
            fee_kind,
            amount,
            minimum,
            u_en,
            u_es,
            sla,
            validity,
            renewable,
            window,
            grace,
            reminders,
            auto,
            renewal_fee,
            insp,
            docs,
            questions,
        ) = row
        permit_type, created = PermitType.objects.get_or_create(
            code=code,
            defaults={
                "kind": kind,
                "name_en": n_en,
                "name_es": n_es,
                "description_en": d_en,
                "description_es": d_es,
                "fee_kind": fee_kind,
                "fee_amount": Decimal(amount),
                "minimum_fee": Decimal(minimum),
                "unit_en": u_en,
                "unit_es": u_es,
                "unit_one_en": UNIT_ONE.get(u_en, ("", ""))[0],
                "unit_one_es": UNIT_ONE.get(u_en, ("", ""))[1],
                "review_sla_days": sla,
                "validity_days": validity,
                "renewable": renewable,
                "renewal_window_days": window,
                "grace_days": grace,
                "reminder_offsets": reminders,
                "auto_renew": auto,
                "renewal_fee": Decimal(renewal_fee) if renewal_fee else None,
                "position": position,
                **BLDS_MAPPING.get(code, {"blds_type": ""}),
            },
        )
        if created:
            permit_type.inspection_types.set([inspections[c] for c in insp])
            for n, (en, es, required) in enumerate(docs):
                DocumentRequirement.objects.create(
                    permit_type=permit_type, name_en=en, name_es=es, required=required, position=n
                )
            for n, (key, en, es, kind_q, required) in enumerate(questions):
                choices = (
                    [
                        {
                            "value": "owner",
                            "en": "I will (the owner)",
                            "es": "Lo haré yo (el propietario)",
                        },
                        {
                            "value": "contractor",
                            "en": "A licensed contractor",
                            "es": "Un contratista con licencia",
                        },
                    ]
                    if kind_q == "choice"
                    else []
                )
                Question.objects.create(
                    permit_type=permit_type,
                    key=key,
                    label_en=en,
                    label_es=es,
                    kind=kind_q,
                    choices=choices,
                    required=required,
                    position=n,
                )
        types[code] = permit_type
    return types


@transaction.atomic
def demo_load() -> dict[str, int]:
    types = _types()
    _demo_retention_rules()
    if Application.objects.filter(applicant__email__endswith="@residents.example").exists():
        return {"permit types": 0, "permits": 0}
    rng = random.Random(4242)
    tz = timezone.get_current_timezone()
    hoods = list(Neighborhood.objects.all())
    residents = [
        User(
            email=f"resident{n}@residents.example",
            username=f"resident{n}@residents.example",
            first_name=rng.choice(
                ["Ana", "Luis", "Rosa", "Carlos", "Mei", "James", "Sofía", "Omar"]
            ),
            last_name=rng.choice(["García", "López", "Nguyen", "Smith", "Hernández", "Patel"]),
            preferred_language="es" if rng.random() < 0.6 else "en",
        )
        for n in range(300)
    ]
    for resident in residents:
        resident.set_unusable_password()
    bulk_create_with_history(residents, User, default_user=system_user())
    residents = list(User.objects.filter(email__endswith="@residents.example"))
    residents += list(User.objects.filter(email__in=["maria@example.com", "john@example.com"]))
    staff = system_user()
    # Work under review is someone's: the demo's plan reviewer (if the staff demo loaded).
    reviewer = User.objects.filter(email="reviewer@riverbend.example").first()
    today = timezone.localdate()
    counters: dict[tuple[int, int], int] = {}
    applications, events, payments = [], [], []
    weights = [25, 12, 10, 8, 6, 6, 18, 6, 5, 4]
    for _n in range(2600):
        permit_type = rng.choices(list(types.values()), weights=weights)[0]
        submitted = today - timedelta(days=int(730 * (rng.random() ** 1.2)))
        year = submitted.year
        counters[(permit_type.pk, year)] = counters.get((permit_type.pk, year), 0) + 1
        number = f"{permit_type.code}-{year}-{counters[(permit_type.pk, year)]:06d}"
        age = (today - submitted).days
        roll = rng.random()
        if age < 10:
            status = rng.choice([Status.SUBMITTED, Status.IN_REVIEW, Status.INFO_REQUESTED])
        elif roll < 0.06:
            status = Status.DENIED
        elif roll < 0.1:
            status = Status.WITHDRAWN
        elif age < 25 and roll < 0.3:
            status = Status.APPROVED
        else:
            status = Status.ISSUED
        submitted_at = timezone.make_aware(
            datetime.combine(submitted, time(9 + rng.randint(0, 8), rng.randint(0, 59))), tz
        )
        hood = rng.choice(hoods) if hoods else None
        lat = lon = None
        if hood:
            lat = rng.uniform(hood.min_lat, hood.max_lat)
            lon = rng.uniform(hood.min_lon, hood.max_lon)
        valuation = (
            Decimal(rng.randrange(8_000, 180_000, 500))
            if permit_type.fee_kind == FeeKind.PER_VALUATION
            else None
        )
        units = (
            Decimal(rng.randrange(20, 300)) if permit_type.fee_kind == FeeKind.PER_UNIT else None
        )
        app = Application(
            number=number,
            permit_type=permit_type,
            applicant=rng.choice(residents),
            status=status,
            applicant_name="Demo applicant",
            address=f"{rng.randint(10, 2999)} {rng.choice(STREETS)}",
            zip_code="95000",
            neighborhood=hood,
            latitude=lat,
            longitude=lon,
            description=f"{permit_type.name_en} at the property",
            valuation=valuation,
            units=units,
            **_building_details(permit_type, number),
            online=rng.random() < 0.72,
            submitted_at=submitted_at,
            declared_at=submitted_at,
            due_at=submitted + timedelta(days=int(permit_type.review_sla_days * 1.4)),
            assigned_reviewer=reviewer
            if status in (Status.IN_REVIEW, Status.INFO_REQUESTED)
            else None,
        )
        app.fee_total = permit_type.fee_for(units=units, valuation=valuation)
        review_days = max(
            1, int(rng.gauss(permit_type.review_sla_days * 1.2, permit_type.review_sla_days * 0.5))
        )
        if status in (Status.APPROVED, Status.ISSUED, Status.DENIED):
            app.decided_at = submitted_at + timedelta(days=min(review_days, max(age - 1, 1)))
        if status == Status.ISSUED:
            app.issued_at = app.decided_at + timedelta(days=rng.randint(0, 3))
            app.expires_at = timezone.localdate(app.issued_at) + timedelta(
                days=permit_type.validity_days
            )
            if app.expires_at < today:
                app.status = (
                    Status.EXPIRED
                    if permit_type.renewable or not permit_type.inspection_types.exists()
                    else Status.FINALED
                )
                if app.status == Status.FINALED:
                    app.finaled_at = app.issued_at + timedelta(days=rng.randint(20, 120))
        applications.append(app)
    bulk_create_with_history(applications, Application, default_user=staff, batch_size=500)
    codes = dict(PermitType.objects.values_list("pk", "code"))
    for (type_id, year), last in counters.items():
        set_at_least(permit_sequence(codes[type_id], year), last)
    for app in Application.objects.filter(number__in=[a.number for a in applications]).only(
        "pk", "status", "submitted_at", "decided_at", "issued_at", "fee_total"
    ):
        events.append(
            TimelineEvent(
                application=app,
                kind=EventKind.STATUS,
                status=Status.SUBMITTED,
                created_at=app.submitted_at,
            )
        )
        if app.decided_at:
            events.append(
                TimelineEvent(
                    application=app,
                    kind=EventKind.STATUS,
                    status=Status.APPROVED,
                    created_at=app.decided_at,
                )
            )
        if app.issued_at:
            events.append(
                TimelineEvent(
                    application=app,
                    kind=EventKind.STATUS,
                    status=Status.ISSUED,
                    created_at=app.issued_at,
                )
            )
            # Online payments began this year: about half of this year's were made online.
            online = app.issued_at.year == today.year and rng.random() < 0.5
            payments.append(
                Payment(
                    application=app,
                    amount=app.fee_total,
                    method=PaymentMethod.ONLINE if online else PaymentMethod.CARD,
                    recorded_by=None if online else staff,
                )
            )
    TimelineEvent.objects.bulk_create(events, batch_size=2000)
    bulk_create_with_history(payments, Payment, default_user=staff, batch_size=1000)
    made = _approved_awaiting_payment(types["FEN"], today)
    return {"permit types": len(types), "permits": len(applications) + made}


def _approved_awaiting_payment(permit_type: PermitType, today) -> int:
    """Maria's and John's fence permits: approved, fees due, ready to pay online."""
    made = 0
    tz = timezone.get_current_timezone()
    for email, address in [
        ("maria@example.com", "418 Cedar Ave"),
        ("john@example.com", "77 Elm St"),
    ]:
        applicant = User.objects.filter(email=email).first()
        if applicant is None:
            continue
        year = today.year
        number = (
            f"{permit_type.code}-{year}-{next_number(permit_sequence(permit_type.code, year)):06d}"
        )
        submitted_at = timezone.make_aware(
            datetime.combine(today - timedelta(days=9), time(10)), tz
        )
        application = Application.objects.create(
            number=number,
            permit_type=permit_type,
            applicant=applicant,
            status=Status.APPROVED,
            applicant_name=applicant.get_full_name() or email,
            address=address,
            zip_code="95000",
            description="New 6-foot wood fence along the back property line",
            online=True,
            submitted_at=submitted_at,
            declared_at=submitted_at,
            due_at=today + timedelta(days=3),
            decided_at=submitted_at + timedelta(days=7),
            units=Decimal(120),
            fee_total=permit_type.fee_for(units=Decimal(120), valuation=None),
            **_building_details(permit_type, number),
        )
        for status, at in [
            (Status.SUBMITTED, submitted_at),
            (Status.APPROVED, application.decided_at),
        ]:
            TimelineEvent.objects.create(
                application=application, kind=EventKind.STATUS, status=status, created_at=at
            )
        made += 1
    return made


def _demo_retention_rules() -> None:
    """The demo city shortened its schedule for business licences (cityhall.records)."""
    from cityhall.records.models import RetentionRule

    for record_type, status, period, action, reason in (
        (
            "permits.application",
            "ended",
            5,
            "anonymise",
            "Business licences: five years after they end (the city's tax audit period), "
            "then without the licensee's contact details.",
        ),
        (
            "permits.document",
            "",
            2,
            "delete",
            "Business licence documents (leases, state licences) are copies of other agencies' "
            "records: two years after the licence ends (Gov. Code §34090).",
        ),
    ):
        RetentionRule.objects.get_or_create(
            record_type=record_type,
            status=status,
            kind="BUS",
            defaults={"period": period, "unit": "years", "action": action, "reason": reason},
        )
