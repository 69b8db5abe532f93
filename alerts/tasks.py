"""Celery tasks: thin wrappers that take ids and call the delivery engine or services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from cityhall.queue import enqueue_on_commit

from . import delivery, services
from .constants import Channel

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**IDEMPOTENT)
def fan_out_alert(alert_id: int) -> int:
    return delivery.alert_fan_out(alert_id=alert_id)


@shared_task(**IDEMPOTENT, rate_limit=settings.ALERTS_EMAIL_RATE)
def send_email_delivery(delivery_id: int) -> str | None:
    return delivery.delivery_send(delivery_id=delivery_id)


@shared_task(**IDEMPOTENT, rate_limit=settings.ALERTS_SMS_RATE)
def send_sms_delivery(delivery_id: int) -> str | None:
    return delivery.delivery_send(delivery_id=delivery_id)


SEND_TASKS = {Channel.EMAIL: send_email_delivery, Channel.SMS: send_sms_delivery}


def enqueue_send(delivery_id: int, channel: str, *, on_commit: bool = True) -> None:
    """Queue a delivery on its channel's task (each channel has its own rate)."""
    task = SEND_TASKS[channel]
    if on_commit:
        enqueue_on_commit(task, delivery_id)
    else:
        task.delay(delivery_id)


@shared_task(**IDEMPOTENT)
def sweep_deliveries() -> dict:
    return delivery.deliveries_sweep()


@shared_task(**IDEMPOTENT)
def publish_scheduled_alerts() -> int:
    return services.publish_due_alerts()


@shared_task(**IDEMPOTENT)
def expire_alerts() -> int:
    return services.expire_due_alerts()
