"""The metric registry: what each number means and how it is computed from the raw tables.

Each metric yields rows of (day, dimension, value, numerator, denominator, samples). Rows add up
across days, so a period's value is the same whether computed from the raw tables directly or
from the daily roll-ups (tests prove it). Snapshot metrics (a backlog, a subscriber count) are
measured at the end of a day instead.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import get_language

from alerts.constants import Channel, DeliveryStatus
from alerts.models import Delivery, Subscription
from code_enforcement.constants import RequestStatus
from code_enforcement.models import CodeCase, ServiceRequest, Violation
from permits.constants import PaymentMethod, Status
from permits.models import Application, Payment

from .models import PerformanceSettings


def days(field: str, first: date | None, last: date | None) -> dict:
    """`field` (a timestamp) within the city's days first..last, both included (None: open),
    as a range of instants: field >= first's midnight and < the midnight after last. The same
    rows as field__date__range, but PostgreSQL can use the field's index (a conversion to a
    local date on every row cannot)."""
    bounds = {}
    if first is not None:
        bounds[f"{field}__gte"] = _midnight(first)
    if last is not None:
        bounds[f"{field}__lt"] = _midnight(last + timedelta(days=1))
    return bounds


def _midnight(day: date):
    return timezone.make_aware(datetime.combine(day, time.min))


class Row(NamedTuple):
    day: date
    dimension: str
    value: str
    numerator: float
    denominator: float
    samples: list


@dataclass(frozen=True)
class Metric:
    key: str
    name_en: str
    name_es: str
    definition_en: str
    definition_es: str
    unit: str  # count, percent, days, hours, minutes, dollars
    direction: str  # up (higher is better), down, none
    kind: str  # count, ratio, mean, median, p90, snapshot_count, snapshot_ratio, sum
    dimensions: dict[str, str] = field(default_factory=dict)  # name -> ORM path
    rows: Callable[[date, date], Iterable[Row]] | None = None
    # The records behind the number: a queryset over the period (a snapshot's: at its end),
    # listed in the console at `listing`; `numerator` marks the part above a ratio's line, and
    # `value_filters` narrow to a dimension value that is not a field (an age bucket).
    records: Callable[[date, date], QuerySet] | None = None
    listing: str = ""
    numerator: Q | None = None
    value_filters: dict[str, Callable[[date, str], Q]] = field(default_factory=dict)
    group: str = "requests"  # requests, code, permits, alerts

    def name(self, language: str | None = None) -> str:
        return (
            self.name_es if (language or get_language() or "en").startswith("es") else self.name_en
        )

    def definition(self, language: str | None = None) -> str:
        return (
            self.definition_es
            if (language or get_language() or "en").startswith("es")
            else self.definition_en
        )

    @property
    def is_snapshot(self) -> bool:
        return self.kind.startswith("snapshot")

    @property
    def is_ratio(self) -> bool:
        return self.kind == "ratio"


def _grouped(
    queryset, date_field: str, dims: dict[str, str], *, numerator=None, denominator=None, total=None
) -> Iterable[Row]:
    """Counts (or sums) per day, for the city and per dimension value."""
    for dimension, path in [("", None), *dims.items()]:
        annotations = {"d": TruncDate(date_field)}
        keys = ["d"]
        if path:
            annotations["v"] = F(path)
            keys.append("v")
        aggregates = {"num": numerator or Count("pk")}
        if denominator is not None:
            aggregates["den"] = denominator
        for row in queryset.annotate(**annotations).values(*keys).annotate(**aggregates).order_by():
            if row["d"] is None:
                continue
            yield Row(
                row["d"],
                dimension,
                "" if not path else str(row["v"] or "—"),
                float(row["num"] or 0),
                float(row.get("den") or 0),
                [],
            )


def _sampled(
    queryset, date_field: str, start_field: str, dims: dict[str, str], *, unit: str = "days"
) -> Iterable[Row]:
    """Durations per day (for medians and percentiles), for the city and per dimension value."""
    divisor = {"days": 86400, "hours": 3600, "minutes": 60}[unit]
    paths = list(dims.values())
    buckets: dict[tuple, list] = defaultdict(list)
    for values in queryset.annotate(d=TruncDate(date_field)).values_list(
        "d", date_field, start_field, *paths
    ):
        day, end, begin, *dim_values = values
        if day is None or begin is None or end is None:
            continue
        duration = round((end - begin).total_seconds() / divisor, 3)
        buckets[(day, "", "")].append(duration)
        for name, dim_value in zip(dims, dim_values, strict=True):
            buckets[(day, name, str(dim_value or "—"))].append(duration)
    for (day, dimension, value), samples in buckets.items():
        yield Row(day, dimension, value, float(len(samples)), 0.0, sorted(samples))


REQUEST_DIMS = {
    "category": "category__code",
    "neighborhood": "neighborhood__slug",
    "department": "department__name",
}
RECEIVED_DIMS = {**REQUEST_DIMS, "channel": "source"}

# Each metric's records are one queryset function, used both to compute the number and to list
# the records behind it in the console (kpis.drilldown), so the two cannot disagree.


def received(start, end):
    return ServiceRequest.objects.filter(**days("created_at", start, end))


def requests_received(start, end):
    return _grouped(received(start, end), "created_at", RECEIVED_DIMS)


def _closed(start, end):
    return ServiceRequest.objects.filter(
        status=RequestStatus.CLOSED, **days("closed_at", start, end)
    )


def requests_closed(start, end):
    return _grouped(_closed(start, end), "closed_at", REQUEST_DIMS)


CLOSED_ON_TIME = Q(closed_at__date__lte=F("resolve_due"))


def closed_within_sla(start, end):
    return _grouped(
        _closed(start, end),
        "closed_at",
        REQUEST_DIMS,
        numerator=Count("pk", filter=CLOSED_ON_TIME),
        denominator=Count("pk"),
    )


def days_to_close(start, end):
    return _sampled(_closed(start, end), "closed_at", "created_at", REQUEST_DIMS)


def acknowledged(start, end):
    return ServiceRequest.objects.filter(**days("acknowledged_at", start, end))


def days_to_acknowledge(start, end):
    return (
        Row(r.day, r.dimension, r.value, sum(r.samples), r.numerator, [])
        for r in _sampled(acknowledged(start, end), "acknowledged_at", "created_at", REQUEST_DIMS)
    )


def hours_to_first_response(start, end):
    return _sampled(
        acknowledged(start, end), "acknowledged_at", "created_at", REQUEST_DIMS, unit="hours"
    )


REOPENED = Q(reopened_count__gt=0)


def reopen_rate(start, end):
    return _grouped(
        _closed(start, end),
        "closed_at",
        REQUEST_DIMS,
        numerator=Count("pk", filter=REOPENED),
        denominator=Count("pk"),
    )


AGING = [("0-7", 0, 7), ("8-30", 8, 30), ("31-90", 31, 90), ("90+", 91, 100_000)]


def open_at(day):
    """Requests open at the end of `day`."""
    return ServiceRequest.objects.filter(**days("created_at", None, day)).filter(
        Q(closed_at__isnull=True) | Q(**days("closed_at", day + timedelta(days=1), None))
    )


def _aged(day, low, high) -> Q:
    return Q(**days("created_at", day - timedelta(days=high), day - timedelta(days=low)))


def aging_filter(day, label: str) -> Q:
    for bucket, low, high in AGING:
        if bucket == label:
            return _aged(day, low, high)
    raise ValueError(label)


def open_backlog(start, end):
    """Open requests at the end of each day, by age."""
    day = start
    while day <= end:
        counts = open_at(day).aggregate(
            total=Count("pk"),
            **{
                f"b{i}": Count("pk", filter=_aged(day, low, high))
                for i, (_label, low, high) in enumerate(AGING)
            },
        )
        yield Row(day, "", "", float(counts["total"]), 0.0, [])
        for i, (label, _low, _high) in enumerate(AGING):
            yield Row(day, "aging", label, float(counts[f"b{i}"]), 0.0, [])
        day += timedelta(days=1)


def _closed_cases(start, end):
    # Exists, not a join: a case with several violations still counts once.
    has_violation = Exists(Violation.objects.filter(case=OuterRef("pk")))
    return CodeCase.objects.filter(**days("closed_at", start, end)).filter(has_violation)


NO_CITATION = Q(fine_amount__isnull=True)
CASE_DIMS = {"neighborhood": "neighborhood__slug"}


def voluntary_compliance(start, end):
    return _grouped(
        _closed_cases(start, end),
        "closed_at",
        CASE_DIMS,
        numerator=Count("pk", filter=NO_CITATION),
        denominator=Count("pk"),
    )


def corrected(start, end):
    return Violation.objects.filter(
        **days("corrected_at", start, end), case__opened_at__isnull=False
    )


def days_to_compliance(start, end):
    return _sampled(
        corrected(start, end),
        "corrected_at",
        "case__opened_at",
        {"neighborhood": "case__neighborhood__slug"},
    )


def repeat_cases(start, end):
    return CodeCase.objects.filter(**days("opened_at", start, end), repeat_violation=True)


def repeat_violations(start, end):
    return _grouped(repeat_cases(start, end), "opened_at", CASE_DIMS)


PERMIT_DIMS = {"permit_type": "permit_type__code", "neighborhood": "neighborhood__slug"}


def submitted(start, end):
    return Application.objects.filter(**days("submitted_at", start, end))


def applications_received(start, end):
    return _grouped(submitted(start, end), "submitted_at", PERMIT_DIMS)


def decided(start, end):
    return Application.objects.filter(**days("decided_at", start, end))


APPROVED = ~Q(status=Status.DENIED)


def success_rate(start, end):
    return _grouped(
        decided(start, end),
        "decided_at",
        PERMIT_DIMS,
        numerator=Count("pk", filter=APPROVED),
        denominator=Count("pk"),
    )


def decided_after_submission(start, end):
    return decided(start, end).filter(submitted_at__isnull=False)


def days_to_decision(start, end):
    return _sampled(decided_after_submission(start, end), "decided_at", "submitted_at", PERMIT_DIMS)


def issued(start, end):
    return Application.objects.filter(**days("issued_at", start, end), submitted_at__isnull=False)


def days_to_issue(start, end):
    return _sampled(issued(start, end), "issued_at", "submitted_at", PERMIT_DIMS)


DECIDED_ON_TIME = Q(decided_at__date__lte=F("due_at"))


def decided_within_sla(start, end):
    return _grouped(
        decided(start, end),
        "decided_at",
        PERMIT_DIMS,
        numerator=Count("pk", filter=DECIDED_ON_TIME),
        denominator=Count("pk"),
    )


ONLINE = Q(online=True)


def submitted_online(start, end):
    return _grouped(
        submitted(start, end),
        "submitted_at",
        PERMIT_DIMS,
        numerator=Count("pk", filter=ONLINE),
        denominator=Count("pk"),
    )


def renewals(start, end):
    return Application.objects.filter(**days("issued_at", start, end), renews__isnull=False)


RENEWED_IN_TIME = Q(issued_at__date__lte=F("renews__expires_at"))


def renewals_on_time(start, end):
    return _grouped(
        renewals(start, end),
        "issued_at",
        {"permit_type": "permit_type__code"},
        numerator=Count("pk", filter=RENEWED_IN_TIME),
        denominator=Count("pk"),
    )


def fees_paid(start, end):
    return Payment.objects.filter(**days("created_at", start, end)).exclude(
        method=PaymentMethod.WAIVER
    )


def fees_received(start, end):
    """Money received for fees in the period, however paid (waivers and refunds aside)."""
    return Payment.objects.filter(**days("created_at", start, end)).exclude(
        method__in=[PaymentMethod.WAIVER, PaymentMethod.REFUND]
    )


PAID_ONLINE = Q(method=PaymentMethod.ONLINE)


def fees_paid_online(start, end):
    return _grouped(
        fees_received(start, end),
        "created_at",
        {"permit_type": "application__permit_type__code"},
        numerator=Count("pk", filter=PAID_ONLINE),
        denominator=Count("pk"),
    )


def fee_revenue(start, end):
    """The sum, and the number of payments behind it (the drill-down's count)."""
    return _grouped(
        fees_paid(start, end),
        "created_at",
        {"permit_type": "application__permit_type__code"},
        numerator=Sum("amount"),
        denominator=Count("pk"),
    )


SUBSCRIBED_CHANNELS = {"email": Q(by_email=True), "sms": Q(by_sms=True)}


def _subscribed(day):
    return Subscription.objects.filter(**days("confirmed_at", None, day))


def subscribers_at(day):
    return _subscribed(day).filter(Q(by_email=True) | Q(by_sms=True))


def alert_subscribers(start, end):
    day = start
    while day <= end:
        counts = _subscribed(day).aggregate(
            total=Count("pk", filter=Q(by_email=True) | Q(by_sms=True)),
            **{channel: Count("pk", filter=q) for channel, q in SUBSCRIBED_CHANNELS.items()},
        )
        yield Row(day, "", "", float(counts["total"]), 0.0, [])
        for channel in SUBSCRIBED_CHANNELS:
            yield Row(day, "channel", channel, float(counts[channel]), 0.0, [])
        day += timedelta(days=1)


def households_reached(start, end):
    households = PerformanceSettings.current().households or 0
    day = start
    while day <= end:
        yield Row(day, "", "", float(subscribers_at(day).count()), float(households), [])
        day += timedelta(days=1)


SENT = Q(status=DeliveryStatus.SENT)


def finished_deliveries(start, end):
    """Emails and texts that were accepted (on the day sent) or gave up (on the day they failed)."""
    return Delivery.objects.exclude(channel=Channel.PORTAL).filter(
        Q(status=DeliveryStatus.SENT, **days("sent_at", start, end))
        | Q(status=DeliveryStatus.FAILED, **days("updated_at", start, end))
    )


def delivery_success(start, end):
    sent = _grouped(
        Delivery.objects.filter(status="sent", **days("sent_at", start, end)).exclude(
            channel="portal"
        ),
        "sent_at",
        {"channel": "channel"},
    )
    failed = _grouped(
        Delivery.objects.filter(status="failed", **days("updated_at", start, end)).exclude(
            channel="portal"
        ),
        "updated_at",
        {"channel": "channel"},
    )
    totals: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in sent:
        totals[(row.day, row.dimension, row.value)][0] += row.numerator
        totals[(row.day, row.dimension, row.value)][1] += row.numerator
    for row in failed:
        totals[(row.day, row.dimension, row.value)][1] += row.numerator
    for (day, dimension, value), (num, den) in totals.items():
        yield Row(day, dimension, value, num, den, [])


def alert_messages_sent(start, end):
    return Delivery.objects.filter(
        status=DeliveryStatus.SENT,
        **days("sent_at", start, end),
        notification__alert__isnull=False,
    ).exclude(channel=Channel.PORTAL)


def minutes_to_deliver(start, end):
    return _sampled(
        alert_messages_sent(start, end),
        "sent_at",
        "notification__alert__published_at",
        {"channel": "channel"},
        unit="minutes",
    )


REACH_MINUTES = 5
WITHIN_FIVE_MINUTES = Q(
    status=DeliveryStatus.SENT,
    sent_at__lte=F("notification__alert__published_at") + timedelta(minutes=REACH_MINUTES),
)


def alert_messages(start, end):
    """Every email and text of the alerts published in the period (unsubscribed ones aside)."""
    return (
        Delivery.objects.filter(**days("notification__alert__published_at", start, end))
        .exclude(channel=Channel.PORTAL)
        .exclude(status=DeliveryStatus.SKIPPED)
    )


def alert_reach(start, end):
    return _grouped(
        alert_messages(start, end),
        "notification__alert__published_at",
        {"channel": "channel"},
        numerator=Count("pk", filter=WITHIN_FIVE_MINUTES),
        denominator=Count("pk"),
    )


REQ = "/console/code_enforcement/servicerequest/"
CASES = "/console/code_enforcement/codecase/"
VIOLATIONS = "/console/code_enforcement/violation/"
APP = "/console/permits/application/"
PAYMENTS = "/console/permits/payment/"
SUBSCRIPTIONS = "/console/alerts/subscription/"
DELIVERIES = "/console/alerts/delivery/"


def _at_end(queryset_at):
    return lambda start, end: queryset_at(end)


def _subscriber_channel(day, channel: str) -> Q:
    return SUBSCRIBED_CHANNELS[channel]


METRICS: list[Metric] = [
    # The headline measures first (HEADLINE below), then the rest by area.
    Metric(
        "requests_closed",
        "Complaints resolved",
        "Quejas resueltas",
        "Reports of problems closed in the period, whatever the outcome.",
        "Reportes de problemas cerrados en el período, con cualquier resultado.",
        "count",
        "up",
        "count",
        REQUEST_DIMS,
        requests_closed,
        records=_closed,
        listing=REQ,
    ),
    Metric(
        "closed_within_sla",
        "Resolved on time",
        "Resueltas a tiempo",
        "Of the reports closed in the period, the share closed by the date promised to the "
        "resident (the category's service level).",
        "De los reportes cerrados en el período, el porcentaje cerrado antes de la fecha "
        "prometida al residente (el nivel de servicio de la categoría).",
        "percent",
        "up",
        "ratio",
        REQUEST_DIMS,
        closed_within_sla,
        records=_closed,
        listing=REQ,
        numerator=CLOSED_ON_TIME,
    ),
    Metric(
        "success_rate",
        "Applications approved",
        "Solicitudes aprobadas",
        "Permit application success rate: of the applications decided in the period, the share "
        "approved (approved ÷ decided).",
        "Tasa de éxito de las solicitudes de permiso: de las solicitudes decididas en el período, "
        "el porcentaje aprobado (aprobadas ÷ decididas).",
        "percent",
        "up",
        "ratio",
        PERMIT_DIMS,
        success_rate,
        records=decided,
        listing=APP,
        numerator=APPROVED,
        group="permits",
    ),
    Metric(
        "median_days_to_decision",
        "Median days to a permit decision",
        "Mediana de días hasta la decisión de un permiso",
        "From submission to approval or denial, for applications decided in the period: half "
        "took this many days or fewer.",
        "Desde el envío hasta la aprobación o el rechazo, para las solicitudes decididas en el "
        "período: la mitad tardó estos días o menos.",
        "days",
        "down",
        "median",
        PERMIT_DIMS,
        days_to_decision,
        records=decided_after_submission,
        listing=APP,
        group="permits",
    ),
    Metric(
        "first_response_hours",
        "First response time",
        "Tiempo de primera respuesta",
        "From a resident's report to staff acknowledging it, for reports acknowledged in the "
        "period: half were answered within this many hours.",
        "Desde el reporte de un residente hasta que el personal lo atiende, para los reportes "
        "atendidos en el período: la mitad recibió respuesta en estas horas o menos.",
        "hours",
        "down",
        "median",
        REQUEST_DIMS,
        hours_to_first_response,
        records=acknowledged,
        listing=REQ,
    ),
    Metric(
        "alert_reach",
        "Alerts delivered within 5 minutes",
        "Alertas entregadas en 5 minutos",
        "Alert reach: of the emails and texts of alerts published in the period, the share the "
        "providers accepted within 5 minutes of publishing.",
        "Alcance de las alertas: de los correos y mensajes de las alertas publicadas en el "
        "período, el porcentaje aceptado por los proveedores en los 5 minutos siguientes.",
        "percent",
        "up",
        "ratio",
        {"channel": "channel"},
        alert_reach,
        records=alert_messages,
        listing=DELIVERIES,
        numerator=WITHIN_FIVE_MINUTES,
        group="alerts",
    ),
    # Service requests.
    Metric(
        "requests_received",
        "Requests received",
        "Reportes recibidos",
        "Problems residents reported, by any channel.",
        "Problemas que los residentes reportaron, por cualquier medio.",
        "count",
        "none",
        "count",
        RECEIVED_DIMS,
        requests_received,
        records=received,
        listing=REQ,
    ),
    Metric(
        "median_days_to_close",
        "Median days to close",
        "Mediana de días para cerrar",
        "Half of the reports closed in the period took this many days or fewer.",
        "La mitad de los reportes cerrados tardó estos días o menos.",
        "days",
        "down",
        "median",
        REQUEST_DIMS,
        days_to_close,
        records=_closed,
        listing=REQ,
    ),
    Metric(
        "p90_days_to_close",
        "90% closed within (days)",
        "El 90 % se cerró en (días)",
        "Nine in ten reports closed in the period took this many days or fewer.",
        "Nueve de cada diez reportes cerrados tardaron estos días o menos.",
        "days",
        "down",
        "p90",
        REQUEST_DIMS,
        days_to_close,
        records=_closed,
        listing=REQ,
    ),
    Metric(
        "avg_days_to_acknowledge",
        "Average days to acknowledge",
        "Promedio de días para atender",
        "How long, on average, until staff acknowledged a report.",
        "Cuánto tardó, en promedio, el personal en atender un reporte.",
        "days",
        "down",
        "mean",
        REQUEST_DIMS,
        days_to_acknowledge,
        records=acknowledged,
        listing=REQ,
    ),
    Metric(
        "open_backlog",
        "Open reports (backlog)",
        "Reportes abiertos (pendientes)",
        "Reports not closed at the end of the period, by age.",
        "Reportes sin cerrar al final del período, por antigüedad.",
        "count",
        "down",
        "snapshot_count",
        {"aging": ""},
        open_backlog,
        records=_at_end(open_at),
        listing=REQ,
        value_filters={"aging": aging_filter},
    ),
    Metric(
        "reopen_rate",
        "Reopened",
        "Reabiertos",
        "Share of closed reports that residents had to reopen.",
        "Porcentaje de reportes cerrados que los residentes tuvieron que reabrir.",
        "percent",
        "down",
        "ratio",
        REQUEST_DIMS,
        reopen_rate,
        records=_closed,
        listing=REQ,
        numerator=REOPENED,
    ),
    # Code enforcement.
    Metric(
        "voluntary_compliance",
        "Corrected without a citation",
        "Corregidos sin multa",
        "Share of closed cases with violations where the owner corrected them without a citation.",
        "Porcentaje de casos cerrados con infracciones que el dueño corrigió sin multa.",
        "percent",
        "up",
        "ratio",
        CASE_DIMS,
        voluntary_compliance,
        records=_closed_cases,
        listing=CASES,
        numerator=NO_CITATION,
        group="code",
    ),
    Metric(
        "median_days_to_compliance",
        "Median days to compliance",
        "Mediana de días hasta la corrección",
        "From the day a case opened from a complaint to the day the violation was corrected.",
        "Desde que se abrió el caso por una queja hasta que se corrigió la infracción.",
        "days",
        "down",
        "median",
        {"neighborhood": "case__neighborhood__slug"},
        days_to_compliance,
        records=corrected,
        listing=VIOLATIONS,
        group="code",
    ),
    Metric(
        "repeat_violations",
        "Repeat violations",
        "Infracciones repetidas",
        "New cases at addresses with another violation in the past 3 years.",
        "Casos nuevos en direcciones con otra infracción en los últimos 3 años.",
        "count",
        "down",
        "count",
        CASE_DIMS,
        repeat_violations,
        records=repeat_cases,
        listing=CASES,
        group="code",
    ),
    # Permits and licenses.
    Metric(
        "applications_received",
        "Permit applications",
        "Solicitudes de permisos",
        "Applications for permits and licenses submitted.",
        "Solicitudes de permisos y licencias enviadas.",
        "count",
        "none",
        "count",
        PERMIT_DIMS,
        applications_received,
        records=submitted,
        listing=APP,
        group="permits",
    ),
    Metric(
        "median_days_to_issue",
        "Median days to issue",
        "Mediana de días para emitir",
        "From submission to issue, for permits issued in the period.",
        "Desde el envío hasta la emisión, para permisos emitidos en el período.",
        "days",
        "down",
        "median",
        PERMIT_DIMS,
        days_to_issue,
        records=issued,
        listing=APP,
        group="permits",
    ),
    Metric(
        "decided_within_sla",
        "Decided on time",
        "Decididas a tiempo",
        "Share of applications decided within the promised review time.",
        "Porcentaje de solicitudes decididas dentro del tiempo de revisión prometido.",
        "percent",
        "up",
        "ratio",
        PERMIT_DIMS,
        decided_within_sla,
        records=decided,
        listing=APP,
        numerator=DECIDED_ON_TIME,
        group="permits",
    ),
    Metric(
        "submitted_online",
        "Applied online",
        "Solicitadas en línea",
        "Share of applications submitted online.",
        "Porcentaje de solicitudes enviadas en línea.",
        "percent",
        "up",
        "ratio",
        PERMIT_DIMS,
        submitted_online,
        records=submitted,
        listing=APP,
        numerator=ONLINE,
        group="permits",
    ),
    Metric(
        "renewals_on_time",
        "Renewed before expiry",
        "Renovadas antes de vencer",
        "Share of renewals issued before the old permit or license expired.",
        "Porcentaje de renovaciones emitidas antes de que venciera el permiso o licencia anterior.",
        "percent",
        "up",
        "ratio",
        {"permit_type": "permit_type__code"},
        renewals_on_time,
        records=renewals,
        listing=APP,
        numerator=RENEWED_IN_TIME,
        group="permits",
    ),
    Metric(
        "fee_revenue",
        "Fee revenue",
        "Ingresos por tarifas",
        "Permit and license fees paid (waivers excluded).",
        "Tarifas de permisos y licencias pagadas (sin exenciones).",
        "dollars",
        "none",
        "sum",
        {"permit_type": "application__permit_type__code"},
        fee_revenue,
        records=fees_paid,
        listing=PAYMENTS,
        group="permits",
    ),
    Metric(
        "fees_paid_online",
        "Fees paid online",
        "Tarifas pagadas en línea",
        "Of the fee payments received in the period (waivers and refunds aside), the share paid "
        "online by card instead of at the counter.",
        "De los pagos de tarifas recibidos en el período (sin exenciones ni reembolsos), el "
        "porcentaje pagado en línea con tarjeta en vez de en la ventanilla.",
        "percent",
        "up",
        "ratio",
        {"permit_type": "application__permit_type__code"},
        fees_paid_online,
        records=fees_received,
        listing=PAYMENTS,
        numerator=PAID_ONLINE,
        group="permits",
    ),
    # Alerts.
    Metric(
        "alert_subscribers",
        "Alert subscribers",
        "Suscriptores de alertas",
        "People subscribed to alerts at the end of the period, by channel.",
        "Personas suscritas a alertas al final del período, por medio.",
        "count",
        "up",
        "snapshot_count",
        {"channel": ""},
        alert_subscribers,
        records=_at_end(subscribers_at),
        listing=SUBSCRIPTIONS,
        value_filters={"channel": _subscriber_channel},
        group="alerts",
    ),
    Metric(
        "households_reached",
        "Households reached by alerts",
        "Hogares que reciben alertas",
        "Subscribers as a share of the city's households (set in the console).",
        "Suscriptores como porcentaje de los hogares de la ciudad.",
        "percent",
        "up",
        "snapshot_ratio",
        {},
        households_reached,
        records=_at_end(subscribers_at),
        listing=SUBSCRIPTIONS,
        group="alerts",
    ),
    Metric(
        "delivery_success",
        "Alerts delivered",
        "Alertas entregadas",
        "Share of emails and texts the providers accepted, of those finished.",
        "Porcentaje de correos y mensajes aceptados por los proveedores, de los terminados.",
        "percent",
        "up",
        "ratio",
        {"channel": "channel"},
        delivery_success,
        records=finished_deliveries,
        listing=DELIVERIES,
        numerator=SENT,
        group="alerts",
    ),
    Metric(
        "minutes_to_deliver",
        "Median minutes to deliver an alert",
        "Mediana de minutos para entregar una alerta",
        "From publishing an alert to each email or text being sent.",
        "Desde que se publica una alerta hasta que se envía cada correo o mensaje.",
        "minutes",
        "down",
        "median",
        {"channel": "channel"},
        minutes_to_deliver,
        records=alert_messages_sent,
        listing=DELIVERIES,
        group="alerts",
    ),
]

# The city's headline measures, shown first on the dashboard and in the monthly report.
HEADLINE = [
    "requests_closed",
    "closed_within_sla",
    "success_rate",
    "median_days_to_decision",
    "first_response_hours",
    "alert_reach",
]
GROUPS = [
    ("requests", "Service requests", "Reportes de servicio"),
    ("code", "Code enforcement", "Cumplimiento de códigos"),
    ("permits", "Permits and licenses", "Permisos y licencias"),
    ("alerts", "Alerts", "Alertas"),
]

REGISTRY = {metric.key: metric for metric in METRICS}


def combine(metric: Metric, rows: Iterable[Row]) -> float | None:
    """A period's value from its rows (raw or rolled up). None means no data, never zero."""
    rows = list(rows)
    if metric.is_snapshot:
        if not rows:
            return None
        last = max(row.day for row in rows)
        rows = [row for row in rows if row.day == last]
    if not rows:
        return None
    numerator = sum(row.numerator for row in rows)
    denominator = sum(row.denominator for row in rows)
    if metric.kind in ("count", "sum", "snapshot_count"):
        return numerator
    if metric.kind in ("ratio", "snapshot_ratio"):
        return None if not denominator else 100.0 * numerator / denominator
    if metric.kind == "mean":
        return None if not denominator else numerator / denominator
    samples = sorted(sample for row in rows for sample in row.samples)
    if not samples:
        return None
    if metric.kind == "median":
        return float(statistics.median(samples))
    if metric.kind == "p90":
        index = math.ceil(0.9 * len(samples)) - 1  # nearest-rank percentile
        return float(samples[min(index, len(samples) - 1)])
    raise ValueError(metric.kind)


def compute_direct(
    metric: Metric, start: date, end: date, *, dimension: str = ""
) -> dict[str, float | None]:
    """Straight from the raw tables: {dimension value: value} ("" for the whole city)."""
    if metric.is_snapshot:
        rows = [row for row in metric.rows(end, end) if row.dimension == dimension]
    else:
        rows = [row for row in metric.rows(start, end) if row.dimension == dimension]
    by_value: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_value[row.value].append(row)
    return {value: combine(metric, value_rows) for value, value_rows in by_value.items()}


def group_name(key: str, language: str | None = None) -> str:
    spanish = (language or get_language() or "en").startswith("es")
    return next(es if spanish else en for k, en, es in GROUPS if k == key)


def basis(metric: Metric, rows: Iterable[Row]) -> tuple[int | None, int | None]:
    """How many records a value stands on and, for a ratio, how many of them are above the line:
    the counts the console lists behind the number show (None: no data)."""
    rows = list(rows)
    if not rows:
        return None, None
    if metric.is_snapshot:
        last = max(row.day for row in rows)
        rows = [row for row in rows if row.day == last]
    numerator = round(sum(row.numerator for row in rows))
    denominator = round(sum(row.denominator for row in rows))
    if metric.kind in ("count", "snapshot_count", "snapshot_ratio"):
        return numerator, None
    if metric.kind == "ratio":
        return denominator, numerator
    if metric.kind in ("mean", "sum"):
        return denominator, None
    return sum(len(row.samples) for row in rows), None


def records(
    metric: Metric, start: date, end: date, *, dimension: str = "", value: str = "", part: str = ""
) -> QuerySet:
    """The records behind a number: the metric's queryset for the period, narrowed to one
    dimension value and, for a ratio's numerator, to the records above the line."""
    queryset = metric.records(start, end)
    if dimension:
        if dimension in metric.value_filters:
            queryset = queryset.filter(metric.value_filters[dimension](end, value))
        else:
            path = metric.dimensions[dimension]
            if value == "—":  # no value: as _grouped writes it
                queryset = queryset.filter(Q(**{f"{path}__isnull": True}) | Q(**{path: ""}))
            else:
                queryset = queryset.filter(**{path: value})
    if part == "numerator":
        if metric.numerator is None:
            raise ValueError(f"{metric.key} has no numerator")
        queryset = queryset.filter(metric.numerator)
    return queryset
