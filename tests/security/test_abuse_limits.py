"""Anonymous writes cannot be turned into a bill (SMS pumping), a flood, or a way around a
lockout; emergency alerts are never stuck behind the junk. Each test is named after the attack."""

from __future__ import annotations

import pytest
from django.test import Client
from django.test.client import RequestFactory
from django.utils import timezone

from alerts import delivery
from alerts.constants import Channel, DeliveryStatus, Severity
from alerts.models import Delivery, Notification, Subscription
from alerts.services import alert_publish
from alerts.tests.factories import make_alert, make_topic
from cityhall import ratelimit
from cityhall.phones import sms_budget_used
from cityhall.roles import Role
from tests.personas import make_staff

pytestmark = pytest.mark.django_db


def _subscribe(client, topic, phone, language="en"):
    return client.post(
        f"{'/es' if language == 'es' else ''}/alerts/subscribe/",
        {
            "how": "sms",
            "email": "",
            "phone": phone,
            "language": language,
            "topics": [str(topic.pk)],
            "area": "city",
        },
    )


def test_sms_pumping_to_one_number_stops_after_three_texts():
    topic = make_topic("weather")
    client = Client()
    answers = [_subscribe(client, topic, "+1 415 555 2671").status_code for _n in range(25)]
    assert answers.count(302) == 3 and answers[3:] == [429] * 22
    assert Notification.objects.filter(template="subscription_code").count() == 3


def test_resending_the_code_is_limited_like_subscribing():
    """ "Send me a new code" is no way around the limit: it counts toward the same number."""
    from django.contrib.messages import get_messages

    topic = make_topic("weather")
    client = Client()
    code_page = _subscribe(client, topic, "+1 415 555 2672")["Location"]
    subscription = Subscription.objects.get(phone="+14155552672")
    subscription.sms_code = "000000"  # known, so the new one is surely different
    subscription.save()
    response = client.post(code_page, {"resend": "1"})
    assert response.status_code == 302 and response["Location"] == code_page
    assert "We sent a new code" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    subscription.refresh_from_db()
    assert subscription.sms_code != "000000"
    assert Notification.objects.filter(template="subscription_code").count() == 2
    # The old code no longer works; the page offers another resend.
    page = client.post(code_page, {"code": "000000"}).content.decode()
    assert "not right" in page and "Send me a new code" in page
    answers = [client.post(code_page, {"resend": "1"}).status_code for _n in range(2)]
    assert answers == [302, 429]  # three texts an hour to one number, the sign-up included
    assert Notification.objects.filter(template="subscription_code").count() == 3
    subscription.refresh_from_db()
    client.post(code_page, {"code": subscription.sms_code})
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None


def test_sms_pumping_to_many_numbers_from_one_address_stops_too():
    topic = make_topic("weather")
    client = Client()
    answers = [
        _subscribe(client, topic, f"+1 415 555 {2600 + n:04d}").status_code for n in range(15)
    ]
    assert answers.count(302) == 10
    assert Subscription.objects.count() == 10


def test_a_limited_visitor_keeps_the_form_and_is_told_when_in_their_language():
    topic = make_topic("weather")
    client = Client()
    for _n in range(3):
        _subscribe(client, topic, "+1 415 555 2671", language="es")
    response = _subscribe(client, topic, "+1 415 555 2671", language="es")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "Demasiadas suscripciones" in page and "Inténtelo de nuevo en" in page
    assert 'value="+1 415 555 2671"' in page  # nothing typed is lost


def test_texts_to_premium_foreign_numbers_are_refused():
    topic = make_topic("weather")
    response = _subscribe(Client(), topic, "+44 7911 123456")
    assert response.status_code == 200
    assert "We can only send text messages to numbers in: US." in response.content.decode()
    assert not Subscription.objects.exists()


def test_a_foreign_number_already_stored_is_never_texted(settings):
    settings.SMS_ALLOWED_COUNTRIES = ["US"]
    notification = Notification.objects.create(template="subscription_code", sms_text="123456")
    row = Delivery.objects.create(
        notification=notification, channel=Channel.SMS, address="+447911123456"
    )
    delivery.delivery_send(delivery_id=row.pk)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and "country" in row.last_error


def test_the_daily_budget_holds_junk_back_but_never_an_emergency(settings):
    settings.SMS_DAILY_BUDGET = 2
    rows = []
    for n in range(3):
        notification = Notification.objects.create(template="subscription_code", sms_text="1")
        rows.append(
            Delivery.objects.create(
                notification=notification, channel=Channel.SMS, address=f"+1415555{2600 + n}"
            )
        )
    for row in rows:
        delivery.delivery_send(delivery_id=row.pk)
    statuses = [Delivery.objects.get(pk=row.pk) for row in rows]
    assert [d.status for d in statuses] == ["sent", "sent", "pending"]
    # Tomorrow in the city's time zone (the budget is per local day), whatever the UTC hour.
    local = timezone.localtime
    assert "budget" in statuses[2].last_error
    assert local(statuses[2].next_attempt_at).date() > local(statuses[2].created_at).date()
    emergency = make_alert(severity=Severity.EXTREME)
    urgent_note = Notification.objects.create(template="alert", alert=emergency, sms_text="Go")
    urgent = Delivery.objects.create(
        notification=urgent_note, channel=Channel.SMS, address="+14155552699"
    )
    delivery.delivery_send(delivery_id=urgent.pk)
    assert Delivery.objects.get(pk=urgent.pk).status == "sent"
    assert sms_budget_used() == 3


def test_the_console_warns_when_the_budget_is_nearly_spent(settings):
    from django.core.cache import cache

    from cityhall.phones import sms_budget_key
    from tests.personas import verified_client

    settings.SMS_DAILY_BUDGET = 10
    cache.set(sms_budget_key(), 9, timeout=60)
    page = verified_client(make_staff(Role.COMMUNICATIONS_OFFICER)).get("/console/").content
    assert b"Text messages today: 9 of the daily budget of 10" in page


def test_emergency_alerts_travel_on_their_own_queue(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        delivery,
        "_enqueue",
        lambda name, *args, on_commit=True, urgent=False, **_kw: sent.append(urgent),
    )
    topic = make_topic("weather")
    Subscription.objects.create(
        email="a@example.com",
        by_email=True,
        language="en",
        citywide=True,
        confirmed_at="2026-01-01T00:00Z",
    ).topics.set([topic])
    officer = make_staff(Role.COMMUNICATIONS_OFFICER)
    for severity, expected in ((Severity.EXTREME, True), (Severity.MINOR, False)):
        sent.clear()
        alert = alert_publish(alert=make_alert(topic=topic, severity=severity), actor=officer)
        delivery.alert_fan_out(alert_id=alert.pk)
        assert sent and set(sent) == {expected}, severity


def test_a_forged_forwarded_for_header_does_not_change_the_client_address(settings):
    factory = RequestFactory()
    request = factory.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2")
    settings.TRUSTED_PROXY_COUNT = 0
    assert ratelimit.client_ip(request) == "10.0.0.2"  # no proxy: the header is the client's
    settings.TRUSTED_PROXY_COUNT = 1
    assert ratelimit.client_ip(request) == "203.0.113.9"  # what our proxy saw, not the forgery
    assert settings.AXES_CLIENT_IP_CALLABLE == "cityhall.ratelimit.client_ip"


def test_a_report_flood_meets_a_429_page_in_the_visitors_language(settings):
    from code_enforcement.tests.factories import ensure_city, jpeg_upload, make_category

    ensure_city()
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "photo": {"ip": "1/h"}}
    category = make_category()
    client = Client()
    session = client.session
    session["report"] = {
        "token": "t" * 32,
        "category": category.pk,
        "latitude": 36.405,
        "longitude": -121.3,
        "description": "Hole",
    }
    session.save()
    first = client.post("/es/report/photos/", {"photo": jpeg_upload()})
    assert first.status_code in (200, 302)
    second = client.post("/es/report/photos/", {"photo": jpeg_upload()})
    assert second.status_code == 429
    page = second.content.decode()
    assert "Demasiados intentos" in page and "Inténtelo de nuevo en" in page


def test_an_open311_flood_from_one_address_gets_the_apis_429(settings):
    from code_enforcement.models import ApiKey
    from code_enforcement.tests.factories import ensure_city, make_category

    ensure_city()
    make_category("pothole")
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "open311_post": {"ip": "2/h"}}
    _key, raw = ApiKey.issue(name="App", contact_email="a@app.example", requests_per_minute=100)
    client = Client()
    fields = f"api_key={raw}&service_code=pothole&lat=36.405&long=-121.300&description=Hole"
    answers = [
        client.post(
            "/open311/v2/requests.json", fields, content_type="application/x-www-form-urlencoded"
        )
        for _n in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json()[0]["code"] == 429 and "Retry-After" in answers[2]
