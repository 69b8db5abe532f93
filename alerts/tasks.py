"""Celery tasks: thin wrappers that take ids and call the delivery engine or services."""

from __future__ import annotations

from celery import shared_task

from . import delivery, services

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**IDEMPOTENT)
def fan_out_alert(alert_id: int) -> int:
    return delivery.alert_fan_out(alert_id=alert_id)


# No Celery `rate_limit` here: it is per worker process and stalls a long queue (one task a
# second after a big fan-out). A provider's limit is kept by the app (ALERTS_EMAIL_RATE).
@shared_task(**IDEMPOTENT)
def send_deliveries(delivery_ids: list[int]) -> dict:
    return delivery.deliveries_send(delivery_ids=delivery_ids)


# Single-delivery tasks: kept so that messages queued by an earlier release still run.
@shared_task(**IDEMPOTENT)
def send_email_delivery(delivery_id: int) -> str | None:
    return delivery.delivery_send(delivery_id=delivery_id)


@shared_task(**IDEMPOTENT)
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
