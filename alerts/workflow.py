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


def _publishing(alert) -> str:
    from django.db.models import Count, Q

    from .models import Subscription

    reach = Subscription.objects.filter(
        pk__in=Subscription.objects.for_alert(alert).values("pk")
    ).aggregate(
        emails=Count("pk", filter=Q(by_email=True)), texts=Count("pk", filter=Q(by_sms=True))
    )
    emails = f"{reach['emails']} email{'' if reach['emails'] == 1 else 's'}"
    texts = f"{reach['texts']} text{'' if reach['texts'] == 1 else 's'}"
    return (
        f"Publishing sends {emails} and {texts} now, in each "
        "subscriber's language, and puts the alert on the website, the feed and the banner. "
        "A published alert cannot be unpublished: a mistake needs an update or a cancellation."
    )


def _cancelling(alert) -> str:
    if alert.status == S.PUBLISHED:
        return (
            "Cancelling sends a cancellation to everyone who received this alert and takes it "
            "off the website. This cannot be undone."
        )
    return "The alert will not be published; nothing was sent and nothing will be."


ALERTS = Workflow(
    "alert",
    model=Alert,
    subject="alert",
    moves=[
        Move("publish", (S.DRAFT,), (S.PUBLISHED,), PUBLISH, "Publish now", primary=True,
             reverify=True, confirm=_publishing),
        Move("schedule", (S.DRAFT,), (S.SCHEDULED,), PUBLISH, "Schedule",
             form=FORMS + "ScheduleForm"),
        Move("unschedule", (S.SCHEDULED,), (S.DRAFT,), PUBLISH, "Back to draft"),
        Move("publish_scheduled", (S.SCHEDULED,), (S.PUBLISHED,), SYSTEM),
        Move("update", (S.PUBLISHED,), (), CREATE, "Prepare an update", guard=_updatable,
             event=None),
        Move("discard", (S.DRAFT,), (S.CANCELLED,), EDIT, "Cancel this alert", danger=True,
             confirm=_cancelling),
        Move("cancel", (S.SCHEDULED, S.PUBLISHED), (S.CANCELLED,), PUBLISH, "Cancel this alert",
             form=FORMS + "CancelForm", danger=True, confirm=_cancelling),
        Move("expire", (S.PUBLISHED,), (S.EXPIRED,), SYSTEM),
        Move("retry", (S.PUBLISHED, S.CANCELLED, S.EXPIRED), (), PUBLISH,
             "Retry failed deliveries", offer=lambda alert: bool(alert.published_at), event=None),
    ],
)  # fmt: skip
