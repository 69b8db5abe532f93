"""The alert workflow as a table: (from, to) -> the permission the actor needs.

`None` means only the system makes that move (beat tasks): a scheduled alert publishes itself
at its time, a published one expires at its time.
"""

from __future__ import annotations

from cityhall.workflow import TransitionNotAllowed as BaseTransitionNotAllowed

from .constants import AlertStatus as S

PUBLISH = "alerts.publish_alert"
EDIT = "alerts.change_alert"

ALLOWED_TRANSITIONS: dict[tuple[str, str], str | None] = {
    (S.DRAFT, S.SCHEDULED): PUBLISH,
    (S.DRAFT, S.PUBLISHED): PUBLISH,
    (S.DRAFT, S.CANCELLED): EDIT,
    (S.SCHEDULED, S.DRAFT): PUBLISH,
    (S.SCHEDULED, S.PUBLISHED): None,
    (S.SCHEDULED, S.CANCELLED): PUBLISH,
    (S.PUBLISHED, S.CANCELLED): PUBLISH,
    (S.PUBLISHED, S.EXPIRED): None,
}


class TransitionNotAllowed(BaseTransitionNotAllowed):
    pass


def check_transition(*, current: str, target: str, actor) -> None:
    """Raise TransitionNotAllowed unless `actor` (None = the system) may move current -> target."""
    if (current, target) not in ALLOWED_TRANSITIONS:
        raise TransitionNotAllowed(f"An alert cannot go from {current} to {target}.")
    permission = ALLOWED_TRANSITIONS[(current, target)]
    if actor is None:
        return
    if permission is None:
        raise TransitionNotAllowed(f"Only the system moves an alert from {current} to {target}.")
    if not actor.has_perm(permission):
        raise TransitionNotAllowed("You do not have permission to do that with alerts.")


def allowed_targets(*, current: str, actor) -> list[str]:
    targets = []
    for (source, target), permission in ALLOWED_TRANSITIONS.items():
        if source == current and permission is not None and actor.has_perm(permission):
            targets.append(target)
    return targets
