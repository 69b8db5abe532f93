"""A manager reads the KPI dashboard: the headline scorecards, the charts (axes, target line,
latest value, and the words assistive technology reads: each SVG's <title> and <desc>), the
records behind a number in the console, periods (presets, custom dates, a bookmark), the
collapsed areas by keyboard, the printable version and the monthly reports; then the public
performance page in both languages, and the dashboard on a phone. Axe on every page; each page
is screenshotted at 390 and 1280 px (test-artifacts/screenshots/test_kpis_journey/)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils import formats, timezone
from playwright.sync_api import Locator, Page, expect

from cityhall.roles import Role
from code_enforcement.constants import RequestStatus
from code_enforcement.models import ServiceRequest
from code_enforcement.tests.factories import make_category, make_department
from kpis import reports
from kpis.formatting import axis_unit, show
from kpis.metrics import HEADLINE, REGISTRY
from kpis.models import PerformanceSettings, Target
from kpis.rollups import rollup_days
from kpis.scorecards import status_label, status_of
from kpis.tests.world import at, make_neighborhood
from permits.constants import Status
from permits.models import Application
from permits.tests.factories import make_permit_type
from tests.browser.console import console_sign_in
from tests.personas import make_resident, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADLINE_NAMES = [
    "Complaints resolved",
    "Resolved on time",
    "Applications approved",
    "Median days to a permit decision",
    "First response time",
    "Alerts delivered within 5 minutes",
]
GROUP_NAMES = ["Service requests", "Code enforcement", "Permits and licenses", "Alerts"]
# The city's targets: a share, a median in days and one in hours; and one for a single value
# of a breakdown (potholes), so a small multiple draws its own target line.
TARGETS = {
    "closed_within_sla": 90,
    "success_rate": 85,
    "median_days_to_decision": 10,
    "first_response_hours": 24,
}
POTHOLE_TARGET = 85
PUBLIC = ["requests_received", "closed_within_sla", "median_days_to_decision"]


def _requests(today: date) -> None:
    """130 reports over the last ~120 days, potholes and graffiti, north and south: most
    acknowledged within hours and closed, one in eight of them after the promised day."""
    categories = [
        make_category("pothole", department=make_department("Public Works")),
        make_category("graffiti", department=make_department("Parks")),
    ]
    hoods = [make_neighborhood("north"), make_neighborhood("south")]
    now = timezone.now()
    rows = []
    for n in range(130):
        category = categories[n % 2]
        created = at(today - timedelta(days=2 + (n * 7) % 120), hour=9)
        acknowledged = created + timedelta(hours=2 + n % 30) if n % 9 else None
        late = n % 8 == 3
        closed = created + timedelta(days=9 if late else 1 + n % 4) if n % 5 else None
        if closed and (closed > now or acknowledged is None):
            closed = None
        if acknowledged and acknowledged > now:
            acknowledged = None
        rows.append(
            ServiceRequest(
                category=category,
                department=category.department,
                neighborhood=hoods[(n // 2) % 2],
                description=f"Report {n}",
                created_at=created,
                acknowledged_at=acknowledged,
                closed_at=closed,
                resolve_due=(created + timedelta(days=5)).date(),
                status=RequestStatus.CLOSED
                if closed
                else (RequestStatus.ACKNOWLEDGED if acknowledged else RequestStatus.NEW),
            )
        )
    ServiceRequest.objects.bulk_create(rows)


def _applications(today: date) -> None:
    """24 permit applications decided over the last ~100 days, one in four denied."""
    applicant = make_resident("applicant@example.com")
    types = [make_permit_type("BLD"), make_permit_type("FEN")]
    hoods = [make_neighborhood("north"), make_neighborhood("south")]
    for n in range(24):
        submitted = at(today - timedelta(days=12 + n * 4))
        decided = submitted + timedelta(days=4 + n % 12)
        denied = n % 4 == 0
        Application.objects.create(
            number=f"KPI-{n:03d}",
            permit_type=types[n % 2],
            applicant=applicant,
            status=Status.DENIED if denied else Status.APPROVED,
            neighborhood=hoods[n % 2],
            online=n % 3 != 0,
            submitted_at=submitted,
            due_at=(submitted + timedelta(days=10)).date(),
            decided_at=decided,
        )


@pytest.fixture
def city(db):
    """Four months of reports and permit decisions, the city's targets, the published measures,
    the daily roll-ups over them, and last month's report."""
    today = timezone.localdate()
    _requests(today)
    _applications(today)
    for metric, target in TARGETS.items():
        Target.objects.create(metric=metric, target=target)
    Target.objects.create(
        metric="closed_within_sla", dimension="category", value="pothole", target=POTHOLE_TARGET
    )
    settings_row = PerformanceSettings.current()
    settings_row.public_metrics = PUBLIC
    settings_row.save()
    rollup_days(start=today - timedelta(days=400), end=today)
    return reports.build(reports.previous_month(today))


@pytest.fixture
def manager(db):
    return make_staff(Role.MANAGER, "morgan@riverbend.example")


# --- Reading a chart -------------------------------------------------------------------------------

LATEST = re.compile(r"Latest value \((?P<when>[^)]+)\): (?P<value>.+?)\. Lowest")
# An x-axis label is a day ("Nov 3"), a month ("Dec 2025", then "Mar"), in either language.
DATE_TICK = re.compile(r"^(\w{3,5}\.?( \d{1,4})?|\d{1,2} \w{3,5}\.?)$")


def expect_chart(
    page: Page, chart_id: str, *, name: str, metric=None, target=None, english: bool = True
) -> str:
    """A server-drawn chart, as a sighted reader and a screen reader meet it: an image named by
    its <title> and <desc>, the unit and tick labels on both axes, the target line (exactly
    when there is a target) and the latest value, which the description states too. Returns the
    latest value as drawn ("" for a chart with no data)."""
    svg = page.locator(f"svg[aria-labelledby='{chart_id}-title {chart_id}-desc']")
    expect(svg).to_have_count(1)
    expect(svg).to_have_attribute("role", "img")
    expect(svg).to_have_class(re.compile("cityhall-chart__svg"))
    title, desc = page.locator(f"#{chart_id}-title"), page.locator(f"#{chart_id}-desc")
    expect(title).to_have_text(name)
    assert title.evaluate("e => e.tagName") == "title", chart_id
    assert desc.evaluate("e => e.tagName") == "desc", chart_id
    # What assistive technology reads: the title, then the sentences of the description.
    expect(svg).to_have_accessible_name(re.compile("^" + re.escape(name) + " .+"))
    description = desc.text_content()
    assert description.strip(), f"{chart_id}: an empty description"

    # The unit of the vertical axis: above it, or for a small multiple in its caption.
    figure = svg.locator("xpath=ancestor::figure[1]")
    small = "cityhall-chart--small" in (figure.get_attribute("class") or "")
    if small:
        unit = figure.locator(".cityhall-chart__caption-unit")
        expect(figure.locator(".cityhall-chart__caption")).to_contain_text(name)
    else:
        unit = svg.locator(".cityhall-chart__unit")
    expect(unit).to_have_count(1)
    if english and metric is not None:
        said = str(axis_unit(metric))
        expect(unit).to_have_text(f"({said.lower()})" if small else said)
    else:
        expect(unit).not_to_have_text(re.compile(r"^\W*$"))
    y_ticks = svg.locator(".cityhall-chart__ytick").all_text_contents()
    assert len(y_ticks) >= 2 and all(t.strip() for t in y_ticks), (chart_id, y_ticks)
    x_ticks = svg.locator(".cityhall-chart__xtick").all_text_contents()
    assert len(x_ticks) >= 2, (chart_id, x_ticks)
    assert all(DATE_TICK.match(t.strip()) for t in x_ticks), (chart_id, x_ticks)

    line, label = (
        svg.locator(".cityhall-chart__target"),
        svg.locator(".cityhall-chart__target-label"),
    )
    if target is None:
        expect(line).to_have_count(0)
        expect(label).to_have_count(0)
    else:
        expect(line).to_have_count(1)
        if english:
            shown = show(target, metric)
            expect(label).to_have_text(f"Target {shown}")
            assert f"Target: {shown}." in description, (chart_id, description)
        else:
            expect(label).not_to_have_text("")

    latest = svg.locator(".cityhall-chart__latest")
    if english and "No data in this period." in description:
        expect(latest).to_have_count(0)
        return ""
    expect(latest).to_have_count(1)
    value = latest.text_content().strip()
    assert value, chart_id
    if english:
        said = LATEST.search(description)
        assert said, (chart_id, description)
        assert said["value"] == value, (chart_id, value, description)
    else:
        assert value in description, (chart_id, value, description)
    return value


def scorecard(page: Page, name: str) -> Locator:
    return page.locator("li.cityhall-scorecard").filter(
        has=page.get_by_role("heading", name=name, exact=True)
    )


def number(text: str) -> int:
    """ "1,204 (see the records in the console)" -> 1204."""
    return int(re.match(r"[\d,]+", text.strip())[0].replace(",", ""))


def percent(text: str) -> float:
    return float(re.match(r"[\d.]+", text.strip())[0])


def console_list(page: Page, a11y, link: Locator, model_path: str) -> None:
    link.click()
    page.wait_for_url(re.compile(re.escape(model_path)))
    a11y(page)


def expect_listed(page: Page, count: int, verbose: str, description: str) -> None:
    """The console list shows exactly `count` records, and its filter says which ones."""
    expect(page.locator(".paginator")).to_contain_text(
        re.compile(rf"(^|\s){count} {verbose}{'' if count == 1 else 's'}\b")
    )
    behind = page.locator(
        "#changelist-filter details[data-filter-title='behind a dashboard number']"
    )
    expect(behind.locator("summary")).to_contain_text("By behind a dashboard number")
    expect(behind.locator("li.selected")).to_have_text(description)
    # Above the rows, the list says where it came from.
    banner = page.locator(".cityhall-records-behind")
    expect(banner).to_contain_text(f"the records behind “{description}”")
    expect(banner).to_contain_text("The count below is the dashboard's number.")


def console_day(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def tab_to(page: Page, target: Locator, *, limit: int = 120) -> None:
    """Press Tab, as a keyboard user does, until `target` has the focus."""
    for _press in range(limit):
        if target.evaluate("e => e === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


# --- The dashboard ---------------------------------------------------------------------------------


def test_manager_reads_the_scorecards_and_charts_and_the_records_behind_them(
    page, a11y, live_server, city, manager
):
    assert [REGISTRY[key].name_en for key in HEADLINE] == HEADLINE_NAMES
    console_sign_in(page, a11y, live_server, manager, "/kpis/")
    expect(page.get_by_role("heading", level=1)).to_have_text("City performance dashboard")
    expect(page.get_by_role("heading", name="Headline measures", level=2)).to_be_visible()
    today = timezone.localdate()
    first = today - timedelta(days=29)  # the last 30 days, by default
    expect(page.locator(".cityhall-period-summary")).to_contain_text(
        f"From {formats.date_format(first, 'DATE_FORMAT')} "
        f"to {formats.date_format(today, 'DATE_FORMAT')}."
    )

    # The six headline measures, in order; those with a target say how they stand against it.
    headline = page.locator("section[aria-labelledby='headline-heading'] li.cityhall-scorecard")
    expect(headline.locator(".cityhall-scorecard__name")).to_have_text(HEADLINE_NAMES)
    on_time = scorecard(page, "Resolved on time")
    shown = percent(on_time.locator(".cityhall-kpi-value").inner_text())
    status = status_label(status_of(REGISTRY["closed_within_sla"], shown, 90))
    expect(on_time.locator(".cityhall-status")).to_contain_text(status)
    expect(on_time.locator(".cityhall-status")).to_contain_text("target 90.0 %")
    expect(on_time.locator(".cityhall-trend")).to_contain_text("on the previous period")
    for name in ["Applications approved", "Median days to a permit decision"]:
        expect(scorecard(page, name).locator(".cityhall-status")).to_contain_text(
            re.compile("On track|At risk|Off track")
        )
    expect(scorecard(page, "Complaints resolved")).to_contain_text("No target set")
    # A sparkline is an image with words too.
    spark = on_time.locator("svg.cityhall-sparkline")
    expect(spark).to_have_attribute("role", "img")
    expect(spark).to_have_accessible_name(re.compile(r"^Resolved on time over the period From "))
    on_time.get_by_text("What this measures").click()
    expect(on_time.locator(".cityhall-definition p")).to_be_visible()

    # The main chart: the first headline measure, a count, day by day; no target.
    closed = number(
        scorecard(page, "Complaints resolved").locator(".cityhall-kpi-value").inner_text()
    )
    assert closed > 0
    expect_chart(page, "chart-main", name="Complaints resolved", metric=REGISTRY["requests_closed"])
    expect(
        page.get_by_role("img", name=re.compile(r"^Complaints resolved Bar chart, day by day"))
    ).to_be_visible()

    # A card's name opens its detail: the chart of that measure, with its target line.
    on_time.get_by_role("link", name="Resolved on time").click()
    page.wait_for_url(re.compile(r"metric=closed_within_sla"))
    a11y(page)
    expect(page.locator("#detail-heading")).to_have_text("Resolved on time")
    metric = REGISTRY["closed_within_sla"]
    latest = expect_chart(page, "chart-main", name="Resolved on time", metric=metric, target=90)
    expect(page.locator("#chart-main-desc")).to_contain_text("Target: 90.0 %.")
    expect(page.locator("#chart-main-desc")).to_contain_text(f": {latest}.")
    assert latest.endswith(" %")
    # The chart's numbers as a table: its last row with a value is the latest value.
    table = page.locator("details.cityhall-chart-table")
    table.locator("summary").click()
    expect(table.locator("tbody tr")).to_have_count(30)
    expect(table.locator("tbody td")).to_contain_text([latest])

    # A breakdown: collapsed until opened, then a small chart per category on a shared scale;
    # potholes have their own target.
    breakdown = page.locator("details.cityhall-breakdown").filter(has_text="By category")
    expect(breakdown).not_to_have_attribute("open", "")
    expect(breakdown.locator("svg.cityhall-chart__svg").first).to_be_hidden()
    breakdown.locator("summary").click()
    expect(breakdown).to_have_attribute("open", "")
    expect(breakdown.locator("svg.cityhall-chart__svg")).to_have_count(2)
    titles = breakdown.locator("svg.cityhall-chart__svg > title").all_text_contents()
    assert sorted(titles) == ["Graffiti", "Pothole"], titles
    for i, name in enumerate(titles):
        expect_chart(
            page,
            f"chart-category-{i}",
            name=name,
            metric=metric,
            target=POTHOLE_TARGET if name == "Pothole" else None,
        )
        expect(page.get_by_role("img", name=re.compile(f"^{name} Line chart"))).to_be_visible()
    pothole_row = breakdown.locator("tbody tr").filter(has_text="Pothole")
    expect(pothole_row).to_contain_text("85.0 %")
    a11y(page)  # axe again, with the small multiples shown

    # Drilling down: the records behind the share are listed in the console, as many as the
    # card says ("N of M reports").
    on_time = scorecard(page, "Resolved on time")
    basis = on_time.locator(".cityhall-basis")
    expect(basis).to_contain_text(re.compile(r"^[\d,]+ of [\d,]+ reports?$"))
    part, whole = basis.get_by_role("link").all()
    above, behind = number(part.inner_text()), number(whole.inner_text())
    assert 0 < above < behind == closed
    days = f"{console_day(first)} to {console_day(today)}"
    console_list(page, a11y, part, "/console/code_enforcement/servicerequest/")
    expect_listed(
        page,
        above,
        "service request",
        f"Resolved on time, {days} (only those that count toward the share)",
    )
    page.go_back()
    page.wait_for_url(re.compile(r"/kpis/\?"))
    console_list(page, a11y, whole, "/console/code_enforcement/servicerequest/")
    expect_listed(page, behind, "service request", f"Resolved on time, {days}")
    page.go_back()
    page.wait_for_url(re.compile(r"/kpis/\?"))
    # The count on a card links to its records too.
    resolved = scorecard(page, "Complaints resolved").locator(".cityhall-kpi-value a")
    expect(resolved).to_have_accessible_name(f"{closed} (see the records in the console)")
    console_list(page, a11y, resolved, "/console/code_enforcement/servicerequest/")
    expect_listed(page, closed, "service request", f"Complaints resolved, {days}")
    page.go_back()
    page.wait_for_url(re.compile(r"/kpis/\?"))
    approved = scorecard(page, "Applications approved").locator(".cityhall-basis")
    decided = approved.get_by_role("link").last
    count = number(decided.inner_text())
    assert count > 0
    console_list(page, a11y, decided, "/console/permits/application/")
    expect_listed(page, count, "application", f"Applications approved, {days}")
    page.go_back()
    page.wait_for_url(re.compile(r"/kpis/\?"))

    # The areas are collapsed; a keyboard opens them: Tab to each one's summary, then Enter.
    for name in GROUP_NAMES:
        group = page.locator("details.cityhall-kpi-group").filter(
            has=page.get_by_role("heading", name=name, exact=True)
        )
        expect(group).not_to_have_attribute("open", "")
        expect(group.locator("li.cityhall-scorecard").first).to_be_hidden()
        page.locator("#headline-heading").evaluate("e => e.closest('section').scrollIntoView()")
        scorecard(page, HEADLINE_NAMES[-1]).locator(".cityhall-definition summary").focus()
        tab_to(page, group.locator("summary").first, limit=200)
        page.keyboard.press("Enter")
        expect(group).to_have_attribute("open", "")
        expect(group.locator("li.cityhall-scorecard").first).to_be_visible()
    a11y(page)  # axe again, with every area open


def test_manager_changes_the_period_and_bookmarks_it(page, a11y, live_server, city, manager):
    console_sign_in(page, a11y, live_server, manager, "/kpis/?metric=closed_within_sla")
    today = timezone.localdate()
    summary = page.locator(".cityhall-period-summary")
    periods = page.get_by_role("navigation", name="Period shown")
    expect(periods.get_by_role("link")).to_have_text(
        ["Last 7 days", "Last 30 days", "Last 90 days", "Last 12 months"]
    )
    expect(periods.get_by_role("link", name="Last 30 days")).to_have_attribute(
        "aria-current", "page"
    )

    # A preset: the last 90 days, week by week, the chosen measure kept.
    periods.get_by_role("link", name="Last 90 days").click()
    page.wait_for_url(re.compile(r"period=quarter"))
    assert "metric=closed_within_sla" in page.url
    a11y(page)
    expect(periods.get_by_role("link", name="Last 90 days")).to_have_attribute(
        "aria-current", "page"
    )
    first = today - timedelta(days=89)
    expect(summary).to_contain_text(f"From {formats.date_format(first, 'DATE_FORMAT')} ")
    metric = REGISTRY["closed_within_sla"]
    expect_chart(page, "chart-main", name="Resolved on time", metric=metric, target=90)
    expect(page.locator("#chart-main-desc")).to_contain_text("week by week")

    # Custom dates typed the wrong way round: a 400, the problem said, the dates kept as typed.
    later, earlier = today - timedelta(days=10), today - timedelta(days=40)
    page.get_by_label("First day").fill(later.isoformat())
    page.get_by_label("Last day").fill(earlier.isoformat())
    with page.expect_response(lambda r: "/kpis/?" in r.url) as answer:
        page.get_by_role("button", name="Show these days").click()
    assert answer.value.status == 400
    a11y(page)
    expect(page).to_have_title(re.compile(r"^Error: City performance dashboard"))
    problem = page.locator("#error-summary")
    expect(problem).to_contain_text("There is a problem with the dates")
    message = "The last day is before the first day. Swap them, or choose other dates."
    expect(problem).to_contain_text(message)
    expect(page.locator("#end-error")).to_have_text(message)
    expect(page.get_by_label("Last day")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("First day")).to_have_value(later.isoformat())
    expect(page.get_by_label("Last day")).to_have_value(earlier.isoformat())
    expect(page.locator("svg.cityhall-chart__svg")).to_have_count(0)
    # The summary has the focus (heard first), and its link leads to the field to correct.
    expect(problem).to_be_focused()
    expect(problem.get_by_role("link", name=message)).to_have_attribute("href", "#end")

    # Valid custom dates, nothing else chosen: the address keeps them, the sentence says them.
    page.get_by_label("First day").fill(earlier.isoformat())
    page.get_by_label("Last day").fill(later.isoformat())
    page.get_by_role("button", name="Show these days").click()
    page.wait_for_url(re.compile(rf"start={earlier.isoformat()}&end={later.isoformat()}"))
    a11y(page)
    said = (
        f"From {formats.date_format(earlier, 'DATE_FORMAT')} "
        f"to {formats.date_format(later, 'DATE_FORMAT')}."
    )
    expect(summary).to_contain_text(said)
    expect(periods.locator("[aria-current]")).to_have_count(0)
    expect(page.get_by_label("First day")).to_have_value(earlier.isoformat())
    latest = expect_chart(page, "chart-main", name="Resolved on time", metric=metric, target=90)
    expect(page.locator("#chart-main-desc")).to_contain_text(
        f"from {formats.date_format(earlier, 'DATE_FORMAT')} "
        f"to {formats.date_format(later, 'DATE_FORMAT')}."
    )

    # The address is a bookmark: opened again, the same view.
    bookmark = page.url
    page.goto("about:blank")
    page.goto(bookmark)
    a11y(page)
    expect(summary).to_contain_text(said)
    expect(page.get_by_label("First day")).to_have_value(earlier.isoformat())
    expect(page.get_by_label("Last day")).to_have_value(later.isoformat())
    expect(page.locator("#detail-heading")).to_have_text("Resolved on time")
    assert (
        expect_chart(page, "chart-main", name="Resolved on time", metric=metric, target=90)
        == latest
    )
    # The printable version keeps the period too.
    page.get_by_role("link", name="Printable version").click()
    page.wait_for_url(re.compile(rf"/kpis/print/\?start={earlier.isoformat()}"))
    a11y(page)
    expect(page.locator(".usa-intro")).to_contain_text(
        f"{formats.date_format(earlier, 'DATE_FORMAT')} to {formats.date_format(later, 'DATE_FORMAT')}."
    )


def expect_every_chart(page: Page, *, language: str = "en") -> int:
    """Every chart of a report (one a measure, `chart-<key>`), read as expect_chart reads it,
    the target line drawn exactly for the measures with a target. Returns how many."""
    svgs = page.locator("svg.cityhall-chart__svg")
    ids = [
        label.split()[0].removesuffix("-title")
        for label in svgs.evaluate_all("all => all.map(e => e.getAttribute('aria-labelledby'))")
    ]
    for chart_id in ids:
        metric = REGISTRY[chart_id.removeprefix("chart-")]
        expect_chart(
            page,
            chart_id,
            name=metric.name(language),
            metric=metric,
            target=TARGETS.get(metric.key),
            english=language == "en",
        )
    return len(ids)


def test_printable_version_and_monthly_reports(page, a11y, live_server, city, manager):
    from kpis.metrics import METRICS

    console_sign_in(page, a11y, live_server, manager, "/kpis/")
    # The printable version: every measure a card with its chart, every area open.
    page.get_by_role("link", name="Printable version").click()
    page.wait_for_url(re.compile(r"/kpis/print/\?period=month"))
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "City performance: scorecards and charts"
    )
    expect(page.get_by_role("heading", level=2)).to_have_text(["Headline measures", *GROUP_NAMES])
    expect(page.locator("#report-headline + ul .cityhall-scorecard__name")).to_have_text(
        HEADLINE_NAMES
    )
    assert expect_every_chart(page) == len(METRICS)
    expect(page.locator("li.cityhall-report-card")).to_have_count(len(METRICS))
    page.get_by_role("link", name="Back to the dashboard").click()
    page.wait_for_url(re.compile(r"/kpis/\?period=month"))
    a11y(page)

    # The monthly reports: asking for them by email, and changing one's mind.
    page.get_by_role("link", name="Monthly reports").click()
    page.wait_for_url(re.compile(r"/kpis/reports/$"))
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly performance reports")
    expect(page.get_by_text("You do not get the report by email.")).to_be_visible()
    page.get_by_role("button", name="Email me the report each month").click()
    page.wait_for_url(re.compile(r"/kpis/reports/$"))
    a11y(page)
    expect(
        page.get_by_text(
            "We will email you the report on the first of each month, to morgan@riverbend.example."
        )
    ).to_be_visible()
    expect(
        page.get_by_text("You get each report by email, at morgan@riverbend.example.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Email me the report each month")).to_have_count(0)
    page.get_by_role("button", name="Stop emailing me the report").click()
    expect(page.get_by_text("We will no longer email you the monthly report.")).to_be_visible()
    a11y(page)
    expect(page.get_by_role("button", name="Email me the report each month")).to_be_visible()

    # Last month's report, as it was made: listed, and opened with a chart per measure.
    month = city.month
    name = formats.date_format(month, "YEAR_MONTH_FORMAT")
    page.get_by_role("link", name=f"Report for {name}").click()
    page.wait_for_url(re.compile(rf"/kpis/reports/{month:%Y-%m}/$"))
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Performance report for {name}")
    expect(page.get_by_text(re.compile(r"^Made on .+ from that day's numbers"))).to_be_visible()
    assert expect_every_chart(page) == len(METRICS)
    # A month is drawn day by day, from its first day to its last.
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    expect(page.locator("#chart-requests_closed-desc")).to_contain_text(
        f"day by day from {formats.date_format(month, 'DATE_FORMAT')} "
        f"to {formats.date_format(last, 'DATE_FORMAT')}."
    )


# --- The public page ------------------------------------------------------------------------------


def test_public_performance_page_in_both_languages(page, a11y, live_server, city):
    page.goto(f"{live_server.url}/performance/")
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("How the city is doing")
    names = [REGISTRY[key].name_en for key in PUBLIC]
    expect(page.get_by_role("heading", level=2)).to_have_text(names)
    assert expect_every_chart(page) == len(PUBLIC)
    on_time = page.locator("section[aria-labelledby='measure-closed_within_sla']")
    expect(on_time.locator(".cityhall-status")).to_contain_text("target 90.0 %")
    expect(page.locator("#chart-closed_within_sla-desc")).to_contain_text("week by week")

    page.goto(f"{live_server.url}/es/performance/")
    a11y(page)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    names_es = [REGISTRY[key].name_es for key in PUBLIC]
    assert names_es == [
        "Reportes recibidos",
        "Resueltas a tiempo",
        "Mediana de días hasta la decisión de un permiso",
    ]
    expect(page.get_by_role("heading", level=2)).to_have_text(names_es)
    assert expect_every_chart(page, language="es") == len(PUBLIC)
    for name in names_es:
        expect(
            page.get_by_role("img", name=re.compile("^" + re.escape(name) + " "))
        ).to_be_visible()


# --- On a phone -----------------------------------------------------------------------------------


def test_the_dashboard_is_short_on_a_phone(phone_page, a11y, live_server, city, manager):
    """At 390 px the default view is the headline cards, the collapsed areas and one chart:
    less than 4,000 pixels to scroll, and nothing wider than the screen."""
    console_sign_in(phone_page, a11y, live_server, manager, "/kpis/")
    expect(
        phone_page.locator("svg[aria-labelledby='chart-main-title chart-main-desc']")
    ).to_be_visible()
    height = phone_page.evaluate("document.documentElement.scrollHeight")
    assert height < 4000, f"the dashboard is {height} px tall on a phone"
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the dashboard is {width} px wide on a phone"
    box = phone_page.locator(
        "svg[aria-labelledby='chart-main-title chart-main-desc']"
    ).bounding_box()
    assert box["width"] <= 390
