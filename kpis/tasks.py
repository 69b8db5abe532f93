from celery import shared_task

from cityhall.pagecache import invalidate_public_pages

from . import rollups

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**IDEMPOTENT)
def rollup_today() -> int:
    rows = rollups.rollup_today()
    invalidate_public_pages()  # the performance page reads the roll-ups
    return rows


@shared_task(**IDEMPOTENT)
def rollup_yesterday() -> int:
    rows = rollups.rollup_yesterday()
    invalidate_public_pages()
    return rows
