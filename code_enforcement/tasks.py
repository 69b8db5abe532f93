from celery import shared_task

from . import automation

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**IDEMPOTENT)
def triage_breaches() -> int:
    return automation.triage_breaches()


@shared_task(**IDEMPOTENT)
def reinspections_due() -> int:
    return automation.reinspections_due()


@shared_task(**IDEMPOTENT)
def owner_reminders() -> int:
    return automation.owner_reminders()


@shared_task(**IDEMPOTENT)
def inspector_digests() -> int:
    return automation.inspector_digests()


@shared_task(**IDEMPOTENT)
def remove_orphan_photos() -> int:
    from .services import photos_remove_orphans

    return photos_remove_orphans()
