"""A small, fixed world of raw rows whose KPIs are computed by hand in test_metrics.py.

Every timestamp is at midday, city time (unless a minute matters). The period under test is
June 2026; every duration a metric measures runs between days inside daylight saving time
(March 8 to November 1, 2026), so durations are whole days.

Requests: the table below. Columns: name, category, neighborhood, source, created, acknowledged,
closed, resolve_due, times reopened. Dates are (month, day) in 2026 (or a date).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

from alerts.models import Alert, Delivery, Notification, Subscription, Topic
from cityhall.models import Neighborhood
from code_enforcement.constants import CaseStatus, RequestStatus, Source
from code_enforcement.models import CodeCase, ServiceRequest, Violation
from code_enforcement.tests.factories import make_category, make_department, make_violation_type
from kpis.models import PerformanceSettings
from permits.constants import PaymentMethod, Status
from permits.models import Application, Payment
from permits.tests.factories import make_permit_type
from tests.personas import make_resident

START = date(2026, 6, 1)
END = date(2026, 6, 30)
HOUSEHOLDS = 200


def day(month: int, dom: int, year: int = 2026) -> date:
    return date(year, month, dom)


def at(when: date | tuple, hour: int = 12, minute: int = 0) -> datetime:
    """Midday (or the given time) in the city's time zone on that day."""
    if isinstance(when, tuple):
        when = day(*when)
    return timezone.make_aware(datetime.combine(when, time(hour, minute)))


SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


def make_neighborhood(slug: str) -> Neighborhood:
    return Neighborhood.objects.get_or_create(
        slug=slug, defaults={"name": slug.capitalize(), "boundary": SQUARE}
    )[0]


# name, category, neighborhood, source, created, acknowledged, closed, resolve_due, reopened
REQUESTS = [
    # Closed in June.
    ("C1", "pothole", "north", "web", (6, 2), (6, 3), (6, 5), (6, 10), 0),
    ("C2", "pothole", "north", "phone", (6, 3), (6, 5), (6, 13), (6, 10), 1),
    ("C3", "graffiti", "south", "web", (6, 5), (6, 6), (6, 6), (6, 20), 0),
    ("C4", "graffiti", "south", "open311", (6, 10), (6, 14), (6, 30), (6, 25), 0),
    ("C5", "pothole", "south", "web", (5, 20), (5, 21), (6, 9), (6, 9), 0),
    ("C6", "pothole", "south", "web", (6, 4), (6, 4), (6, 6), (6, 18), 0),
    ("C7", "graffiti", "north", "web", (6, 8), (6, 11), (6, 15), (6, 12), 1),
    ("C8", "pothole", "north", "web", (5, 25), (5, 27), (6, 16), (6, 20), 0),
    ("C9", "pothole", "south", "phone", (6, 12), (6, 13), (6, 17), (6, 26), 0),
    ("C10", "graffiti", "south", "web", (6, 1), (6, 2), (6, 12), (6, 15), 0),
    # Open at the end of June (O5 closes in July, O6 closed in May).
    ("O1", "pothole", "north", "web", (6, 22), (6, 24), None, (7, 10), 0),
    ("O2", "graffiti", "north", "web", (6, 28), None, None, (7, 15), 0),
    ("O3", "pothole", "south", "phone", (5, 15), None, None, (6, 5), 0),
    ("O4", "graffiti", "south", "web", (1, 15), (1, 20), None, (2, 5), 0),
    ("O5", "pothole", "north", "web", (6, 1), (6, 2), (7, 2), (6, 20), 0),
    ("O6", "pothole", "north", "web", (4, 1), (4, 2), (5, 10), (4, 20), 0),
    ("O7", "pothole", "south", "web", (6, 23), None, None, (7, 14), 0),
    ("O8", "graffiti", "south", "web", (3, 31), None, None, (4, 20), 0),
    ("O9", "graffiti", "north", "web", (4, 1), None, None, (4, 21), 0),
    ("O10", "graffiti", "south", "web", (6, 30), None, None, (7, 21), 0),
]

# Code cases: number, neighborhood, opened, closed, fine, repeat, violations (corrected or None)
CASES = [
    ("K1", "north", (6, 1), (6, 20), None, False, [(6, 11), (6, 15)]),
    ("K2", "south", (6, 2), (6, 25), Decimal("250.00"), False, [(6, 24)]),
    ("K3", "south", (5, 20), (6, 5), None, False, [(6, 3)]),
    ("K4", "north", (6, 3), (6, 20), None, False, []),  # no violation found
    ("K5", "north", (5, 1), (5, 30), None, False, [(5, 28)]),
    ("K6", "south", (6, 10), None, None, True, [None]),
    ("K7", "north", (6, 12), None, None, True, [(6, 25)]),
    ("K8", "north", (5, 28), None, None, True, [None]),
    ("K9", "south", (6, 15), None, None, True, []),
]

# Applications: name, type, neighborhood, online, submitted, due, decided, status, issued,
# expires, renews
APPLICATIONS = [
    ("A1", "BLD", "north", True, (6, 1), (6, 15), (6, 10), Status.ISSUED, (6, 12), None, None),
    ("A2", "BLD", "north", False, (6, 2), (6, 12), (6, 16), Status.DENIED, None, None, None),
    ("A3", "FEN", "south", True, (6, 3), (6, 17), (6, 17), Status.APPROVED, None, None, None),
    ("A4", "FEN", "south", True, (5, 20), (6, 3), (6, 1), Status.ISSUED, (6, 4), None, None),
    ("A5", "BLD", "south", True, (5, 10), (5, 24), (5, 30), Status.ISSUED, (6, 8), None, None),
    ("A6", "BLD", "north", True, (6, 20), (7, 3), None, Status.IN_REVIEW, None, None, None),
    ("A7", "FEN", "north", False, (6, 25), (7, 9), (6, 29), Status.DENIED, None, None, None),
    ("A8", "BLD", "south", True, (6, 8), (6, 22), (6, 26), Status.DENIED, None, None, None),
    # Last year's permits and their renewals.
    (
        "P1",
        "FEN",
        "north",
        True,
        (6, 1, 2025),
        None,
        (6, 10, 2025),
        Status.ISSUED,
        (6, 20, 2025),
        (6, 20),
        None,
    ),
    (
        "P2",
        "BLD",
        "south",
        True,
        (5, 20, 2025),
        None,
        (5, 30, 2025),
        Status.ISSUED,
        (6, 5, 2025),
        (6, 5),
        None,
    ),
    (
        "P3",
        "FEN",
        "south",
        True,
        (6, 1, 2025),
        None,
        (6, 10, 2025),
        Status.ISSUED,
        (6, 15, 2025),
        (6, 15),
        None,
    ),
    ("RN1", "FEN", "north", True, (5, 25), (6, 8), (5, 29), Status.ISSUED, (6, 10), None, "P1"),
    ("RN2", "BLD", "south", False, (5, 22), (6, 5), (5, 28), Status.ISSUED, (6, 9), None, "P2"),
    ("RN3", "FEN", "south", True, (5, 26), (6, 9), (5, 31), Status.ISSUED, (6, 15), None, "P3"),
]

# Payments: application, amount, method, paid on
PAYMENTS = [
    ("A1", "150.00", PaymentMethod.CARD, (6, 11)),
    ("A4", "75.50", PaymentMethod.CASH, (6, 3)),
    ("A5", "200.00", PaymentMethod.WAIVER, (6, 7)),
    ("RN1", "60.25", PaymentMethod.CHECK, (6, 9)),
    ("A8", "40.00", PaymentMethod.CARD, (5, 31)),
    ("RN2", "100.00", PaymentMethod.ONLINE, (6, 8)),
]

# Subscriptions: name, by_email, by_sms, confirmed at
SUBSCRIPTIONS = [
    ("S1", True, False, (5, 1)),
    ("S2", False, True, (6, 10)),
    ("S3", True, True, (6, 15)),
    ("S4", True, False, (7, 5)),  # confirmed after June
    ("S5", True, False, None),  # never confirmed
    ("S6", False, False, (5, 1)),  # unsubscribed from both
    ("S7", True, False, (6, 30)),
]

# Alerts: name, published at (date, hour, minute)
ALERTS = [("AL1", (6, 10), 12, 0), ("AL2", (6, 20), 12, 0)]

# Deliveries: name, alert (None: not an alert), channel, status, (date, hour, minute) of
# sent_at for sent ones and of updated_at for failed ones
DELIVERIES = [
    ("D1", "AL1", "email", "sent", ((6, 10), 12, 2)),
    ("D2", "AL1", "sms", "sent", ((6, 10), 12, 5)),
    ("D3", "AL1", "email", "failed", ((6, 10), 13, 0)),
    ("D4", "AL1", "portal", "sent", ((6, 10), 12, 1)),
    ("D5", "AL2", "email", "sent", ((6, 20), 12, 10)),
    ("D6", "AL2", "sms", "failed", ((6, 20), 12, 30)),
    ("D7", "AL2", "sms", "sent", ((6, 20), 12, 3)),
    ("D8", "AL2", "email", "pending", None),
    ("D9", None, "email", "sent", ((6, 15), 9, 0)),
    ("D10", "AL1", "email", "sent", ((7, 2), 12, 0)),
    ("D11", "AL2", "sms", "skipped", None),
]


def _d(value):
    if value is None:
        return None
    return day(*value)


def _at(value):
    return None if value is None else at(day(*value))


def build_requests() -> dict[str, ServiceRequest]:
    departments = {"pothole": make_department("Public Works"), "graffiti": make_department("Parks")}
    categories = {
        code: make_category(code, department=department) for code, department in departments.items()
    }
    made = {}
    for name, category, hood, source, created, ack, closed, due, reopened in REQUESTS:
        made[name] = ServiceRequest.objects.create(
            category=categories[category],
            department=departments[category],
            neighborhood=make_neighborhood(hood),
            source=Source(source),
            description=f"Request {name}",
            created_at=_at(created),
            acknowledged_at=_at(ack),
            closed_at=_at(closed),
            status=RequestStatus.CLOSED
            if closed
            else (RequestStatus.ACKNOWLEDGED if ack else RequestStatus.NEW),
            resolve_due=_d(due),
            reopened_count=reopened,
        )
    return made


def build_cases() -> dict[str, CodeCase]:
    violation_type = make_violation_type()
    made = {}
    for number, hood, opened, closed, fine, repeat, violations in CASES:
        case = CodeCase.objects.create(
            number=number,
            address=f"{number} Elm Street",
            neighborhood=make_neighborhood(hood),
            opened_at=_at(opened),
            closed_at=_at(closed),
            status=CaseStatus.CLOSED if closed else CaseStatus.NOTICE_ISSUED,
            fine_amount=fine,
            repeat_violation=repeat,
        )
        for corrected in violations:
            Violation.objects.create(
                case=case,
                violation_type=violation_type,
                description="Weeds",
                comply_by=day(7, 31),
                corrected_at=_at(corrected),
                created_at=_at(opened),
            )
        made[number] = case
    return made


def build_permits() -> dict[str, Application]:
    applicant = make_resident("applicant@example.com")
    types = {code: make_permit_type(code) for code in ("BLD", "FEN")}
    made: dict[str, Application] = {}
    for row in APPLICATIONS:
        name, code, hood, online, submitted, due, decided, status, issued, expires, renews = row
        made[name] = Application.objects.create(
            number=f"{code}-{name}",
            permit_type=types[code],
            applicant=applicant,
            status=status,
            neighborhood=make_neighborhood(hood),
            online=online,
            submitted_at=_at(submitted),
            due_at=_d(due),
            decided_at=_at(decided),
            issued_at=_at(issued),
            expires_at=_d(expires),
            renews=made[renews] if renews else None,
        )
    for name, amount, method, paid in PAYMENTS:
        payment = Payment.objects.create(
            application=made[name], amount=Decimal(amount), method=method, recorded_by=applicant
        )
        Payment.objects.filter(pk=payment.pk).update(created_at=_at(paid))
    return made


def build_alerts() -> None:
    settings_row = PerformanceSettings.current()
    settings_row.households = HOUSEHOLDS
    settings_row.save()
    topic = Topic.objects.create(slug="weather", name_en="Weather", name_es="Clima")
    for name, by_email, by_sms, confirmed in SUBSCRIPTIONS:
        Subscription.objects.create(
            email=f"{name.lower()}@example.com" if by_email else "",
            phone="+15555550100" if by_sms else "",
            by_email=by_email,
            by_sms=by_sms,
            confirmed_at=_at(confirmed),
        )
    alerts = {}
    for name, published, hour, minute in ALERTS:
        published_at = at(day(*published), hour, minute)
        alerts[name] = Alert.objects.create(
            topic=topic,
            title_en=name,
            body_en=name,
            event="Heat advisory",
            status="published",
            effective=published_at,
            expires=at(day(*published), 23, 0),
            published_at=published_at,
        )
    for name, alert, channel, status, when in DELIVERIES:
        notification = Notification.objects.create(
            alert=alerts[alert] if alert else None,
            template="alert" if alert else "request_update",
            language="en",
            subject=name,
            body_text=name,
        )
        moment = None if when is None else at(day(*when[0]), when[1], when[2])
        delivery = Delivery.objects.create(
            notification=notification,
            channel=channel,
            status=status,
            sent_at=moment if status == "sent" else None,
        )
        if status == "failed":
            Delivery.objects.filter(pk=delivery.pk).update(updated_at=moment)


def build_world() -> None:
    build_requests()
    build_cases()
    build_permits()
    build_alerts()
