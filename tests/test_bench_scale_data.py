"""`manage.py bench_scale_data`: the city-size benchmark dataset, built here at scale 0.001.

One build serves the module (the demo's reference data, then the dataset), inside a transaction
rolled back at the end; each test runs in a savepoint of it, so a test that rebuilds leaves the
next one the original build.
"""

from __future__ import annotations

import math
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, Subscription, Topic
from cityhall.benchscale import Plan
from cityhall.benchscale.dataset import DOMAIN, PASSWORD, recorded_ranges
from cityhall.models import User
from cityhall.phones import normalize_phone
from code_enforcement.models import (
    CodeCase,
    HistoricalServiceRequest,
    RequestEvent,
    ServiceRequest,
)
from kpis.metrics import METRICS
from kpis.models import DailyRollup
from permits.constants import Status
from permits.models import Application, Document, HistoricalApplication, Payment

SCALE = 0.001
PLAN = Plan.at(SCALE)


def generated(model, field: str = "pk"):
    """The rows of `model` the build made (by the id range it recorded)."""
    lo, hi, _count = recorded_ranges()[model._meta.db_table]
    return model.objects.filter(**{f"{field}__range": (lo, hi)})


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "requests": ServiceRequest.objects.count(),
        "events": RequestEvent.objects.count(),
        "applications": Application.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "cases": CodeCase.objects.count(),
        "rollups": DailyRollup.objects.count(),
    }


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo, then the dataset at SCALE, rolled back when the module is done."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")),
        transaction.atomic(),
    ):
        call_command("load_demo", stdout=StringIO())
        demo = {
            "requests": ServiceRequest.objects.count(),
            "applications": Application.objects.count(),
            "history": HistoricalServiceRequest.objects.count()
            + HistoricalApplication.objects.count(),
        }
        out = StringIO()
        call_command("bench_scale_data", "--scale", str(SCALE), stdout=out)
        yield {"demo": demo, "output": out.getvalue()}
        transaction.set_rollback(True)


@pytest.fixture
def data(built, db):
    return built


def test_counts_match_the_scale(data):
    assert "built at scale 0.001" in data["output"]
    residents = User.objects.filter(email__endswith=f"@{DOMAIN}", is_staff=False)
    assert residents.count() == PLAN.residents
    assert generated(ServiceRequest).count() == PLAN.requests
    assert RequestEvent.objects.filter(request__in=generated(ServiceRequest)).count() == (
        2 * PLAN.requests
    )
    assert generated(Application).count() == PLAN.permits
    assert generated(Subscription).count() == PLAN.subscriptions
    assert generated(CodeCase).count() == PLAN.cases
    assert ServiceRequest.objects.count() == data["demo"]["requests"] + PLAN.requests
    submitted = generated(Application).exclude(status=Status.DRAFT)
    assert Document.objects.filter(application__in=submitted).count() == 2 * submitted.count()
    paid = generated(Application).filter(
        status__in=[Status.ISSUED, Status.FINALED, Status.EXPIRED], fee_total__gt=0
    )
    assert Payment.objects.filter(application__in=paid).count() == paid.count()
    # Leave the audit history alone: nothing was recorded for the generated rows.
    history = HistoricalServiceRequest.objects.count() + HistoricalApplication.objects.count()
    assert history == data["demo"]["history"]


def test_residents_can_sign_in_and_requests_look_like_the_apps(data):
    resident = User.objects.get(email=f"resident1@{DOMAIN}")
    assert resident.check_password(PASSWORD)
    assert resident.emailaddress_set.filter(verified=True, primary=True).exists()
    spanish = User.objects.filter(email__endswith=f"@{DOMAIN}", preferred_language="es").count()
    assert 0.4 < spanish / PLAN.residents < 0.9
    requests = generated(ServiceRequest)
    assert all(
        len(p) == 10 and p == p.upper() for p in requests.values_list("public_id", flat=True)
    )
    open_share = requests.exclude(status="closed").count() / PLAN.requests
    assert 0 < open_share < 0.1
    assert not requests.filter(status="closed", closed_at__isnull=True).exists()
    assert not requests.filter(status="closed", resolution="").exists()
    numbers = generated(Application).exclude(number=None).values_list("number", flat=True)
    assert all(n.count("-") == 2 and len(n.rsplit("-", 1)[1]) >= 6 for n in numbers)


def test_a_citywide_alert_reaches_every_subscription(data):
    subscriptions = generated(Subscription)
    for topic in Topic.objects.all():
        alert = Alert(topic=topic, citywide=True)
        reached = Subscription.objects.for_alert(alert).filter(pk__in=subscriptions)
        assert reached.count() == PLAN.subscriptions
    emails = [s.email_address for s in subscriptions.select_related("user")]
    assert all(emails) and len(set(emails)) == len(emails)
    phones = [s.phone_number for s in subscriptions.filter(by_sms=True).select_related("user")]
    assert phones and len(set(phones)) == len(phones)
    assert all(normalize_phone(phone) == phone for phone in phones)


def test_a_permit_page_is_its_owners_only(data):
    application = generated(Application).exclude(number=None).order_by("pk").first()
    other = User.objects.filter(email__endswith=f"@{DOMAIN}").exclude(pk=application.applicant_id)[
        0
    ]
    owner = Client()
    owner.force_login(application.applicant)
    outsider = Client()
    outsider.force_login(other)
    url = reverse("permits:detail", args=[application.number])
    response = owner.get(url)
    assert response.status_code == 200
    assert application.number in response.content.decode()
    assert outsider.get(url).status_code == 404


def test_a_tracking_page_shows_its_reporter_the_details(data):
    # Tracking pages are public by reference; a private category's details are the reporter's.
    request = (
        generated(ServiceRequest)
        .filter(category__sensitive=True, reporter__isnull=False)
        .exclude(status="closed")
        .order_by("pk")
        .first()
        or generated(ServiceRequest)
        .filter(category__sensitive=True, reporter__isnull=False)
        .order_by("pk")
        .first()
    )
    other = User.objects.filter(email__endswith=f"@{DOMAIN}").exclude(pk=request.reporter_id)[0]
    owner = Client()
    owner.force_login(request.reporter)
    outsider = Client()
    outsider.force_login(other)
    url = reverse("code_enforcement:track", args=[request.public_id])
    mine = owner.get(url)
    assert mine.status_code == 200
    assert request.description in mine.content.decode()
    theirs = outsider.get(url)
    assert theirs.status_code == 200
    assert request.description not in theirs.content.decode()
    # Only the reporter may add to it.
    assert outsider.post(url, {"action": "info", "info-text": "Me too"}).status_code == 404


def test_the_rollups_are_what_the_app_computes(data):
    today = timezone.localdate()
    windows = [
        (today - timedelta(days=6), today),
        (today - timedelta(days=400), today - timedelta(days=398)),
    ]
    assert (
        DailyRollup.objects.filter(day__gte=today - timedelta(days=730))
        .values("day")
        .distinct()
        .count()
        == 731
    )
    for start, end in windows:
        for metric in METRICS:
            app = {(r.day, r.dimension, r.value): r for r in metric.rows(start, end)}
            stored = {
                (r.day, r.dimension, r.value): r
                for r in DailyRollup.objects.filter(metric=metric.key, day__range=(start, end))
            }
            assert app.keys() == stored.keys(), metric.key
            for key, row in app.items():
                assert math.isclose(row.numerator, stored[key].numerator, abs_tol=1e-6), (
                    metric.key,
                    key,
                )
                assert math.isclose(row.denominator, stored[key].denominator, abs_tol=1e-6), (
                    metric.key,
                    key,
                )
                assert [float(s) for s in row.samples] == stored[key].samples, (metric.key, key)


def test_running_again_adds_nothing(data):
    before = counts()
    out = StringIO()
    call_command("bench_scale_data", "--scale", str(SCALE), stdout=out)
    assert "already built" in out.getvalue()
    call_command("bench_scale_data", "--scale", str(SCALE / 2), stdout=StringIO())
    assert counts() == before


def test_a_larger_scale_or_force_rebuilds_without_touching_the_demo(data):
    before = counts()
    call_command("bench_scale_data", "--scale", str(SCALE), "--force", stdout=StringIO())
    after = counts()
    # The same rows again; the roll-ups follow whichever requests became cases this time.
    assert after.pop("rollups") > 0
    before.pop("rollups")
    assert after == before
    call_command("bench_scale_data", "--scale", str(SCALE * 2), stdout=StringIO())
    assert generated(ServiceRequest).count() == Plan.at(SCALE * 2).requests
    assert ServiceRequest.objects.count() == data["demo"]["requests"] + Plan.at(SCALE * 2).requests
    assert (
        Application.objects.exclude(applicant__email__endswith=f"@{DOMAIN}").count()
        == (data["demo"]["applications"])
    )
