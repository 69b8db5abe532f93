"""The permit workflow as a table: (from, to) -> who may make the move.

"applicant" means the person who applied (the resident's own application); a permission code
means staff holding it; None means only the system (beat tasks, or a side effect such as the
last inspection passing).
"""

from __future__ import annotations

from cityhall.workflow import TransitionNotAllowed as BaseTransitionNotAllowed

from .constants import Status as S

APPLICANT = "applicant"
REVIEW = "permits.review_application"
DECIDE = "permits.decide_application"
ISSUE = "permits.issue_permit"
REVOKE = "permits.revoke_permit"

ALLOWED_TRANSITIONS: dict[tuple[str, str], str | None] = {
    (S.DRAFT, S.SUBMITTED): APPLICANT,
    (S.DRAFT, S.WITHDRAWN): APPLICANT,
    (S.SUBMITTED, S.IN_REVIEW): REVIEW,
    (S.SUBMITTED, S.WITHDRAWN): APPLICANT,
    (S.IN_REVIEW, S.INFO_REQUESTED): REVIEW,
    (S.IN_REVIEW, S.APPROVED): DECIDE,
    (S.IN_REVIEW, S.DENIED): DECIDE,
    (S.IN_REVIEW, S.WITHDRAWN): APPLICANT,
    (S.INFO_REQUESTED, S.IN_REVIEW): APPLICANT,
    (S.INFO_REQUESTED, S.WITHDRAWN): APPLICANT,
    (S.APPROVED, S.ISSUED): ISSUE,
    (S.ISSUED, S.FINALED): ISSUE,
    (S.ISSUED, S.EXPIRED): None,
    (S.ISSUED, S.REVOKED): REVOKE,
}


class TransitionNotAllowed(BaseTransitionNotAllowed):
    pass


def check_transition(*, application, target: str, actor) -> None:
    """Raise TransitionNotAllowed unless `actor` (None = the system) may make this move."""
    current = application.status
    if (current, target) not in ALLOWED_TRANSITIONS:
        raise TransitionNotAllowed(f"An application cannot go from {current} to {target}.")
    rule = ALLOWED_TRANSITIONS[(current, target)]
    if actor is None:
        return
    if rule is None:
        raise TransitionNotAllowed("Only the system makes this change.")
    if rule == APPLICANT:
        if application.applicant_id != actor.pk:
            raise TransitionNotAllowed("Only the applicant can do this.")
        return
    if not (actor.is_staff and actor.has_perm(rule)):
        raise TransitionNotAllowed("You do not have permission to do this.")
    if rule == DECIDE and application.applicant_id == actor.pk:
        # Separation of duties: nobody decides their own application.
        raise TransitionNotAllowed("You cannot decide an application you submitted.")


def staff_moves(*, application, actor) -> list[str]:
    """The targets this staff member may move the application to (for console buttons)."""
    moves = []
    for (source, target), rule in ALLOWED_TRANSITIONS.items():
        if source != application.status or rule in (None, APPLICANT):
            continue
        try:
            check_transition(application=application, target=target, actor=actor)
        except TransitionNotAllowed:
            continue
        moves.append(target)
    return moves
