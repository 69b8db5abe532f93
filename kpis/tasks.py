from celery import shared_task

from . import rollups

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**IDEMPOTENT)
def rollup_today() -> int:
    return rollups.rollup_today()


@shared_task(**IDEMPOTENT)
def rollup_yesterday() -> int:
    return rollups.rollup_yesterday()
