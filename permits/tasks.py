from celery import shared_task

from . import opendata, services

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(**IDEMPOTENT)
def send_renewal_reminders() -> int:
    return services.renewals_due_reminders()


@shared_task(**IDEMPOTENT)
def expire_permits() -> int:
    return services.permits_expire()


@shared_task(**IDEMPOTENT)
def create_auto_renewals() -> int:
    return services.renewals_auto_create()


@shared_task(**IDEMPOTENT)
def remove_orphan_documents() -> int:
    return services.documents_remove_orphans()


@shared_task(**IDEMPOTENT)
def refresh_open_data() -> dict:
    return opendata.refresh()
