import time

from celery import shared_task

from . import services

# A run stops starting batches after 45 minutes, well inside the broker's one-hour visibility
# timeout (so an unacknowledged run is never handed to a second worker); the next night goes on.
RUN_SECONDS = 45 * 60


# Idempotent: disposed records are no longer candidates, so a repeat or a redelivery after a
# killed worker does only what is left.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=RUN_SECONDS + 600,
    soft_time_limit=RUN_SECONDS + 540,
)
def dispose() -> dict[str, int]:
    logs = services.dispose(stop_at=time.monotonic() + RUN_SECONDS)
    return {log.rule_text: log.deleted + log.anonymised for log in logs}
