from celery import shared_task

from . import services


# Idempotent: disposed records are no longer candidates, so a repeat or a redelivery after a
# killed worker does only what is left. Its own time limit: a first run on a city's years of
# records takes a while (each batch is committed, so a run cut short is resumed next night).
@shared_task(
    acks_late=True, reject_on_worker_lost=True, time_limit=3 * 3600, soft_time_limit=3 * 3600 - 60
)
def dispose() -> dict[str, int]:
    logs = services.dispose()
    return {log.rule_text: log.deleted + log.anonymised for log in logs}
