"""The manager dashboard (staff, verified second factor), its printable version and monthly
reports, and the public performance page.

All read the daily roll-ups only, with a fixed number of queries whatever the data size.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cityhall.csvsafe import SafeWriter
from cityhall.pagecache import public_page

from . import charts, dashboard, drilldown
from . import forecast as forecasting
from . import reports as monthly
from .formatting import show
from .metrics import GROUPS, HEADLINE, METRICS, REGISTRY, group_name
from .models import MonthlyReport, PerformanceSettings, ReportOptIn, Target
from .names import dimension_name, value_names
from .periods import CHOICES, LENGTHS, Period, PeriodError, as_query, parse_period
from .scorecards import card, status_label, status_of

# Breakdowns draw a small chart for this many values (the largest); the table lists them all.
SMALL_MULTIPLES = 8


def _require_dashboard(request: HttpRequest) -> None:
    # The middleware already demands a verified staff session for /kpis/; this is the role.
    user = request.user
    if not (
        user.is_authenticated
        and user.is_staff
        and user.is_verified()
        and user.has_perm("kpis.view_dashboard")
    ):
        raise PermissionDenied


def _query(period: Period, **extra) -> str:
    return urlencode({**as_query(period), **{k: v for k, v in extra.items() if v}})


def _presets(current: Period | None, metric) -> list[dict]:
    return [
        {
            "label": label,
            "url": "?" + urlencode({"period": key, "metric": metric.key}),
            "current": current is not None and current.key == key,
        }
        for key, label in CHOICES
        if key in LENGTHS
    ]


def _targets() -> tuple[dict, dict]:
    """({metric: target}, {(metric, dimension, value): target}) in one query."""
    city, values = {}, {}
    for target in Target.objects.all():
        if target.dimension:
            values[(target.metric, target.dimension, target.value)] = target.target
        else:
            city[target.metric] = target.target
    return city, values


def _cards(period, numbers, targets, *, detail_query=True) -> dict[str, dict]:
    return {
        metric.key: card(
            metric,
            numbers["metrics"][metric.key],
            targets.get(metric.key),
            period,
            spans=numbers["spans"],
            detail_url=(
                "?" + _query(period, metric=metric.key) + "#detail" if detail_query else ""
            ),
        )
        for metric in METRICS
    }


def _sections(cards: dict[str, dict]) -> tuple[list[dict], list[dict]]:
    headline = [cards[key] for key in HEADLINE]
    groups = []
    for key, _en, _es in GROUPS:
        members = [
            c
            for c in cards.values()
            if c["metric"].group == key and c["metric"].key not in HEADLINE
        ]
        groups.append(
            {
                "key": key,
                "name": group_name(key),
                "cards": members,
                "off_track": sum(1 for c in members if c["status"] == "off_track"),
                "at_risk": sum(1 for c in members if c["status"] == "at_risk"),
            }
        )
    return headline, groups


def _main_chart(metric, numbers, target, *, chart_id="chart-main") -> charts.Chart:
    series = numbers["metrics"][metric.key]["series"]
    return charts.build(
        chart_id,
        metric,
        numbers["spans"],
        {
            "current": series["current"],
            "previous": series["previous"],
            "last_year": series["last_year"],
        },
        title=metric.name(),
        target=target,
    )


def _breakdowns(metric, period, numbers, value_targets) -> list[dict]:
    result = []
    for dimension, items in numbers["breakdowns"].items():
        names = value_names(metric.key, dimension, [item["code"] for item in items])
        rows = []
        for item in items:
            target = value_targets.get((metric.key, dimension, item["code"]))
            status = status_of(metric, item["number"], target)
            rows.append(
                {
                    **item,
                    "name": names[item["code"]],
                    "shown": show(item["number"], metric),
                    "target": target,
                    "status": status,
                    "status_label": status_label(status),
                    "link_all": drilldown.link(
                        metric, period.start, period.end, dimension=dimension, value=item["code"]
                    ),
                    "link_part": drilldown.link(
                        metric,
                        period.start,
                        period.end,
                        dimension=dimension,
                        value=item["code"],
                        part="numerator",
                    )
                    if metric.numerator is not None
                    else "",
                }
            )
        multiples = rows[:SMALL_MULTIPLES]
        shared = charts.y_scale(
            [v for row in multiples for v in row["series"]]
            + [row["target"] for row in multiples if row["target"] is not None],
            metric.unit,
            2,
            from_zero=metric.kind in ("count", "sum", "snapshot_count"),
        )
        result.append(
            {
                "dimension": dimension,
                "name": dimension_name(dimension),
                "rows": rows,
                "charts": [
                    charts.build(
                        f"chart-{dimension}-{i}",
                        metric,
                        numbers["spans"],
                        {"current": row["series"]},
                        title=row["name"],
                        target=row["target"],
                        small=True,
                        scale=shared,
                        link=row["link_all"],
                    )
                    for i, row in enumerate(multiples)
                ]
                if len(numbers["spans"]) > 1
                else [],
            }
        )
    return result


def _as_of(numbers) -> str:
    stamp = numbers.get("computed_at")
    if not stamp:
        return ""
    return formats.date_format(timezone.localtime(stamp), "DATETIME_FORMAT")


@require_safe
def dashboard_view(request: HttpRequest) -> HttpResponse:
    _require_dashboard(request)
    metric = REGISTRY.get(request.GET.get("metric", ""), REGISTRY[HEADLINE[0]])
    typed = {"start": request.GET.get("start", ""), "end": request.GET.get("end", "")}
    try:
        period = parse_period(request.GET)
    except PeriodError as error:
        # Nothing is shown for dates that make no sense: the error, and the dates as typed.
        return render(
            request,
            "kpis/dashboard.html",
            {
                "error": error,
                "typed": typed,
                "presets": _presets(None, metric),
                "metric": metric,
            },
            status=400,
        )
    numbers = dashboard.numbers(period, metric)
    targets, value_targets = _targets()
    cards = _cards(period, numbers, targets)
    headline, groups = _sections(cards)
    if period.key == "custom":
        typed = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    return render(
        request,
        "kpis/dashboard.html",
        {
            "period": period,
            "previous": period.previous,
            "last_year": dashboard.last_year(period),
            "presets": _presets(period, metric),
            "typed": typed,
            "headline": headline,
            "groups": groups,
            "metric": metric,
            "detail": cards[metric.key],
            # The comparisons' numbers link to their records too.
            "previous_link": drilldown.link(metric, period.previous.start, period.previous.end),
            "last_year_link": drilldown.link(
                metric, dashboard.last_year(period).start, dashboard.last_year(period).end
            ),
            "chart": _main_chart(metric, numbers, targets.get(metric.key)),
            "breakdowns": _breakdowns(metric, period, numbers, value_targets),
            "query": _query(period, metric=metric.key),
            "period_query": _query(period),
            "as_of": _as_of(numbers),
        },
    )


def _report_context(period, numbers, targets, *, title: str) -> dict:
    cards = _cards(period, numbers, targets, detail_query=False)
    headline, groups = _sections(cards)
    chart_of = {
        metric.key: _main_chart(
            metric, numbers, targets.get(metric.key), chart_id=f"chart-{metric.key}"
        )
        for metric in METRICS
    }
    for section in [{"cards": headline}, *groups]:
        for item in section["cards"]:
            item["chart"] = chart_of[item["metric"].key]
    compared = numbers.get("compared", {})

    def stored(name, default):
        if name not in compared:
            return default
        first, last = (date.fromisoformat(day) for day in compared[name])
        return Period("custom", first, last)

    return {
        "title": title,
        "period": period,
        "previous": stored("previous", period.previous),
        "last_year": stored("last_year", dashboard.last_year(period)),
        "headline": headline,
        "groups": groups,
    }


@require_safe
def print_view(request: HttpRequest) -> HttpResponse:
    """The dashboard for printing: every section open, one section a page, a chart per card."""
    _require_dashboard(request)
    try:
        period = parse_period(request.GET)
    except PeriodError:
        return redirect("kpis:dashboard")
    targets, _values = _targets()
    numbers = dashboard.numbers(period, None)
    context = _report_context(
        period, numbers, targets, title=_("City performance: scorecards and charts")
    )
    context["back"] = "?" + _query(period)
    return render(request, "kpis/report.html", context)


@require_safe
def reports(request: HttpRequest) -> HttpResponse:
    _require_dashboard(request)
    return render(
        request,
        "kpis/reports.html",
        {
            "reports": MonthlyReport.objects.only("month", "created_at")[:36],
            "opted_in": ReportOptIn.objects.filter(user=request.user).exists(),
        },
    )


@require_POST
def report_email_choice(request: HttpRequest) -> HttpResponse:
    _require_dashboard(request)
    if request.POST.get("email") == "yes":
        ReportOptIn.objects.get_or_create(user=request.user)
        messages.success(
            request,
            _("We will email you the report on the first of each month, to %(email)s.")
            % {"email": request.user.email},
        )
    else:
        ReportOptIn.objects.filter(user=request.user).delete()
        messages.success(request, _("We will no longer email you the monthly report."))
    return redirect("kpis:reports")


@require_safe
def report(request: HttpRequest, month: str) -> HttpResponse:
    _require_dashboard(request)
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise Http404 from None
    stored = get_object_or_404(MonthlyReport, month=first)
    period = monthly.month_period(first)
    context = _report_context(
        period,
        monthly.loaded(stored),
        stored.targets,
        title=_("Performance report for %(month)s")
        % {"month": formats.date_format(first, "YEAR_MONTH_FORMAT")},
    )
    context["stored"] = stored
    context["back"] = "?" + _query(period)
    return render(request, "kpis/report.html", context)


@require_safe
def export_csv(request: HttpRequest, key: str) -> HttpResponse:
    """A chart's data: the metric bucket by bucket (and its comparisons), and each breakdown."""
    _require_dashboard(request)
    metric = REGISTRY.get(key)
    if metric is None:
        raise Http404
    try:
        period = parse_period(request.GET)
    except PeriodError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    numbers = dashboard.numbers(period, metric)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{metric.key}-{period.start}-{period.end}.csv"'
    )
    writer = SafeWriter(response)
    writer.writerow(
        ["metric", "unit", "series", "label", "first_day", "last_day", "value", "records"]
    )
    series = numbers["metrics"][metric.key]["series"]
    comparisons = {
        "current": numbers["spans"],
        "previous": charts.buckets(period.previous.start, period.previous.end, numbers["grain"]),
        "last_year": charts.buckets(
            dashboard.last_year(period).start, dashboard.last_year(period).end, numbers["grain"]
        ),
    }
    for name, spans in comparisons.items():
        for (first, last), value in zip(spans, series[name], strict=False):
            writer.writerow([metric.key, metric.unit, name, "", first, last, _round(value), ""])
    for dimension, items in numbers["breakdowns"].items():
        names = value_names(metric.key, dimension, [item["code"] for item in items])
        for item in items:
            writer.writerow(
                [
                    metric.key,
                    metric.unit,
                    dimension,
                    names[item["code"]],
                    period.start,
                    period.end,
                    _round(item["number"]),
                    "" if item["basis"] is None else item["basis"],
                ]
            )
    return response


def _round(value):
    return "" if value is None else round(value, 2)


@require_safe
def forecasts(request: HttpRequest) -> HttpResponse:
    _require_dashboard(request)
    by_category = [
        forecasting.forecast_series(label, series)
        for label, series in sorted(forecasting.weekly_counts(group_by="category__code").items())
    ]
    ranking = [f for f in forecasting.resource_ranking() if f.enough_history][:15]
    today = timezone.localdate()
    next_monday = today + timedelta(days=7 - today.weekday())
    weeks = [next_monday + timedelta(weeks=n) for n in range(forecasting.HORIZON)]
    return render(
        request,
        "kpis/forecasts.html",
        {"by_category": by_category, "ranking": ranking, "weeks": weeks},
    )


@public_page
@require_safe
def performance(request: HttpRequest) -> HttpResponse:
    """Public: the metrics the city chose to publish, the last 90 days against the 90 before
    and the same days a year ago, with the same charts as the dashboard."""
    period = parse_period({"period": "quarter"})
    chosen = [
        REGISTRY[key] for key in PerformanceSettings.current().public_metrics if key in REGISTRY
    ]
    numbers = dashboard.numbers(period, None) if chosen else {"metrics": {}, "spans": []}
    targets = {
        t.metric: t.target
        for t in Target.objects.filter(dimension="", metric__in=[m.key for m in chosen])
    }
    items = []
    for metric in chosen:
        item = numbers["metrics"][metric.key]
        target = targets.get(metric.key)
        status = status_of(metric, item["value"], target)
        items.append(
            {
                "metric": metric,
                "value": item["value"],
                "previous": item["previous"],
                "target": target,
                "status": status,
                "status_label": status_label(status),
                "chart": _main_chart(metric, numbers, target, chart_id=f"chart-{metric.key}"),
            }
        )
    return render(request, "kpis/performance.html", {"items": items, "period": period})
