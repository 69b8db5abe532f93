"""The monthly performance report: made once from the roll-ups and kept as made, emailed once
to each manager who asked (in their language), made by beat in a real worker, and its pages
(the list, the opt-in, the report, the printable dashboard) with pinned query counts.

The month under test is June 2026, the fixed world of world.py (hand-computed values in
test_metrics.py)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from alerts import delivery
from alerts.constants import Channel, DeliveryStatus
from alerts.models import Delivery, Notification
from cityhall.roles import Role
from code_enforcement.constants import RequestStatus
from code_enforcement.models import ServiceCategory, ServiceRequest
from kpis import dashboard, reports
from kpis.formatting import show
from kpis.metrics import HEADLINE, METRICS, REGISTRY
from kpis.models import MonthlyReport, ReportEmail, ReportOptIn, Target
from kpis.rollups import rollup_days
from tests.personas import make_resident, make_staff, signed_in_client, verified_client
from tests.worker import celery_worker, tasks_done, wait_for

from .test_metrics import CITY
from .test_views import all_cards
from .world import END, START, at, make_neighborhood

pytestmark = pytest.mark.django_db

JUNE = date(2026, 6, 1)
SITE = settings.SITE_URL.rstrip("/")


def approx(value):
    return None if value is None else pytest.approx(value, abs=1e-6)


def roll_up_june() -> None:
    """June, May (the month before) and June 2025 (the same month last year)."""
    rollup_days(start=date(2026, 5, 1), end=END)
    rollup_days(start=date(2025, 6, 1), end=date(2025, 6, 30))


@pytest.fixture
def june(world):
    roll_up_june()
    return world


def opted_in_manager(email: str, *, language: str = "en"):
    user = make_staff(Role.MANAGER, email)
    if language != "en":
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
    ReportOptIn.objects.create(user=user)
    return user


# --- Making the report ---------------------------------------------------------------------------


def test_the_june_report_holds_the_months_numbers(june):
    report = reports.build(JUNE)
    assert report.month == JUNE
    computed = dashboard.compute(reports.month_period(JUNE), None)
    stored = report.numbers["metrics"]
    for key in HEADLINE:
        assert stored[key]["value"] == approx(computed["metrics"][key]["value"]), key
        assert stored[key]["value"] == approx(CITY[key]), key
    # Not only the headline: every measure, as worked out by hand from the raw rows.
    for key, value in CITY.items():
        assert stored[key]["value"] == approx(value), key
    assert stored["requests_closed"]["value"] == 10
    assert stored["closed_within_sla"]["value"] == 70.0
    # With what the charts need: June day by day, against May and June 2025 day by day.
    assert report.numbers["spans"][0] == ["2026-06-01", "2026-06-01"]
    assert len(report.numbers["spans"]) == 30
    series = stored["requests_closed"]["series"]
    assert len(series["current"]) == len(series["previous"]) == len(series["last_year"]) == 30
    assert sum(v or 0 for v in series["current"]) == 10
    # Read back in the shape the dashboard computes.
    loaded = reports.loaded(report)
    assert loaded["spans"] == computed["spans"]
    assert loaded["metrics"]["requests_closed"] == computed["metrics"]["requests_closed"]


def test_a_report_is_made_once(june):
    first = reports.build(JUNE)
    again = reports.build(date(2026, 6, 17))  # any day of the month names the month
    assert again.pk == first.pk
    assert MonthlyReport.objects.count() == 1


def test_the_report_of_the_month_before(june):
    assert reports.previous_month(date(2026, 7, 1)) == JUNE
    assert reports.previous_month(date(2026, 7, 3)) == JUNE
    assert reports.previous_month(date(2026, 1, 1)) == date(2025, 12, 1)
    period = reports.month_period(date(2026, 2, 1))
    assert (period.start, period.end) == (date(2026, 2, 1), date(2026, 2, 28))
    # Each month is compared with the calendar month before, whatever their lengths.
    july = reports.month_period(date(2026, 7, 1))
    assert (july.previous.start, july.previous.end) == (date(2026, 6, 1), date(2026, 6, 30))
    march = reports.month_period(date(2026, 3, 1))
    assert (march.previous.start, march.previous.end) == (date(2026, 2, 1), date(2026, 2, 28))


def _close_more_in_june() -> None:
    """Corrections after the report: C1 is disposed of, O1 turns out closed on June 25."""
    ServiceRequest.objects.filter(description="Request C1").delete()
    ServiceRequest.objects.filter(description="Request O1").update(
        status=RequestStatus.CLOSED, closed_at=at((6, 25))
    )
    pothole = ServiceCategory.objects.get(code="pothole")
    for n in range(3):
        ServiceRequest.objects.create(
            category=pothole,
            description=f"Late entry {n}",
            created_at=at((6, 20)),
            closed_at=at((6, 21)),
            resolve_due=date(2026, 6, 30),
            status=RequestStatus.CLOSED,
        )


def test_the_numbers_stay_as_made_whatever_changes_later(june, manager_client):
    report = reports.build(JUNE)
    made = report.numbers
    _close_more_in_june()
    roll_up_june()
    now = dashboard.compute(reports.month_period(JUNE), None)["metrics"]
    # The raw data and the roll-ups moved: 10 - C1 + O1 + 3 = 13 closed, 7 - 1 + 1 + 3 = 10 of
    # them on time.
    assert now["requests_closed"]["value"] == 13
    assert now["closed_within_sla"]["value"] == approx(1000 / 13)

    report = reports.build(JUNE)
    report.refresh_from_db()
    assert report.numbers == made
    assert report.numbers["metrics"]["requests_closed"]["value"] == 10
    response = manager_client.get("/kpis/reports/2026-06/")
    cards = all_cards(response)
    assert cards["requests_closed"]["value"] == 10
    assert cards["closed_within_sla"]["value"] == 70.0
    # The printable dashboard, by contrast, shows today's numbers.
    live = all_cards(manager_client.get("/kpis/print/?start=2026-06-01&end=2026-06-30"))
    assert live["requests_closed"]["value"] == 13


def test_the_targets_stay_as_made(june, manager):
    Target.objects.create(metric="closed_within_sla", target=75, set_by=manager)
    Target.objects.create(metric="requests_closed", target=8, set_by=manager)
    # A target for one category is not the city's: it is not in the report.
    Target.objects.create(
        metric="requests_closed", dimension="category", value="pothole", target=99
    )
    report = reports.build(JUNE)
    assert report.targets == {"closed_within_sla": 75.0, "requests_closed": 8.0}

    Target.objects.filter(metric="closed_within_sla", dimension="").update(target=60)
    Target.objects.filter(metric="requests_closed", dimension="").delete()
    Target.objects.create(metric="reopen_rate", target=5, set_by=manager)
    report.refresh_from_db()
    assert report.targets == {"closed_within_sla": 75.0, "requests_closed": 8.0}

    cards = all_cards(verified_client(manager).get("/kpis/reports/2026-06/"))
    # 70 % against the stored 75 % (5 short, within 10 %): at risk, not on track against 60.
    assert (cards["closed_within_sla"]["target"], cards["closed_within_sla"]["status"]) == (
        75.0,
        "at_risk",
    )
    assert (cards["requests_closed"]["target"], cards["requests_closed"]["status"]) == (
        8.0,
        "on_track",
    )
    assert cards["reopen_rate"]["target"] is None


# --- Emailing it ---------------------------------------------------------------------------------


@pytest.fixture
def people(db):
    """Who asked and who did not; who may see the dashboard and who may not."""
    people = {
        "english": opted_in_manager("ann.manager@riverbend.example"),
        "spanish": opted_in_manager("beto.gerente@riverbend.example", language="es"),
        "not_asked": make_staff(Role.MANAGER, "quiet.manager@riverbend.example"),
        "inactive": opted_in_manager("gone.manager@riverbend.example"),
        "inspector": make_staff(Role.CODE_INSPECTOR, "inspector@riverbend.example"),
    }
    people["inactive"].is_active = False
    people["inactive"].save(update_fields=["is_active"])
    # An opt-in row can exist for people who may not see the dashboard (or no longer may):
    # it must not send them the city's numbers.
    ReportOptIn.objects.create(user=people["inspector"])
    people["resident"] = make_resident("resident@example.com")
    ReportOptIn.objects.create(user=people["resident"])
    return people


def send_emails() -> list:
    """Send the reports' pending email deliveries as the worker would; the messages sent.
    (The world has a pending email of its own, D8: it is left alone.)"""
    before = len(mail.outbox)
    pending = Delivery.objects.filter(
        channel=Channel.EMAIL,
        status=DeliveryStatus.PENDING,
        notification__template=reports.TEMPLATE,
    )
    for delivery_id in pending.values_list("pk", flat=True):
        delivery.delivery_send(delivery_id=delivery_id)
    return mail.outbox[before:]


def emails_to(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


def test_only_active_managers_who_asked_get_it(june, people):
    assert list(reports.recipients()) == [people["english"], people["spanish"]]
    report = reports.build(JUNE)
    assert reports.send(report) == 2
    assert set(ReportEmail.objects.values_list("user", flat=True)) == {
        people["english"].pk,
        people["spanish"].pk,
    }
    sent = send_emails()
    assert sorted(m.to[0] for m in sent) == sorted(
        [people["english"].email, people["spanish"].email]
    )
    for name in ("not_asked", "inactive", "inspector", "resident"):
        assert not Notification.objects.filter(user=people[name]).exists(), name
        assert not emails_to(people[name]), name


def test_a_superuser_who_asked_gets_it(june, admin_user):
    ReportOptIn.objects.create(user=admin_user)
    assert list(reports.recipients()) == [admin_user]


def test_the_email_in_english(june, people):
    report = reports.build(JUNE)
    reports.send(report)
    send_emails()
    (message,) = emails_to(people["english"])
    assert message.subject == f"{settings.CITY['name']} performance report for June 2026"
    body = message.body
    for key in HEADLINE:
        metric = REGISTRY[key]
        assert f"{metric.name_en}: {show(CITY[key], metric)}" in body, key
    assert "Complaints resolved: 10 (previous month" in body
    assert "Resolved on time: 70.0 %" in body
    assert "Median days to a permit decision: 13.0 days" in body
    link = f"{SITE}/kpis/reports/2026-06/"
    assert link in body
    html = message.alternatives[0][0]
    assert f'href="{link}"' in html
    assert "Complaints resolved: 10" in html
    notification = Notification.objects.get(user=people["english"])
    assert notification.language == "en"
    assert notification.link == "/kpis/reports/2026-06/"
    assert ReportEmail.objects.get(user=people["english"]).notification == notification


def test_the_email_in_spanish(june, people):
    report = reports.build(JUNE)
    reports.send(report)
    send_emails()
    (message,) = emails_to(people["spanish"])
    notification = Notification.objects.get(user=people["spanish"])
    assert notification.language == "es"
    # The month in Spanish (Django's own catalog); the measures by their Spanish names.
    assert "junio de 2026" in message.subject
    assert "June" not in message.subject
    body = message.body
    assert "Quejas resueltas: 10" in body
    assert "Resueltas a tiempo: 70,0 %" in body
    assert "Solicitudes aprobadas: 50,0 %" in body
    assert "Complaints resolved" not in body
    assert "Resolved on time" not in body
    link = f"{SITE}/es/kpis/reports/2026-06/"
    assert link in body
    assert f'href="{link}"' in message.alternatives[0][0]
    assert notification.link == "/es/kpis/reports/2026-06/"


@pytest.mark.parametrize(("who", "title"), [("english", "June 2026"), ("spanish", "junio de 2026")])
def test_the_link_opens_the_report(june, people, who, title):
    report = reports.build(JUNE)
    reports.send(report)
    send_emails()
    (message,) = emails_to(people[who])
    link = next(word for word in message.body.split() if word.startswith(SITE))
    response = verified_client(people[who]).get(link.removeprefix(SITE))
    assert response.status_code == 200
    html = response.content.decode()
    assert title in html
    assert response.context["stored"] == report
    assert all_cards(response)["requests_closed"]["value"] == 10
    if who == "english":
        assert '<h1 class="margin-top-0">Performance report for June 2026</h1>' in html


def test_each_manager_gets_one_email_however_often_it_is_sent(june, people):
    report = reports.build(JUNE)
    assert reports.send(report) == 2
    assert reports.send(report) == 0
    send_emails()
    assert reports.send(reports.build(JUNE)) == 0
    assert send_emails() == []
    for who in ("english", "spanish"):
        assert len(emails_to(people[who])) == 1
        assert Notification.objects.filter(user=people[who]).count() == 1
    assert ReportEmail.objects.count() == 2


def test_beat_on_the_first_second_and_third_makes_one_report_and_one_email_each(june, people):
    assert reports.make_and_send(date(2026, 7, 1)) == {"month": "2026-06-01", "emailed": 2}
    # Someone asks on the 1st after the run: the 2nd's run catches them up, and only them.
    late = opted_in_manager("late.manager@riverbend.example")
    assert reports.make_and_send(date(2026, 7, 2)) == {"month": "2026-06-01", "emailed": 1}
    assert reports.make_and_send(date(2026, 7, 3)) == {"month": "2026-06-01", "emailed": 0}
    send_emails()
    assert MonthlyReport.objects.count() == 1
    for user in (people["english"], people["spanish"], late):
        assert len(emails_to(user)) == 1
        assert ReportEmail.objects.filter(user=user).count() == 1
    assert len(mail.outbox) == 3


def _queued_delivery_ids(callbacks) -> set[int]:
    """The deliveries that on_commit callbacks would queue (each is a send task's .delay)."""
    ids = set()
    for callback in callbacks:
        signature = getattr(callback, "__self__", None)
        if signature is not None and signature.task == delivery.SEND_TASK:
            ids.update(signature.args[0])
    return ids


@pytest.mark.parametrize("when", ["before writing", "after writing"])
def test_a_crash_mid_send_leaves_nothing_half_done(
    june, people, monkeypatch, django_capture_on_commit_callbacks, when
):
    """The worker dies while emailing the 2nd manager: the 1st has theirs, the 2nd has nothing
    (no notification, no delivery, no email queued), and the next run sends the rest."""
    english, spanish = people["english"], people["spanish"]
    third = opted_in_manager("carla.manager@riverbend.example")
    report = reports.build(JUNE)
    real_notify = reports.notify
    calls = []

    def crashing(**kwargs):
        calls.append(kwargs["user"])
        if len(calls) == 2:
            if when == "after writing":
                real_notify(**kwargs)  # the notification and its delivery are written...
            raise ConnectionError("worker lost")  # ...then the worker goes
        return real_notify(**kwargs)

    monkeypatch.setattr(reports, "notify", crashing)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ConnectionError):
        reports.send(report)
    assert calls == [english, spanish]
    email = ReportEmail.objects.get()
    assert email.user == english and email.notification.user == english
    assert not Notification.objects.filter(user__in=[spanish, third]).exists()
    assert not Delivery.objects.filter(notification__user__in=[spanish, third]).exists()
    first_email = Delivery.objects.get(notification__user=english, channel=Channel.EMAIL)
    assert _queued_delivery_ids(callbacks) == {first_email.pk}

    monkeypatch.setattr(reports, "notify", real_notify)
    assert reports.send(report) == 2
    send_emails()
    for user in (english, spanish, third):
        assert len(emails_to(user)) == 1
        assert ReportEmail.objects.filter(user=user).count() == 1
        assert Notification.objects.filter(user=user).count() == 1


def test_previous_month_in_the_email_is_the_calendar_month_before(world, people):
    pothole = ServiceCategory.objects.get(code="pothole")
    ServiceRequest.objects.create(
        category=pothole,
        description="Closed on the first of May",
        created_at=at((4, 28)),
        closed_at=at((5, 1)),
        resolve_due=date(2026, 5, 10),
        status=RequestStatus.CLOSED,
    )
    roll_up_june()
    # "Previous month" is May, all of it (not the 30 days before June, May 2 to 31): O6 closed
    # on May 10 and the one above on May 1.
    period = reports.month_period(JUNE).previous
    assert (period.start, period.end) == (date(2026, 5, 1), date(2026, 5, 31))
    report = reports.build(JUNE)
    assert report.numbers["metrics"]["requests_closed"]["previous"] == 2
    lines = reports.headline_lines(report, "en")
    assert lines[0].startswith("Complaints resolved: 10 (previous month 2, +8)")


# --- The task, in a real worker, and beat ------------------------------------------------------------


def test_beat_makes_the_report_on_the_first_three_days_of_the_month():
    from kpis.tasks import monthly_report

    entry = settings.CELERY_BEAT_SCHEDULE["kpis-monthly-report"]
    assert entry["task"] == monthly_report.name == "kpis.tasks.monthly_report"
    schedule = entry["schedule"]
    assert schedule.day_of_month == {1, 2, 3}
    assert (schedule.hour, schedule.minute) == ({7}, {0})
    assert schedule.month_of_year == set(range(1, 13))
    assert monthly_report.acks_late and monthly_report.reject_on_worker_lost


def _mailed_delivery_ids(mail_dir) -> Counter:
    """Delivery ids of the emails the worker handed to the (file) mail backend."""
    sent = Counter()
    for path in mail_dir.iterdir():
        text = path.read_text(encoding="utf-8", errors="replace")
        sent.update(int(i) for i in re.findall(r"^X-CityHall-Delivery: (\d+)$", text, re.M))
    return sent


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_live_worker_makes_last_months_report_once_and_emails_each_manager_once(
    tmp_path, monkeypatch
):
    """The beat task, run twice by a real worker through real Redis (as on the 1st and the
    2nd): one report of last month, one email each, sent by the delivery tasks."""
    from kpis.tasks import monthly_report

    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    monkeypatch.setenv("MAIL_FILE_PATH", str(mail_dir))
    english = opted_in_manager("ann.manager@riverbend.example")
    spanish = opted_in_manager("beto.gerente@riverbend.example", language="es")
    make_staff(Role.MANAGER, "quiet.manager@riverbend.example")  # did not ask
    last_month = reports.previous_month(timezone.localdate())

    def emails_sent() -> int:
        return Delivery.objects.filter(
            notification__template=reports.TEMPLATE,
            channel=Channel.EMAIL,
            status=DeliveryStatus.SENT,
        ).count()

    with celery_worker() as worker:
        monthly_report.delay()
        assert wait_for(lambda: tasks_done(worker, monthly_report.name) == 1, timeout=60)
        monthly_report.delay()
        assert wait_for(lambda: tasks_done(worker, monthly_report.name) == 2, timeout=60)
        assert wait_for(lambda: emails_sent() == 2, timeout=60), emails_sent()

    (report,) = MonthlyReport.objects.all()
    assert report.month == last_month
    assert sorted(ReportEmail.objects.values_list("user", flat=True)) == [english.pk, spanish.pk]
    for user in (english, spanish):
        assert Notification.objects.filter(user=user, template=reports.TEMPLATE).count() == 1
    spanish_notice = Notification.objects.get(user=spanish)
    assert spanish_notice.language == "es"
    assert spanish_notice.link == f"/es/kpis/reports/{last_month:%Y-%m}/"
    emails = Delivery.objects.filter(notification__template=reports.TEMPLATE, channel="email")
    assert sorted(emails.values_list("address", flat=True)) == sorted(
        [english.email, spanish.email]
    )
    assert _mailed_delivery_ids(mail_dir) == Counter(
        dict.fromkeys(emails.values_list("pk", flat=True), 1)
    )


# --- The pages -----------------------------------------------------------------------------------


def test_the_reports_page_lists_the_reports(june, manager_client):
    empty = manager_client.get("/kpis/reports/")
    assert empty.status_code == 200
    assert "No report yet" in empty.content.decode()
    reports.build(JUNE)
    html = manager_client.get("/kpis/reports/").content.decode()
    assert '<a class="usa-link" href="/kpis/reports/2026-06/">Report for June 2026</a>' in html
    assert "No report yet" not in html


def test_asking_for_the_email_and_stopping_it(manager, manager_client):
    html = manager_client.get("/kpis/reports/").content.decode()
    assert "You do not get the report by email." in html
    assert 'name="email" value="yes"' in html

    response = manager_client.post("/kpis/reports/email/", {"email": "yes"})
    assert response.status_code == 302 and response["Location"] == "/kpis/reports/"
    assert ReportOptIn.objects.filter(user=manager).count() == 1
    followed = manager_client.get("/kpis/reports/").content.decode()
    assert f"You get each report by email, at {manager.email}." in followed
    assert "Stop emailing me the report" in followed
    assert f"We will email you the report on the first of each month, to {manager.email}." in (
        followed
    )
    assert list(reports.recipients()) == [manager]

    manager_client.post("/kpis/reports/email/", {"email": "yes"})  # twice: still one
    assert ReportOptIn.objects.filter(user=manager).count() == 1

    manager_client.post("/kpis/reports/email/", {"email": "no"})
    assert not ReportOptIn.objects.filter(user=manager).exists()
    assert list(reports.recipients()) == []
    followed = manager_client.get("/kpis/reports/").content.decode()
    assert "We will no longer email you the monthly report." in followed
    assert "You do not get the report by email." in followed


def test_the_opt_in_only_answers_post(manager_client):
    assert manager_client.get("/kpis/reports/email/?email=yes").status_code == 405
    assert not ReportOptIn.objects.exists()


def test_a_resident_or_anonymous_visitor_cannot_ask_for_it(client, alice):
    for who in (client, signed_in_client(alice)):
        response = who.post("/kpis/reports/email/", {"email": "yes"})
        assert response.status_code == 302
        assert response["Location"].startswith("/console/login/?next=")
        assert who.get("/kpis/reports/")["Location"].startswith("/console/login/")
    assert not ReportOptIn.objects.exists()


def test_staff_without_the_dashboard_cannot_ask_for_it_or_read_reports(june, staff_user):
    reports.build(JUNE)
    inspector = verified_client(staff_user(Role.CODE_INSPECTOR))
    assert inspector.post("/kpis/reports/email/", {"email": "yes"}).status_code == 403
    assert not ReportOptIn.objects.exists()
    for url in ("/kpis/reports/", "/kpis/reports/2026-06/", "/kpis/print/"):
        assert inspector.get(url).status_code == 403, url


def test_the_report_shows_every_measure_and_its_chart(june, manager_client):
    reports.build(JUNE)
    response = manager_client.get("/kpis/reports/2026-06/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Performance report for June 2026" in html
    assert "June 1, 2026 to June 30, 2026" in html
    assert "Changes are against May 1, 2026 to May 31, 2026." in html
    assert html.count('<svg class="cityhall-chart__svg"') == len(METRICS)
    for metric in METRICS:
        assert f'<h3 class="cityhall-scorecard__name">{metric.name_en}</h3>' in html, metric.key
        assert f'<title id="chart-{metric.key}-title">{metric.name_en}</title>' in html
        assert f'id="chart-{metric.key}-desc"' in html
    cards = all_cards(response)
    for key, value in CITY.items():
        assert cards[key]["value"] == approx(value), key


@pytest.mark.parametrize("month", ["2026-07", "2026-05", "2026-13", "june", "2026-06-01"])
def test_a_report_not_made_is_404(june, manager_client, month):
    reports.build(JUNE)
    assert manager_client.get(f"/kpis/reports/{month}/").status_code == 404


def test_the_printable_dashboard_shows_the_dashboards_numbers(june, manager_client):
    query = "start=2026-06-01&end=2026-06-30"
    printed = manager_client.get(f"/kpis/print/?{query}")
    assert printed.status_code == 200
    shown = manager_client.get(f"/kpis/?{query}")
    printed_cards, dashboard_cards = all_cards(printed), all_cards(shown)
    assert sorted(printed_cards) == sorted(dashboard_cards) == sorted(CITY)
    for key, value in CITY.items():
        assert printed_cards[key]["value"] == approx(value), key
        assert printed_cards[key]["shown"] == dashboard_cards[key]["shown"], key
        assert printed_cards[key]["previous"] == dashboard_cards[key]["previous"], key
    html = printed.content.decode()
    assert html.count('<svg class="cityhall-chart__svg"') == len(METRICS)
    assert "City performance: scorecards and charts" in html
    # Back to the same view of the dashboard.
    assert f'href="/kpis/?{query.replace("&", "&amp;")}"' in html


def test_a_bad_period_on_the_printable_dashboard_goes_back_to_the_dashboard(manager_client):
    response = manager_client.get("/kpis/print/?start=2026-06-30&end=2026-06-01")
    assert response.status_code == 302 and response["Location"] == "/kpis/"


# --- Query counts --------------------------------------------------------------------------------

# Pinned; neither grows with the data. The report: the user, the second factor, the
# permissions (2) and the stored report. The printable dashboard: the same four, the targets
# and the city's roll-ups (this period and the one before; the same period last year).
# (Sessions live in the cache.)
REPORT_QUERIES = 5
PRINT_QUERIES = 7


def more_june_requests(count: int) -> None:
    """`count` more requests reported and closed in June (bulk: the count must not matter)."""
    category = ServiceCategory.objects.get(code="pothole")
    north = make_neighborhood("north")
    rows = []
    for n in range(count):
        created = at(START + timedelta(days=n % 25))
        rows.append(
            ServiceRequest(
                category=category,
                neighborhood=north,
                department=category.department,
                description=f"Busy June {n}",
                created_at=created,
                acknowledged_at=created + timedelta(hours=3),
                closed_at=created + timedelta(days=2),
                resolve_due=(created + timedelta(days=5)).date(),
                status=RequestStatus.CLOSED,
            )
        )
    ServiceRequest.objects.bulk_create(rows)


def test_report_and_print_query_counts_do_not_grow_with_data(
    june, manager_client, django_assert_max_num_queries
):
    reports.build(JUNE)
    urls = ("/kpis/reports/2026-06/", "/kpis/print/?start=2026-06-01&end=2026-06-30")
    for url in urls:
        manager_client.get(url)  # warm up: the session, the content types
    with django_assert_max_num_queries(REPORT_QUERIES):
        small_report = manager_client.get(urls[0])
    with django_assert_max_num_queries(PRINT_QUERIES):
        small_print = manager_client.get(urls[1])
    assert all_cards(small_report)["requests_closed"]["value"] == 10
    assert all_cards(small_print)["requests_closed"]["value"] == 10

    more_june_requests(300)
    roll_up_june()
    MonthlyReport.objects.all().delete()
    reports.build(JUNE)
    with django_assert_max_num_queries(REPORT_QUERIES):
        big_report = manager_client.get(urls[0])
    with django_assert_max_num_queries(PRINT_QUERIES):
        big_print = manager_client.get(urls[1])
    assert all_cards(big_report)["requests_closed"]["value"] == 310
    assert all_cards(big_print)["requests_closed"]["value"] == 310
    # A year of months reads no more.
    with django_assert_max_num_queries(PRINT_QUERIES):
        year = manager_client.get("/kpis/print/?start=2025-07-01&end=2026-06-30")
    assert year.status_code == 200
