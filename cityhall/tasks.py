from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def clear_expired_sessions() -> int:
    """Delete sessions past their expiry (idempotent: a second run finds none)."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    logger.info("cleared %d expired sessions", deleted)
    return deleted
