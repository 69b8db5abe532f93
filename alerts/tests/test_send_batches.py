"""Sending in batches: one SMTP connection per batch, a failure touches only its own message,
the provider's rate is kept by the app (in Redis), and work is queued in batches."""

import smtplib
import uuid

import pytest
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from alerts import delivery, services
from alerts.constants import Channel, DeliveryStatus
from alerts.models import Delivery
from cityhall import ratelimit

from .factories import make_alert, make_subscription, make_topic

pytestmark = pytest.mark.django_db


class CountingBackend(LocmemBackend):
    """The test outbox, counting the connections opened and failing for chosen addresses."""

    opened = 0
    refuse: set[str] = set()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_open = False

    def open(self):
        if self.is_open:
            return False
        CountingBackend.opened += 1
        self.is_open = True
        return True

    def close(self):
        self.is_open = False

    def send_messages(self, messages):
        for message in messages:
            if set(message.to) & CountingBackend.refuse:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def counting(settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.CountingBackend"}}
    CountingBackend.opened = 0
    CountingBackend.refuse = set()
    return CountingBackend


@pytest.fixture
def five_emails(admin_user):
    topic = make_topic("weather")
    for n in range(5):
        make_subscription([topic], email=f"person{n}@example.com")
    alert = services.alert_publish(alert=make_alert(topic=topic), actor=admin_user)
    delivery.alert_fan_out(alert_id=alert.pk)
    return list(
        Delivery.objects.filter(channel=Channel.EMAIL).order_by("pk").values_list("pk", flat=True)
    )


def test_a_batch_of_emails_goes_over_one_connection(counting, five_emails, mailoutbox):
    results = delivery.deliveries_send(delivery_ids=five_emails)

    assert set(results.values()) == {DeliveryStatus.SENT}
    assert counting.opened == 1
    assert sorted(m.to[0] for m in mailoutbox) == [f"person{n}@example.com" for n in range(5)]
    # Sent rows are not sent again by a second (replayed) task.
    assert delivery.deliveries_send(delivery_ids=five_emails) == dict.fromkeys(five_emails)
    assert len(mailoutbox) == 5


def test_a_failed_email_is_retried_alone_and_the_rest_of_the_batch_goes(
    counting, five_emails, mailoutbox
):
    counting.refuse = {"person2@example.com"}

    results = delivery.deliveries_send(delivery_ids=five_emails)

    failed = Delivery.objects.get(address="person2@example.com")
    assert results[failed.pk] == DeliveryStatus.PENDING  # retried later, with backoff
    assert failed.attempts == 1 and "Connection unexpectedly closed" in failed.last_error
    assert len(mailoutbox) == 4
    assert counting.opened == 2  # the broken connection was dropped and a new one opened


def test_rows_held_by_another_worker_are_left_alone(counting, five_emails, mailoutbox):
    Delivery.objects.filter(pk=five_emails[0]).update(status=DeliveryStatus.SENDING)
    results = delivery.deliveries_send(delivery_ids=five_emails)
    assert results[five_emails[0]] is None
    assert len(mailoutbox) == 4


def test_sends_are_queued_in_batches_per_channel(settings, monkeypatch):
    settings.SEND_BATCH_SIZE = 2
    queued = []
    monkeypatch.setattr(
        delivery, "_enqueue", lambda task, ids, **kw: queued.append((task, ids, kw["urgent"]))
    )
    rows = [(1, Channel.EMAIL), (2, Channel.SMS), (3, Channel.EMAIL), (4, Channel.EMAIL)]
    delivery.enqueue_sends(rows, on_commit=False, urgent=True)
    assert queued == [
        (delivery.SEND_TASK, [1, 3], True),
        (delivery.SEND_TASK, [4], True),
        (delivery.SEND_TASK, [2], True),
    ]


def test_the_provider_rate_books_start_times_across_workers_in_redis():
    scope = f"test-sms-{uuid.uuid4().hex}"
    # Two texts a second: each booking starts where the last one ends, whoever books it.
    assert ratelimit.reserve(scope, "2/s", 2, now=1000.0) == 0
    assert ratelimit.reserve(scope, "2/s", 2, now=1000.0) == 1.0
    assert ratelimit.reserve(scope, "2/s", 1, now=1000.5) == 1.5
    assert ratelimit.reserve(scope, "2/s", 1, now=1010.0) == 0  # idle since: no backlog
    assert ratelimit.reserve(scope, "", 50) == 0  # no limit configured


def test_rate_limited_texts_wait_in_the_queue_not_in_a_worker(settings, monkeypatch):
    """Texts at 2/s go two to a task, each task booked one second after the last; email has no
    limit here and goes at once, in full batches."""
    settings.ALERTS_SMS_RATE = "2/s"
    settings.ALERTS_EMAIL_RATE = ""
    settings.SEND_BATCH_SIZE = 100
    monkeypatch.setattr(ratelimit.time, "time", lambda: 5000.0)
    fresh = uuid.uuid4().hex  # no booking left by another test
    monkeypatch.setattr(ratelimit.cache, "make_key", lambda key, **kw: f"test:{fresh}:{key}")
    queued = []
    monkeypatch.setattr(
        delivery,
        "_enqueue",
        lambda task, ids, **kw: queued.append((ids, kw.get("countdown", 0))),
    )
    sms = [(n, Channel.SMS) for n in range(1, 6)]
    email = [(n, Channel.EMAIL) for n in range(10, 13)]
    delivery.enqueue_sends(email + sms, on_commit=False)
    assert queued == [([10, 11, 12], 0), ([1, 2], 0.0), ([3, 4], 1.0), ([5], 2.0)]


def test_texts_booked_far_ahead_are_not_taken_for_lost_by_the_sweeper(
    settings, monkeypatch, admin_user
):
    """15,000 texts at 5/s take 50 minutes: the sweeper must leave a text waiting its turn in
    the queue alone (re-queueing it would book it again, later, every 30 seconds)."""
    from datetime import timedelta

    from django.utils import timezone

    settings.ALERTS_SMS_RATE = "1/m"  # a minute apart: the test never races the clock
    fresh = uuid.uuid4().hex
    monkeypatch.setattr(ratelimit.cache, "make_key", lambda key, **kw: f"test:{fresh}:{key}")
    monkeypatch.setattr(delivery, "_enqueue", lambda *args, **kw: None)
    topic = make_topic("weather")
    for n in range(3):
        make_subscription([topic], phone=f"+1408210441{n}")
    alert = services.alert_publish(alert=make_alert(topic=topic), actor=admin_user)
    monkeypatch.setattr(delivery, "BOOKED_AHEAD_SECONDS", 0)
    delivery.alert_fan_out(alert_id=alert.pk)
    texts = Delivery.objects.filter(channel=Channel.SMS).order_by("pk")
    starts = [row.next_attempt_at for row in texts]
    assert starts[1] > starts[0] and starts[2] > starts[1]  # one a minute, in order

    queued = []
    monkeypatch.setattr(
        delivery, "enqueue_sends", lambda rows, **kw: queued.extend(pk for pk, _c in rows)
    )
    Delivery.objects.update(updated_at=timezone.now() - timedelta(hours=1))  # long queued
    delivery.deliveries_sweep(now=timezone.now())
    assert texts.last().pk not in queued  # still waiting its turn: not lost
    delivery.deliveries_sweep(now=timezone.now() + timedelta(minutes=5))
    assert texts.last().pk in queued  # past its time and still pending: lost, sent again
