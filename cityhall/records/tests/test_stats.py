"""The statistics-unchanged test: disposal under the retention schedule never changes a number
the city has published.

Three years of records are rolled up day by day; the dashboard's numbers for several periods
(and every raw DailyRollup row) are taken down. Then the schedule is made to DELETE service
requests, applications, code cases, messages and deliveries after one year, disposal runs
(sealing the roll-ups first), and the numbers are compared: identical. A recompute over the
whole span (what `kpis_backfill` does) leaves them identical too, because sealed days are
skipped; without the seal the same recompute WOULD change them (the counter-case, proving the
comparison can fail).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from alerts.models import Delivery, Notification, Subscription
from alerts.tests.factories import make_alert, make_subscription, make_topic
from cityhall.records import services
from cityhall.records.models import RetentionRule
from code_enforcement.constants import CaseStatus, RequestStatus, Resolution, Source
from code_enforcement.models import CodeCase, FinePayment, ServiceRequest, Violation
from code_enforcement.tests.factories import make_category, make_department, make_violation_type
from kpis.dashboard import compute
from kpis.metrics import REGISTRY
from kpis.models import DailyRollup, PerformanceSettings, RollupSeal
from kpis.periods import Period
from kpis.rollups import rollup_days, sealed_through
from kpis.tests.world import make_neighborhood
from permits.constants import PaymentMethod, Status
from permits.models import Application, Payment
from permits.tests.factories import (
    factory_staff,
    make_application,
    make_inspection_type,
    make_permit_type,
)
from tests.personas import make_resident

pytestmark = pytest.mark.django_db

SPAN_DAYS = 3 * 366  # the history rolled up: about three years back


def _today() -> date:
    return timezone.localdate()


def at(days_ago: float, hour: int = 12, minute: int = 0) -> datetime:
    """That many days before today, at the given time of day (city time)."""
    day = _today() - timedelta(days=int(days_ago))
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


# --- Three years of records ----------------------------------------------------------------------


def _requests(categories, hoods, reporter) -> None:
    """About 110 reports, one every ten days: most closed (some fast, some late, some reopened),
    a few still open; some with a reporter's account and contact details."""
    for i in range(110):
        created_ago = 1090 - i * 10
        category = categories[i % len(categories)]
        ack_after = None if i % 7 == 3 else (i % 4)
        close_after = None if i % 9 == 4 else 1 + (i * 7) % 45
        closed_ago = None if close_after is None else created_ago - close_after
        if closed_ago is not None and closed_ago < 1:
            closed_ago = None
        if ack_after is not None and created_ago - ack_after < 1:
            ack_after = None
        status = (
            RequestStatus.CLOSED
            if closed_ago is not None
            else RequestStatus.ACKNOWLEDGED
            if ack_after is not None
            else RequestStatus.NEW
        )
        request = ServiceRequest.objects.create(
            category=category,
            department=category.department,
            neighborhood=hoods[i % 2],
            source=[Source.WEB, Source.PHONE, Source.OPEN311][i % 3],
            description=f"Report {i}",
            address=f"{100 + i} Oak Street",
            status=status,
            resolution=Resolution.RESOLVED if closed_ago is not None else "",
            reopened_count=1 if i % 11 == 5 else 0,
            reporter=reporter if i % 5 == 0 else None,
            contact_name="Rita Reporter" if i % 3 == 0 else "",
            contact_email="rita@example.com" if i % 3 == 0 else "",
            contact_phone="555-201-3344" if i % 3 == 0 else "",
        )
        created = at(created_ago, 9)
        acknowledged = None if ack_after is None else at(created_ago - ack_after, 15)
        closed = None if closed_ago is None else at(closed_ago, 16)
        ServiceRequest.objects.filter(pk=request.pk).update(
            created_at=created,
            acknowledged_at=acknowledged,
            closed_at=closed,
            resolve_due=(created + timedelta(days=14 + i % 10)).date(),
            updated_at=closed or acknowledged or created,
        )


def _cases(hoods) -> None:
    """About 36 code cases, one a month: violations corrected before closing, some cited,
    two with a fine paid (a financial record the schedule keeps), a few still open."""
    violation_type = make_violation_type()
    for i in range(36):
        opened_ago = 1080 - i * 30
        closed_ago = None if i % 8 == 6 else opened_ago - (10 + (i * 5) % 40)
        if closed_ago is not None and closed_ago < 1:
            closed_ago = None
        fined = i % 4 == 1
        case = CodeCase.objects.create(
            number=f"CE-H-{i:03d}",
            address=f"{200 + i} Elm Street",
            neighborhood=hoods[i % 2],
            owner_name="Olga Owner",
            owner_email="olga@example.com",
            status=CaseStatus.CLOSED if closed_ago is not None else CaseStatus.NOTICE_ISSUED,
            fine_amount=Decimal("250.00") if fined else None,
            repeat_violation=i % 5 == 2,
        )
        CodeCase.objects.filter(pk=case.pk).update(
            opened_at=at(opened_ago, 10),
            closed_at=None if closed_ago is None else at(closed_ago, 11),
        )
        for v in range(1 + i % 2):
            corrected = None
            if closed_ago is not None and v == 0:
                corrected = at(closed_ago + 2, 14)
            violation = Violation.objects.create(
                case=case,
                violation_type=violation_type,
                description="Weeds along the fence",
                comply_by=(at(opened_ago, 10) + timedelta(days=30)).date(),
            )
            Violation.objects.filter(pk=violation.pk).update(
                created_at=at(opened_ago, 10), corrected_at=corrected
            )
        if fined and i % 8 == 1 and closed_ago is not None:
            payment = FinePayment.objects.create(
                case=case, amount=Decimal("250.00"), method=FinePayment.Method.ONLINE
            )
            FinePayment.objects.filter(pk=payment.pk).update(created_at=at(closed_ago + 1))


# status, permit type code: a spread of endings (denied and withdrawn ones among them)
_APPLICATIONS = [
    Status.ISSUED,
    Status.DENIED,
    Status.FINALED,
    Status.WITHDRAWN,
    Status.ISSUED,
    Status.DENIED,
    Status.EXPIRED,
    Status.IN_REVIEW,
]


def _applications(applicant) -> None:
    """About 24 applications through the services, then dated across the three years:
    submitted, decided, issued (paid at the counter or online), finaled, denied, withdrawn."""
    inspection = make_inspection_type("final")
    types = [
        make_permit_type("BLD", inspection_types=[inspection]),
        make_permit_type("FEN", inspection_types=[inspection]),
    ]
    technician = factory_staff_technician()
    for i in range(24):
        status = _APPLICATIONS[i % len(_APPLICATIONS)]
        submitted_ago = 1070 - i * 44
        if status == Status.IN_REVIEW:
            submitted_ago = min(submitted_ago, 60)
        application = make_application(
            applicant,
            types[i % 2],
            status=status,
            address=f"{300 + i} Pine Street",
            applicant_name="Paula Applicant",
            applicant_phone="555-777-1212",
        )
        decided = None
        if status in (Status.ISSUED, Status.DENIED, Status.FINALED, Status.EXPIRED):
            decided = at(submitted_ago - (5 + i % 20), 13)
        issued = (
            at(submitted_ago - (8 + i % 20), 15)
            if status in (Status.ISSUED, Status.FINALED, Status.EXPIRED)
            else None
        )
        finaled = at(submitted_ago - 40, 11) if status == Status.FINALED else None
        ended = {
            Status.WITHDRAWN: at(submitted_ago - 3, 10),
            Status.EXPIRED: at(max(submitted_ago - 200, 1), 1),
        }.get(status)
        last = max(m for m in (at(submitted_ago, 9), decided, issued, finaled, ended) if m)
        Application.objects.filter(pk=application.pk).update(
            submitted_at=at(submitted_ago, 9),
            due_at=(at(submitted_ago, 9) + timedelta(days=14)).date(),
            decided_at=decided,
            issued_at=issued,
            finaled_at=finaled,
            online=i % 3 != 0,
            updated_at=last,
        )
        # The fee paid when it was issued (the factory records it at the counter), and for some
        # a second payment online: the permit ledger.
        paid_on = issued or decided
        if paid_on is not None:
            Payment.objects.filter(application=application).update(
                created_at=paid_on - timedelta(hours=1)
            )
        if issued is not None and i % 2 == 0:
            extra = Payment.objects.create(
                application=application,
                amount=Decimal("35.50"),
                method=PaymentMethod.ONLINE,
                recorded_by=technician,
            )
            Payment.objects.filter(pk=extra.pk).update(created_at=issued - timedelta(hours=2))


def factory_staff_technician():
    from cityhall.roles import Role

    return factory_staff(Role.PERMIT_TECHNICIAN)


def _alerts() -> None:
    """Subscriptions (confirmed, cancelled, never confirmed) and an alert every ~45 days,
    each with emails and texts sent within minutes, a failed one, and a portal copy."""
    settings_row = PerformanceSettings.current()
    settings_row.households = 500
    settings_row.save()
    topic = make_topic("weather")
    for i in range(12):
        subscription = make_subscription(
            topic,
            email=f"sub{i}@example.com",
            phone="+15555550100" if i % 3 == 0 else "",
            confirmed=i % 6 != 5,
        )
        confirmed = at(1000 - i * 80, 8)
        fields = {"confirmed_at": confirmed if subscription.confirmed_at else None}
        if i % 4 == 3:  # cancelled later
            fields.update(by_email=False, by_sms=False, email_unsubscribed_at=at(900 - i * 70))
        Subscription.objects.filter(pk=subscription.pk).update(**fields)
    for i in range(24):
        published_ago = 1085 - i * 45
        published = at(published_ago, 10, 0)
        alert = make_alert(topic, title_en=f"Alert {i}", status="published")
        alert.__class__.objects.filter(pk=alert.pk).update(
            published_at=published, effective=published, expires=published + timedelta(days=1)
        )
        for n, (channel, status, minutes) in enumerate(
            [("email", "sent", 2), ("sms", "sent", 4 + i % 5), ("email", "failed", 30)]
            + ([("portal", "sent", 1)] if i % 2 else [])
            + ([("email", "sent", 12)] if i % 3 == 0 else [])
        ):
            notification = Notification.objects.create(
                alert=alert, template="alert", language="en", subject=f"A{i}-{n}", body_text="x"
            )
            when = published + timedelta(minutes=minutes)
            delivery = Delivery.objects.create(
                notification=notification,
                channel=channel,
                status=status,
                address=f"sub{n}@example.com" if channel == "email" else "+15555550100",
            )
            Notification.objects.filter(pk=notification.pk).update(created_at=published)
            Delivery.objects.filter(pk=delivery.pk).update(
                created_at=published,
                sent_at=when if status == "sent" else None,
                updated_at=when,
            )


def build_history() -> None:
    departments = [make_department("Public Works"), make_department("Parks")]
    categories = [
        make_category("pothole", department=departments[0]),
        make_category("graffiti", department=departments[1]),
        make_category("overgrown-lot", department=departments[1]),
    ]
    hoods = [make_neighborhood("north"), make_neighborhood("south")]
    reporter = make_resident("rita@example.com", first_name="Rita", last_name="Reporter")
    applicant = make_resident("paula@example.com", first_name="Paula", last_name="Applicant")
    _requests(categories, hoods, reporter)
    _cases(hoods)
    _applications(applicant)
    _alerts()


# --- What is compared ----------------------------------------------------------------------------


def _periods() -> dict[str, Period]:
    today = _today()
    first_of_month = today.replace(day=1)
    eighteen_months_ago = (first_of_month - timedelta(days=540)).replace(day=1)
    month_end = (eighteen_months_ago + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return {
        "last 12 months": Period("year", today - timedelta(days=364), today),
        "last 30 days": Period("month", today - timedelta(days=29), today),
        "a year 2-3 years ago": Period(
            "custom", today - timedelta(days=1000), today - timedelta(days=636)
        ),
        "the year before last": Period(
            "custom", today - timedelta(days=729), today - timedelta(days=365)
        ),
        "the 30 days around the cutoff": Period(
            "custom", today - timedelta(days=380), today - timedelta(days=351)
        ),
        "a calendar month 18 months ago": Period("custom", eighteen_months_ago, month_end),
    }


def _normal(value):
    """The dashboard's data with floats rounded to 9 places: a sum of the same rows read in
    another order may differ in its last bit, which no one could see."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(item) for item in value]
    return value


# The breakdowns compared (every metric's dimension rows are compared as raw roll-ups too):
# one of each kind (count, ratio, median, p90, mean, snapshot, sum) and of each area.
DETAILS = [
    "requests_closed",
    "closed_within_sla",
    "median_days_to_close",
    "p90_days_to_close",
    "avg_days_to_acknowledge",
    "open_backlog",
    "voluntary_compliance",
    "median_days_to_compliance",
    "success_rate",
    "fee_revenue",
    "delivery_success",
    "alert_reach",
    "alert_subscribers",
]


def dashboard_numbers() -> dict:
    numbers = {}
    details = [None, *(REGISTRY[key] for key in DETAILS)]
    for name, period in _periods().items():
        for detail in details:
            found = compute(period, detail)
            found.pop("computed_at")  # when the roll-ups were last written, not a number
            numbers[(name, detail.key if detail else "-")] = _normal(found)
    return numbers


def rollup_rows() -> set[tuple]:
    return {
        (metric, day, dimension, value, numerator, denominator, tuple(samples))
        for metric, day, dimension, value, numerator, denominator, samples in (
            DailyRollup.objects.values_list(
                "metric", "day", "dimension", "value", "numerator", "denominator", "samples"
            )
        )
    }


def delete_after_one_year() -> None:
    """The schedule changed to DELETE (not anonymise) the records the KPIs are made of after a
    year: every application status group, reports, cases, messages and deliveries."""
    for record_type, status in [
        ("permits.application", "draft"),
        ("permits.application", "refused"),
        ("permits.application", "ended"),
        ("code_enforcement.servicerequest", ""),
        ("code_enforcement.requestphoto", ""),
        ("code_enforcement.codecase", ""),
        ("alerts.notification", ""),
        ("alerts.delivery", ""),
    ]:
        RetentionRule.objects.update_or_create(
            record_type=record_type,
            status=status,
            kind="",
            defaults={
                "period": 1,
                "unit": "years",
                "action": "delete",
                "reason": "Statistics test: delete after a year.",
            },
        )


@pytest.fixture
def history(db):
    build_history()
    start = _today() - timedelta(days=SPAN_DAYS)
    end = _today()
    assert rollup_days(start=start, end=end) > 0
    return start, end


def _counts() -> dict[str, int]:
    return {
        "requests": ServiceRequest.objects.count(),
        "applications": Application.objects.count(),
        "cases": CodeCase.objects.count(),
        "notifications": Notification.objects.count(),
        "deliveries": Delivery.objects.count(),
    }


def test_disposal_leaves_every_published_number_unchanged(history):
    start, end = history
    numbers_before = dashboard_numbers()
    rows_before = rollup_rows()
    # The history is real: each period has numbers (not a comparison of Nones).
    old_year = numbers_before[("a year 2-3 years ago", "-")]["metrics"]
    for key in ("requests_closed", "success_rate", "voluntary_compliance", "delivery_success"):
        assert old_year[key]["value"], key
    recent = numbers_before[("last 12 months", "-")]["metrics"]
    for key in ("requests_closed", "requests_received", "fee_revenue", "alert_reach"):
        assert recent[key]["value"], key

    counts_before = _counts()
    delete_after_one_year()
    now = timezone.now()
    logs = services.dispose(now=now)

    # Records really were deleted, not only anonymised.
    cutoff = RetentionRule.objects.get(record_type="code_enforcement.servicerequest").cutoff(now)
    counts_after = _counts()
    for key, before in counts_before.items():
        assert counts_after[key] < before, key
    assert not ServiceRequest.objects.filter(closed_at__lt=cutoff).exists()
    assert not Notification.objects.filter(created_at__lt=cutoff).exists()
    assert not Delivery.objects.filter(updated_at__lt=cutoff).exists()
    assert not Application.objects.filter(
        status__in=[Status.DENIED, Status.WITHDRAWN], updated_at__lt=cutoff
    ).exists()
    # Cases with a fine paid, and applications with a ledger, are financial records: kept.
    assert set(
        CodeCase.objects.filter(closed_at__lt=cutoff).values_list("number", flat=True)
    ) == set(
        FinePayment.objects.filter(case__closed_at__lt=cutoff).values_list(
            "case__number", flat=True
        )
    )
    assert all(
        Payment.objects.filter(application=a).exists()
        for a in Application.objects.filter(updated_at__lt=cutoff, status__in=[Status.FINALED])
    )
    deleted = {log.record_type: 0 for log in logs}
    for log in logs:
        deleted[log.record_type] += log.deleted
    for record_type in (
        "code_enforcement.servicerequest",
        "code_enforcement.codecase",
        "permits.application",
        "alerts.notification",
    ):
        assert deleted[record_type] > 0, record_type
    # (deliveries go with their messages, or under their own rule, whichever runs first)
    assert not Delivery.objects.filter(updated_at__lt=cutoff).exists()

    # The roll-ups were sealed through the cutoff's day before anything went.
    assert sealed_through() == timezone.localdate(cutoff)

    assert rollup_rows() == rows_before
    assert dashboard_numbers() == numbers_before

    # A recompute of the whole span (kpis_backfill, a manual re-roll): sealed days are skipped,
    # the days after are computed again from what is left, and nothing changes.
    written = rollup_days(start=start, end=end)
    assert written > 0  # the unsealed days were really recomputed
    assert rollup_rows() == rows_before
    assert dashboard_numbers() == numbers_before

    # A second night's disposal (nothing left to do under these rules) changes nothing either.
    services.dispose(now=now)
    rollup_days(start=start, end=end)
    assert rollup_rows() == rows_before
    assert dashboard_numbers() == numbers_before


def test_without_the_seal_a_recompute_would_change_the_numbers(history):
    """The counter-case: the comparison above can fail. With the seal gone, recomputing the
    sealed days from what disposal left changes the roll-ups and the dashboard's numbers."""
    start, end = history
    periods = _periods()
    old = periods["a year 2-3 years ago"]
    before = compute(old, None)["metrics"]
    rows_before = rollup_rows()

    delete_after_one_year()
    services.dispose()
    assert sealed_through() is not None
    assert rollup_rows() == rows_before  # sealed: unchanged so far

    RollupSeal.objects.all().delete()
    rollup_days(start=start, end=end)

    assert rollup_rows() != rows_before
    after = compute(old, None)["metrics"]
    assert after["requests_closed"]["value"] is None or (
        after["requests_closed"]["value"] < before["requests_closed"]["value"]
    )
    assert after["requests_received"]["value"] != before["requests_received"]["value"]
    assert after["delivery_success"]["basis"] != before["delivery_success"]["basis"]
    assert after["success_rate"]["basis"] != before["success_rate"]["basis"]
    changed = {
        key
        for key in REGISTRY
        if _normal(after[key]["value"]) != _normal(before[key]["value"])
        or after[key]["basis"] != before[key]["basis"]
    }
    assert {"requests_closed", "requests_received", "voluntary_compliance"} <= changed
