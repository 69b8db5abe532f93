"""Two workflow tables: service requests and code cases. (from, to) -> permission or None.

None is the system (beat automation, or a side effect of another move). "reporter" is the
person who reported (reopening within the window).
"""

from __future__ import annotations

from cityhall.workflow import TransitionNotAllowed as BaseTransitionNotAllowed

from .constants import CaseStatus as C
from .constants import RequestStatus as R

TRIAGE = "code_enforcement.triage_request"
MANAGE = "code_enforcement.manage_case"
REPORTER = "reporter"

REQUEST_TRANSITIONS: dict[tuple[str, str], str | None] = {
    (R.NEW, R.ACKNOWLEDGED): TRIAGE,
    (R.NEW, R.CLOSED): TRIAGE,
    (R.ACKNOWLEDGED, R.IN_PROGRESS): TRIAGE,
    (R.ACKNOWLEDGED, R.CLOSED): TRIAGE,
    (R.IN_PROGRESS, R.CLOSED): TRIAGE,
    (R.CLOSED, R.ACKNOWLEDGED): REPORTER,
}

CASE_TRANSITIONS: dict[tuple[str, str], str | None] = {
    (C.OPEN, C.INSPECTION_SCHEDULED): MANAGE,
    (C.INSPECTION_SCHEDULED, C.VIOLATION_CONFIRMED): MANAGE,
    (C.INSPECTION_SCHEDULED, C.NO_VIOLATION): MANAGE,
    (C.VIOLATION_CONFIRMED, C.NOTICE_ISSUED): MANAGE,
    (C.NOTICE_ISSUED, C.REINSPECTION): None,
    (C.REINSPECTION, C.COMPLIED): MANAGE,
    (C.REINSPECTION, C.ESCALATED): MANAGE,
    (C.COMPLIED, C.CLOSED): MANAGE,
    (C.ESCALATED, C.CLOSED): MANAGE,
    (C.NO_VIOLATION, C.CLOSED): MANAGE,
}


class TransitionNotAllowed(BaseTransitionNotAllowed):
    pass


def check(table: dict, *, current: str, target: str, actor, is_reporter: bool = False) -> None:
    if (current, target) not in table:
        raise TransitionNotAllowed(f"Cannot go from {current} to {target}.")
    rule = table[(current, target)]
    if actor is None:
        return
    if rule is None:
        raise TransitionNotAllowed("Only the system makes this change.")
    if rule == REPORTER:
        if not is_reporter:
            raise TransitionNotAllowed("Only the person who reported can reopen.")
        return
    if not (actor.is_staff and actor.has_perm(rule)):
        raise TransitionNotAllowed("You do not have permission to do this.")
