"""The delivery engine in one process: fan-out, claiming, retries, the sweeper."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from alerts import delivery, services
from alerts.constants import Channel, DeliveryStatus
from alerts.models import Delivery, Notification
from cityhall.models import Neighborhood
from cityhall.places import DEMO_NEIGHBORHOODS, neighborhoods_load

from .factories import make_alert, make_subscription, make_topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(admin_user):
    def publish(alert):
        return services.alert_publish(alert=alert, actor=admin_user)

    return publish


def send_all_pending():
    for delivery_id in Delivery.objects.filter(status=DeliveryStatus.PENDING).values_list(
        "pk", flat=True
    ):
        delivery.delivery_send(delivery_id=delivery_id)


def test_one_message_and_one_delivery_per_subscriber_and_channel(published, alice):
    topic = make_topic("weather")
    make_subscription([topic], email="ann@example.com")
    make_subscription([topic], email="beto@example.com", language="es")
    make_subscription([topic], phone="+14082104412", language="es")
    services.subscription_save_for_user(
        user=alice,
        topics=[topic],
        citywide=True,
        neighborhoods=[],
        by_email=True,
        by_sms=False,
        language="en",
    )
    alert = published(make_alert(topic=topic))

    assert delivery.alert_fan_out(alert_id=alert.pk) == 4
    alert.fan_out_completed_at = None  # as if the worker died before marking it done
    alert.save()
    assert delivery.alert_fan_out(alert_id=alert.pk) == 0  # running again adds nothing

    assert Notification.objects.filter(alert=alert).count() == 4
    by_channel = {c: Delivery.objects.filter(channel=c).count() for c in Channel}
    assert by_channel == {Channel.EMAIL: 3, Channel.SMS: 1, Channel.PORTAL: 1}
    spanish = Notification.objects.get(alert=alert, subscription__email="beto@example.com")
    assert spanish.language == "es" and alert.title_es in spanish.subject
    assert alice.notifications.filter(alert=alert).exists()  # in her My City Hall inbox


def test_area_decides_who_hears_about_a_neighborhood_alert(published):
    neighborhoods_load(path=DEMO_NEIGHBORHOODS)
    downtown, eastgate = (
        Neighborhood.objects.get(slug="downtown"),
        Neighborhood.objects.get(slug="eastgate"),
    )
    topic = make_topic("utilities")
    everywhere = make_subscription([topic], email="all@example.com")
    here = make_subscription([topic], email="eastgate@example.com", citywide=False)
    here.neighborhoods.set([eastgate])
    there = make_subscription([topic], email="downtown@example.com", citywide=False)
    there.neighborhoods.set([downtown])
    other_topic = make_subscription([make_topic("events")], email="events@example.com")
    alert = make_alert(topic=topic, citywide=False)
    alert.neighborhoods.set([eastgate])
    published(alert)
    delivery.alert_fan_out(alert_id=alert.pk)
    reached = set(Delivery.objects.values_list("address", flat=True))
    assert reached == {everywhere.email, here.email}
    assert there.email not in reached and other_topic.email not in reached


def test_a_delivery_is_sent_once_however_often_it_is_queued(published):
    topic = make_topic("weather")
    make_subscription([topic], email="ann@example.com")
    alert = published(make_alert(topic=topic))
    delivery.alert_fan_out(alert_id=alert.pk)
    row = Delivery.objects.get()
    assert delivery.delivery_send(delivery_id=row.pk) == DeliveryStatus.SENT
    assert delivery.delivery_send(delivery_id=row.pk) is None
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.provider_message_id.startswith("<")
    assert mail.outbox[0].extra_headers["X-CityHall-Delivery"] == str(row.pk)


def test_an_unreachable_mail_server_is_retried_then_fails_with_the_reason(published, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},
        }
    }
    settings.DELIVERY_MAX_ATTEMPTS = 2
    settings.DELIVERY_RETRY_BASE_SECONDS = 0
    topic = make_topic("weather")
    make_subscription([topic], email="ann@example.com", phone="+14082104412", by_sms=True)
    alert = published(make_alert(topic=topic))
    delivery.alert_fan_out(alert_id=alert.pk)

    email = Delivery.objects.get(channel=Channel.EMAIL)
    assert delivery.delivery_send(delivery_id=email.pk) == DeliveryStatus.PENDING
    email.refresh_from_db()
    assert email.attempts == 1 and "ConnectionRefused" in email.last_error
    assert delivery.delivery_send(delivery_id=email.pk) == DeliveryStatus.FAILED
    email.refresh_from_db()
    assert email.status == DeliveryStatus.FAILED and email.last_error

    sms = Delivery.objects.get(channel=Channel.SMS)  # the other channel is unaffected
    assert delivery.delivery_send(delivery_id=sms.pk) == DeliveryStatus.SENT

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert delivery.deliveries_retry_failed(alert=alert) == 1
    send_all_pending()
    email.refresh_from_db()
    assert email.status == DeliveryStatus.SENT


def test_backoff_grows_with_jitter(settings):
    settings.DELIVERY_RETRY_BASE_SECONDS = 30
    first = [delivery.retry_delay(1).total_seconds() for _ in range(50)]
    third = [delivery.retry_delay(3).total_seconds() for _ in range(50)]
    assert all(15 <= s <= 30 for s in first) and len(set(first)) > 1
    assert all(60 <= s <= 120 for s in third)


def test_sweeper_requeues_lost_and_reclaims_dead_claims(published, settings, monkeypatch):
    queued = []
    monkeypatch.setattr(
        delivery,
        "enqueue_sends",
        lambda rows, on_commit=True, **_kw: queued.extend(pk for pk, _channel in rows),
    )
    topic = make_topic("weather")
    make_subscription([topic], email="ann@example.com")
    make_subscription([topic], email="bea@example.com")
    alert = published(make_alert(topic=topic))
    delivery.alert_fan_out(alert_id=alert.pk)
    queued.clear()  # the fan-out queued both; now they are "lost"
    lost, dead = Delivery.objects.order_by("pk")
    long_ago = timezone.now() - timedelta(hours=1)
    Delivery.objects.filter(pk=lost.pk).update(updated_at=long_ago)
    Delivery.objects.filter(pk=dead.pk).update(
        status=DeliveryStatus.SENDING, claimed_at=long_ago, updated_at=long_ago
    )

    result = delivery.deliveries_sweep()
    assert result["reclaimed"] == 1
    assert sorted(queued) == sorted([lost.pk, dead.pk])


def test_progress_counts_by_channel_and_state(published):
    topic = make_topic("weather")
    make_subscription([topic], email="ann@example.com")
    make_subscription([topic], phone="+14082104412")
    alert = published(make_alert(topic=topic))
    delivery.alert_fan_out(alert_id=alert.pk)
    send_all_pending()
    assert delivery.delivery_progress(alert=alert) == {"email": {"sent": 1}, "sms": {"sent": 1}}
