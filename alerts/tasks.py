"""Celery tasks: thin wrappers that take ids and call the delivery engine or services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import delivery, services

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


@shared_task(**IDEMPOTENT)
def sweep_deliveries() -> dict:
    return delivery.deliveries_sweep()


@shared_task(**IDEMPOTENT)
def publish_scheduled_alerts() -> int:
    return services.publish_due_alerts()


@shared_task(**IDEMPOTENT)
def expire_alerts() -> int:
    return services.expire_due_alerts()
