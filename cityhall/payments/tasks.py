from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import services
from .models import Refund, RefundStatus

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**IDEMPOTENT)
def sweep_pending_payments() -> int:
    """Every few minutes: payments left waiting or confirmed-but-unrecorded are asked about."""
    moved = services.sweep_pending()
    # Refunds a crash left between our row and the provider's answer: the same key again.
    stale = timezone.now() - timedelta(minutes=10)
    for pk in Refund.objects.filter(status=RefundStatus.PENDING, created_at__lt=stale).values_list(
        "pk", flat=True
    )[:100]:
        services.send_refund(pk)
    return moved


@shared_task(**IDEMPOTENT)
def reconcile_yesterday() -> str:
    day = timezone.localdate() - timedelta(days=1)
    return str(services.reconcile(day).day)
