from celery import shared_task

from . import rollups

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**IDEMPOTENT)
def rollup_today() -> int:
    return rollups.rollup_today()


@shared_task(**IDEMPOTENT)
def rollup_yesterday() -> int:
    return rollups.rollup_yesterday()


@shared_task(**IDEMPOTENT, autoretry_for=(Exception,), retry_backoff=60, max_retries=5)
def monthly_report() -> dict:
    """Last month's report, made once, emailed to each manager who asked (once each)."""
    from . import reports

    return reports.make_and_send()
