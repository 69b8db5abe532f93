"""Publishing to 1,000 subscribers through a real Celery worker and real Redis.

The worker is killed with SIGKILL half-way; another one starts; the sweeper finishes the job.
Every subscriber ends with exactly one delivery row per channel, all sent, none missing. A
provider send can only repeat for a row the dead worker had claimed but not yet marked sent
(it cannot know whether the provider took it): the test checks that nothing else repeats.
"""

import json
import os
import re
import signal
from collections import Counter

import pytest
from django.contrib.auth.models import Group

from alerts import services
from alerts.constants import AlertStatus, Channel, DeliveryStatus
from alerts.models import Alert, Delivery, Notification, Subscription
from alerts.tasks import sweep_deliveries
from cityhall.roles import Role
from tests.personas import make_staff
from tests.worker import celery_worker, wait_for

from .factories import make_alert, make_topic

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

EMAIL_SUBSCRIBERS = 700
SMS_SUBSCRIBERS = 300


def _subscribers(topic):
    rows = []
    for n in range(EMAIL_SUBSCRIBERS):
        rows.append(
            Subscription(
                email=f"sub{n}@example.org", by_email=True, language="es" if n % 3 else "en"
            )
        )
    for n in range(SMS_SUBSCRIBERS):
        rows.append(
            Subscription(phone=f"+1408555{n:04d}", by_sms=True, language="es" if n % 2 else "en")
        )
    from django.utils import timezone

    for row in rows:
        row.confirmed_at = timezone.now()
    Subscription.objects.bulk_create(rows)
    through = Subscription.topics.through
    through.objects.bulk_create(
        through(subscription_id=s.pk, topic_id=topic.pk) for s in Subscription.objects.all()
    )


def _provider_sends(mail_dir, sms_file) -> tuple[Counter, Counter]:
    emails = Counter()
    for name in os.listdir(mail_dir):
        with open(os.path.join(mail_dir, name), encoding="utf-8", errors="replace") as handle:
            emails.update(re.findall(r"^X-CityHall-Delivery: (\d+)$", handle.read(), re.MULTILINE))
    texts = Counter()
    if os.path.exists(sms_file):
        with open(sms_file, encoding="utf-8") as handle:
            texts.update(json.loads(line)["to"] for line in handle if line.strip())
    return emails, texts


def test_exactly_one_delivery_each_even_when_the_worker_is_killed(tmp_path, monkeypatch):
    mail_dir, sms_file = tmp_path / "mail", tmp_path / "sms.jsonl"
    mail_dir.mkdir()
    worker_env = {
        "MAIL_FILE_PATH": str(mail_dir),
        "SMS_BACKEND": "alerts.sms.FileSmsBackend",
        "SMS_FILE_PATH": str(sms_file),
        "ALERTS_EMAIL_RATE": "1000/s",
        "ALERTS_SMS_RATE": "1000/s",
        "DELIVERY_SWEEP_AFTER_SECONDS": "2",
        "DELIVERY_RECLAIM_AFTER_SECONDS": "3",
    }
    for name, value in worker_env.items():
        monkeypatch.setenv(name, value)

    topic = make_topic("emergency")
    _subscribers(topic)
    officer = make_staff(Role.COMMUNICATIONS_OFFICER)
    assert officer.groups.filter(pk=Group.objects.get(name="Communications officer").pk).exists()
    alert = make_alert(topic=topic, severity="Extreme")

    with celery_worker(concurrency=2) as first:
        services.alert_publish(alert=alert, actor=officer)  # commits: fan-out is queued
        assert wait_for(
            lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).count() >= 150, timeout=90
        )
        os.killpg(first.pid, signal.SIGKILL)  # the whole worker, children included, mid-run
        first.wait()
    in_flight = set(
        Delivery.objects.filter(status=DeliveryStatus.SENDING).values_list("pk", flat=True)
    )
    sent_before = Delivery.objects.filter(status=DeliveryStatus.SENT).count()
    assert sent_before < EMAIL_SUBSCRIBERS + SMS_SUBSCRIBERS, (
        "the kill came too late to test anything"
    )

    def all_sent():
        sweep_deliveries.delay()
        return (
            Alert.objects.get(pk=alert.pk).fan_out_completed_at is not None
            and Delivery.objects.exclude(status=DeliveryStatus.SENT).count() == 0
            and Delivery.objects.count() == EMAIL_SUBSCRIBERS + SMS_SUBSCRIBERS
        )

    with celery_worker(concurrency=2):
        assert wait_for(all_sent, timeout=180, interval=2), Counter(
            Delivery.objects.values_list("status", flat=True)
        )

    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.PUBLISHED
    assert Notification.objects.filter(alert=alert).count() == EMAIL_SUBSCRIBERS + SMS_SUBSCRIBERS
    per_channel = Counter(Delivery.objects.values_list("channel", flat=True))
    assert per_channel == {Channel.EMAIL: EMAIL_SUBSCRIBERS, Channel.SMS: SMS_SUBSCRIBERS}

    emails, texts = _provider_sends(mail_dir, sms_file)
    email_ids = set(Delivery.objects.filter(channel=Channel.EMAIL).values_list("pk", flat=True))
    assert {int(i) for i in emails} == email_ids, "every email subscriber got the alert"
    assert len(texts) == SMS_SUBSCRIBERS, "every text subscriber got the alert"
    repeated_emails = {int(i) for i, n in emails.items() if n > 1}
    phones_in_flight = set(
        Delivery.objects.filter(pk__in=in_flight).values_list("address", flat=True)
    )
    repeated_texts = {phone for phone, n in texts.items() if n > 1}
    assert repeated_emails <= in_flight, "only a row caught mid-send by the kill may repeat"
    assert repeated_texts <= phones_in_flight
    assert len(repeated_emails) + len(repeated_texts) <= len(in_flight)

    spanish = Notification.objects.filter(alert=alert, language="es").first()
    assert spanish.subject.endswith(alert.title_es)
