"""The permit workflows as tables: applications and their inspections.

OWNER is the person who applied; a permission code means staff holding it; SYSTEM means only
beat tasks or a side effect (the last inspection passing finals the permit). Each move's
service is registered with `@APPLICATIONS.handler(name)` in services.py.
"""

from __future__ import annotations

from cityhall.constants import EventKind
from cityhall.workflow import (
    OWNER,
    SYSTEM,
    Move,
    TransitionNotAllowed,  # noqa: F401  (re-exported for callers)
    Workflow,
)

from .constants import INSPECTION_RESULTS, InspectionStatus
from .constants import Status as S
from .models import Application, Inspection, TimelineEvent

VIEW = "permits.view_application"
REVIEW = "permits.review_application"
DECIDE = "permits.decide_application"
ISSUE = "permits.issue_permit"
REVOKE = "permits.revoke_permit"
REFUND = "permits.refund_payment"
WAIVE = "permits.waive_fee"
INSPECT = "permits.inspect"

SUBMITTED_ON = (S.SUBMITTED, S.IN_REVIEW, S.INFO_REQUESTED, S.APPROVED, S.ISSUED, S.FINALED)
AFTER_SUBMIT = (*SUBMITTED_ON, S.EXPIRED, S.DENIED, S.WITHDRAWN, S.REVOKED)
FORMS = "permits.forms."
OPEN_WORK = (S.SUBMITTED, S.IN_REVIEW, S.INFO_REQUESTED)


def _is_applicant(application, actor, **_proof) -> bool:
    return actor is not None and actor.is_authenticated and application.applicant_id == actor.pk


def _approving(application) -> str:
    pay = (
        f" Their permit page then asks them to pay the balance of ${application.balance} before "
        "it is issued."
        if application.balance > 0
        else " With no balance due, it can be issued next."
    )
    return (
        f"{application} is approved with the conditions you entered, and the applicant is "
        f"emailed the decision.{pay} A decision cannot be undone."
    )


def _denying(application) -> str:
    return (
        f"{application} closes as denied and the applicant is emailed the reason you entered. "
        "A decision cannot be undone; they may apply again."
    )


def _revoking(application) -> str:
    return (
        f"Permit {application} stops being valid now, and the holder is emailed the reason you "
        "entered. This cannot be undone."
    )


APPLICATIONS = Workflow(
    "permit application",
    model=Application,
    subject="application",
    owner=_is_applicant,
    timeline=lambda application: (TimelineEvent, {"application": application}),
    moves=[
        Move("submit", (S.DRAFT,), (S.SUBMITTED,), OWNER),
        Move("withdraw", (S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.INFO_REQUESTED), (S.WITHDRAWN,), OWNER),
        Move("accept", (S.SUBMITTED,), (S.IN_REVIEW,), REVIEW, "Accept for review",
             form=FORMS + "AcceptForm", primary=True),
        Move("request_info", (S.IN_REVIEW,), (S.INFO_REQUESTED,), REVIEW, "Request information",
             form=FORMS + "RequestInfoForm"),
        Move("answer", (S.INFO_REQUESTED,), (S.IN_REVIEW,), OWNER),
        Move("approve", (S.IN_REVIEW,), (S.APPROVED,), DECIDE, "Approve", not_own=True,
             form=FORMS + "ApproveForm", primary=True, confirm=_approving),
        Move("deny", (S.IN_REVIEW,), (S.DENIED,), DECIDE, "Deny", not_own=True,
             form=FORMS + "DenyForm", danger=True, confirm=_denying),
        Move("issue", (S.APPROVED,), (S.ISSUED,), ISSUE, "Issue", primary=True),
        Move("final", (S.ISSUED,), (S.FINALED,), ISSUE, "Final (all work complete)"),
        Move("expire", (S.ISSUED,), (S.EXPIRED,), SYSTEM),
        Move("revoke", (S.ISSUED,), (S.REVOKED,), REVOKE, "Revoke", form=FORMS + "RevokeForm",
             danger=True, confirm=_revoking),
        # Actions that keep the status.
        Move("message", AFTER_SUBMIT, (), VIEW, "Send message", form=FORMS + "MessageForm",
             event=EventKind.MESSAGE),
        Move("note", AFTER_SUBMIT, (), VIEW, "Add note", form=FORMS + "NoteForm",
             event=EventKind.NOTE, public=False),
        Move("payment", SUBMITTED_ON, (), ISSUE, "Record payment", form=FORMS + "PaymentForm",
             event=EventKind.PAYMENT),
        Move("waive", SUBMITTED_ON, (), WAIVE, "Waive fees", form=FORMS + "WaiverForm",
             event=EventKind.PAYMENT),
        # Online payments are recorded by the system when the card processor confirms them;
        # refunds are asked for on the online payment's console page (permits.refund_payment).
        # Any status after submission: a card charged just before a revocation or an expiry is
        # still money received (recorded, and shown as a credit to refund).
        Move("online_payment", AFTER_SUBMIT, (), SYSTEM, event=EventKind.PAYMENT),
        Move("refund", AFTER_SUBMIT, (), SYSTEM, event=EventKind.PAYMENT),
        Move("assign", SUBMITTED_ON, (), REVIEW, "Assign", form=FORMS + "AssignReviewerForm",
             event=EventKind.ASSIGNED, public=False, offer=lambda a: a.status in OPEN_WORK),
    ],
)  # fmt: skip

INSPECTIONS = Workflow(
    "permit inspection",
    model=Inspection,
    subject="inspection",
    owner=lambda inspection, actor, **_proof: _is_applicant(inspection.application, actor),
    timeline=lambda inspection: (TimelineEvent, {"application_id": inspection.application_id}),
    moves=[
        Move("schedule", (InspectionStatus.REQUESTED, InspectionStatus.SCHEDULED),
             (InspectionStatus.SCHEDULED,), INSPECT, "Schedule",
             form=FORMS + "InspectionScheduleForm", event=EventKind.INSPECTION),
        Move("record", (InspectionStatus.SCHEDULED,),
             tuple(s for s in InspectionStatus if s in INSPECTION_RESULTS), INSPECT,
             "Record result", form=FORMS + "InspectionResultForm", event=EventKind.INSPECTION,
             primary=True),
    ],
)  # fmt: skip
