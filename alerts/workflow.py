"""The alert workflow as a table. SYSTEM moves are beat's: a scheduled alert publishes itself at
its time, a published one expires at its time. Alerts keep no timeline: their history is the
audit trail and the CAP messages (updates and cancellations) themselves."""

from __future__ import annotations

from cityhall.workflow import (
    SYSTEM,
    Move,
    TransitionNotAllowed,  # noqa: F401  (re-exported for callers)
    Workflow,
)

from .constants import AlertStatus as S
from .constants import MessageType
from .models import Alert

PUBLISH = "alerts.publish_alert"
EDIT = "alerts.change_alert"
CREATE = "alerts.add_alert"
FORMS = "alerts.forms."


def _updatable(alert) -> str | None:
    if alert.msg_type == MessageType.CANCEL:
        return "A cancellation cannot be updated."
    return None


ALERTS = Workflow(
    "alert",
    model=Alert,
    subject="alert",
    moves=[
        Move("publish", (S.DRAFT,), (S.PUBLISHED,), PUBLISH, "Publish now", primary=True,
             reverify=True),
        Move("schedule", (S.DRAFT,), (S.SCHEDULED,), PUBLISH, "Schedule",
             form=FORMS + "ScheduleForm"),
        Move("unschedule", (S.SCHEDULED,), (S.DRAFT,), PUBLISH, "Back to draft"),
        Move("publish_scheduled", (S.SCHEDULED,), (S.PUBLISHED,), SYSTEM),
        Move("update", (S.PUBLISHED,), (), CREATE, "Prepare an update", guard=_updatable,
             event=None),
        Move("discard", (S.DRAFT,), (S.CANCELLED,), EDIT, "Cancel this alert", danger=True),
        Move("cancel", (S.SCHEDULED, S.PUBLISHED), (S.CANCELLED,), PUBLISH, "Cancel this alert",
             form=FORMS + "CancelForm", danger=True),
        Move("expire", (S.PUBLISHED,), (S.EXPIRED,), SYSTEM),
        Move("retry", (S.PUBLISHED, S.CANCELLED, S.EXPIRED), (), PUBLISH,
             "Retry failed deliveries", offer=lambda alert: bool(alert.published_at), event=None),
    ],
)  # fmt: skip
