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

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import get_language

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
    unit: str  # count, percent, days, minutes, dollars
    direction: str  # up (higher is better), down, none
    kind: str  # count, ratio, mean, median, p90, snapshot_count, snapshot_ratio, sum
    dimensions: dict[str, str] = field(default_factory=dict)  # name -> ORM path
    rows: Callable[[date, date], Iterable[Row]] | None = None
    drilldown: str = ""  # console changelist with filters

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
    divisor = 86400 if unit == "days" else 60
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


def requests_received(start, end):
    dims = {**REQUEST_DIMS, "channel": "source"}
    return _grouped(
        ServiceRequest.objects.filter(**days("created_at", start, end)), "created_at", dims
    )


def _closed(start, end):
    return ServiceRequest.objects.filter(
        status=RequestStatus.CLOSED, **days("closed_at", start, end)
    )


def requests_closed(start, end):
    return _grouped(_closed(start, end), "closed_at", REQUEST_DIMS)


def closed_within_sla(start, end):
    return _grouped(
        _closed(start, end),
        "closed_at",
        REQUEST_DIMS,
        numerator=Count("pk", filter=Q(closed_at__date__lte=F("resolve_due"))),
        denominator=Count("pk"),
    )


def days_to_close(start, end):
    return _sampled(_closed(start, end), "closed_at", "created_at", REQUEST_DIMS)


def days_to_acknowledge(start, end):
    queryset = ServiceRequest.objects.filter(**days("acknowledged_at", start, end))
    return (
        Row(r.day, r.dimension, r.value, sum(r.samples), r.numerator, [])
        for r in _sampled(queryset, "acknowledged_at", "created_at", REQUEST_DIMS)
    )


def reopen_rate(start, end):
    return _grouped(
        _closed(start, end),
        "closed_at",
        REQUEST_DIMS,
        numerator=Count("pk", filter=Q(reopened_count__gt=0)),
        denominator=Count("pk"),
    )


AGING = [("0-7", 0, 7), ("8-30", 8, 30), ("31-90", 31, 90), ("90+", 91, 100_000)]


def open_backlog(start, end):
    """Open requests at the end of each day, by age."""
    day = start
    while day <= end:
        open_then = ServiceRequest.objects.filter(**days("created_at", None, day)).filter(
            Q(closed_at__isnull=True) | Q(**days("closed_at", day + timedelta(days=1), None))
        )
        counts = open_then.aggregate(
            total=Count("pk"),
            **{
                f"b{i}": Count(
                    "pk",
                    filter=Q(
                        **days(
                            "created_at",
                            day - timedelta(days=high),
                            day - timedelta(days=low),
                        ),
                    ),
                )
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


def voluntary_compliance(start, end):
    return _grouped(
        _closed_cases(start, end),
        "closed_at",
        {"neighborhood": "neighborhood__slug"},
        numerator=Count("pk", filter=Q(fine_amount__isnull=True)),
        denominator=Count("pk"),
    )


def days_to_compliance(start, end):
    queryset = Violation.objects.filter(**days("corrected_at", start, end))
    return _sampled(
        queryset, "corrected_at", "case__opened_at", {"neighborhood": "case__neighborhood__slug"}
    )


def repeat_violations(start, end):
    queryset = CodeCase.objects.filter(**days("opened_at", start, end), repeat_violation=True)
    return _grouped(queryset, "opened_at", {"neighborhood": "neighborhood__slug"})


PERMIT_DIMS = {"permit_type": "permit_type__code", "neighborhood": "neighborhood__slug"}


def applications_received(start, end):
    return _grouped(
        Application.objects.filter(**days("submitted_at", start, end)),
        "submitted_at",
        PERMIT_DIMS,
    )


def success_rate(start, end):
    decided = Application.objects.filter(**days("decided_at", start, end))
    return _grouped(
        decided,
        "decided_at",
        PERMIT_DIMS,
        numerator=Count("pk", filter=~Q(status=Status.DENIED)),
        denominator=Count("pk"),
    )


def days_to_issue(start, end):
    issued = Application.objects.filter(**days("issued_at", start, end))
    return _sampled(issued, "issued_at", "submitted_at", PERMIT_DIMS)


def decided_within_sla(start, end):
    decided = Application.objects.filter(**days("decided_at", start, end))
    return _grouped(
        decided,
        "decided_at",
        PERMIT_DIMS,
        numerator=Count("pk", filter=Q(decided_at__date__lte=F("due_at"))),
        denominator=Count("pk"),
    )


def submitted_online(start, end):
    submitted = Application.objects.filter(**days("submitted_at", start, end))
    return _grouped(
        submitted,
        "submitted_at",
        PERMIT_DIMS,
        numerator=Count("pk", filter=Q(online=True)),
        denominator=Count("pk"),
    )


def renewals_on_time(start, end):
    renewals = Application.objects.filter(**days("issued_at", start, end), renews__isnull=False)
    return _grouped(
        renewals,
        "issued_at",
        {"permit_type": "permit_type__code"},
        numerator=Count("pk", filter=Q(issued_at__date__lte=F("renews__expires_at"))),
        denominator=Count("pk"),
    )


def fee_revenue(start, end):
    payments = Payment.objects.filter(**days("created_at", start, end)).exclude(
        method=PaymentMethod.WAIVER
    )
    return _grouped(
        payments,
        "created_at",
        {"permit_type": "application__permit_type__code"},
        numerator=Sum("amount"),
    )


def _subscribed(day):
    return Subscription.objects.filter(**days("confirmed_at", None, day))


def alert_subscribers(start, end):
    day = start
    while day <= end:
        base = _subscribed(day)
        email = base.filter(by_email=True).count()
        sms = base.filter(by_sms=True).count()
        yield Row(
            day, "", "", float(base.filter(Q(by_email=True) | Q(by_sms=True)).count()), 0.0, []
        )
        yield Row(day, "channel", "email", float(email), 0.0, [])
        yield Row(day, "channel", "sms", float(sms), 0.0, [])
        day += timedelta(days=1)


def households_reached(start, end):
    households = PerformanceSettings.current().households or 0
    day = start
    while day <= end:
        reached = _subscribed(day).filter(Q(by_email=True) | Q(by_sms=True)).count()
        yield Row(day, "", "", float(reached), float(households), [])
        day += timedelta(days=1)


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


def minutes_to_deliver(start, end):
    sent = Delivery.objects.filter(
        status="sent", **days("sent_at", start, end), notification__alert__isnull=False
    )
    return _sampled(
        sent.exclude(channel="portal"),
        "sent_at",
        "notification__alert__published_at",
        {"channel": "channel"},
        unit="minutes",
    )


REQ = "/console/code_enforcement/servicerequest/"
APP = "/console/permits/application/"

METRICS: list[Metric] = [
    Metric(
        "requests_received",
        "Requests received",
        "Reportes recibidos",
        "Problems residents reported, by any channel.",
        "Problemas que los residentes reportaron, por cualquier medio.",
        "count",
        "none",
        "count",
        {**REQUEST_DIMS, "channel": "source"},
        requests_received,
        REQ,
    ),
    Metric(
        "requests_closed",
        "Requests closed",
        "Reportes cerrados",
        "Reports closed, whatever the outcome.",
        "Reportes cerrados, con cualquier resultado.",
        "count",
        "up",
        "count",
        REQUEST_DIMS,
        requests_closed,
        REQ + "?status__exact=closed",
    ),
    Metric(
        "closed_within_sla",
        "Closed on time",
        "Cerrados a tiempo",
        "Share of closed reports closed by their promised date.",
        "Porcentaje de reportes cerrados antes de la fecha prometida.",
        "percent",
        "up",
        "ratio",
        REQUEST_DIMS,
        closed_within_sla,
        REQ + "?sla=late",
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
        REQ + "?status__exact=closed",
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
        REQ + "?status__exact=closed",
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
        REQ + "?status__exact=new",
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
        REQ + "?status__exact=new",
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
        REQ,
    ),
    Metric(
        "voluntary_compliance",
        "Corrected without a citation",
        "Corregidos sin multa",
        "Share of closed cases with violations where the owner corrected them without a citation.",
        "Porcentaje de casos cerrados con infracciones que el dueño corrigió sin multa.",
        "percent",
        "up",
        "ratio",
        {"neighborhood": "neighborhood__slug"},
        voluntary_compliance,
        "/console/code_enforcement/codecase/",
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
        "/console/code_enforcement/codecase/",
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
        {"neighborhood": "neighborhood__slug"},
        repeat_violations,
        "/console/code_enforcement/codecase/?repeat_violation__exact=1",
    ),
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
        APP,
    ),
    Metric(
        "success_rate",
        "Applications approved",
        "Solicitudes aprobadas",
        "Of the applications decided, the share approved.",
        "De las solicitudes decididas, el porcentaje aprobado.",
        "percent",
        "up",
        "ratio",
        PERMIT_DIMS,
        success_rate,
        APP + "?status__exact=denied",
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
        APP + "?status__exact=issued",
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
        APP + "?overdue=yes",
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
        APP + "?online__exact=0",
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
        APP,
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
        APP,
    ),
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
        "/console/alerts/subscription/",
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
        "/console/alerts/subscription/",
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
        "/console/alerts/delivery/?status__exact=failed",
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
        "/console/alerts/alert/",
    ),
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
