"""Two workflow tables: service requests and code cases.

OWNER is the person who reported (their account, or the secret an anonymous reporter keeps);
SYSTEM is beat automation or a side effect of another move. Each move's service registers
itself with `@REQUESTS.handler(name)` / `@CASES.handler(name)`.
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

from .constants import CaseStatus as C
from .constants import RequestStatus as R
from .models import CaseEvent, CodeCase, RequestEvent, ServiceRequest

TRIAGE = "code_enforcement.triage_request"
MANAGE = "code_enforcement.manage_case"
HIDE_PHOTO = "code_enforcement.hide_photo"
FORMS = "code_enforcement.forms."

OPEN = (R.NEW, R.ACKNOWLEDGED, R.IN_PROGRESS)
ANY = (*OPEN, R.CLOSED)


def _reporter(request, actor, secret: str = "", **_proof) -> bool:
    return request.is_reporter(user=actor, secret=secret)


def _case_can_open(request) -> str | None:
    return "This request already has a code case." if request.case_id else None


def _reopen_window(request) -> str | None:
    if request.status == R.CLOSED and not request.can_reopen():
        return "Requests can be reopened up to 14 days after they close. Please report it again."
    return None


def _closing(request) -> str:
    followers = request.followers.count()
    told = "its reporter" + (f" and {followers} followers are" if followers else " is")
    return (
        f"{request} closes and {told} told the resolution you chose. The reporter can reopen it "
        "within 14 days; after that it stays closed."
    )


def _merging(request) -> str:
    return (
        f"{request} closes as a duplicate of the report you chose; its reporter and followers "
        "are told and follow that report from now on. This cannot be undone."
    )


def _noticing(case) -> str:
    return (
        f"A notice of violation for {case} is issued to the owner with the compliance date "
        "below, and the reinspection is scheduled. The notice is a legal record: it cannot be "
        "withdrawn here."
    )


REQUESTS = Workflow(
    "service request",
    model=ServiceRequest,
    subject="request",
    owner=_reporter,
    timeline=lambda request: (RequestEvent, {"request": request}),
    moves=[
        Move("acknowledge", (R.NEW,), (R.ACKNOWLEDGED,), TRIAGE, "Acknowledge",
             form=FORMS + "AcknowledgeForm", primary=True),
        Move("start", (R.ACKNOWLEDGED,), (R.IN_PROGRESS,), TRIAGE, "Start work",
             form=FORMS + "StartForm"),
        Move("close", OPEN, (R.CLOSED,), TRIAGE, "Close or refer",
             form=FORMS + "CloseRequestForm", confirm=_closing),
        Move("merge", OPEN, (), TRIAGE, "Merge", form=FORMS + "MergeForm", event=None,
             confirm=_merging),
        Move("case", OPEN, (), MANAGE, "Open a code case", guard=_case_can_open,
             form=FORMS + "OpenCaseForm",
             offer=lambda request: request.category.opens_cases, event=EventKind.CASE_OPENED),
        # What a reporter writes stays between them and staff until staff publish it.
        Move("reopen", (R.CLOSED,), (R.ACKNOWLEDGED,), OWNER, event=EventKind.REOPENED,
             public=False, guard=_reopen_window),
        Move("add_info", ANY, (), OWNER, event=EventKind.INFO_ADDED, public=False),
        Move("publish_event", ANY, (), TRIAGE, "Publish", form=FORMS + "PublishEventForm",
             event=None, console=False),
        Move("assign", ANY, (), TRIAGE, "Assign", form=FORMS + "AssignRequestForm",
             event=EventKind.ASSIGNED, public=False, offer=lambda r: r.status != R.CLOSED),
        Move("photo", ANY, (), HIDE_PHOTO, form=FORMS + "PhotoVisibilityForm", event=None,
             console=False),
    ],
)  # fmt: skip

CASES = Workflow(
    "code case",
    model=CodeCase,
    subject="case",
    timeline=lambda case: (CaseEvent, {"case": case}),
    moves=[
        Move("schedule", (C.OPEN,), (C.INSPECTION_SCHEDULED,), MANAGE, "Schedule inspection",
             form=FORMS + "CaseScheduleForm", public=False, primary=True),
        Move("violation", (C.INSPECTION_SCHEDULED,), (C.VIOLATION_CONFIRMED,), MANAGE,
             "Record violation", form=FORMS + "ViolationForm", public=False),
        # A further violation found at the same inspection: the status stays.
        Move("add_violation", (C.VIOLATION_CONFIRMED,), (), MANAGE, "Record violation",
             form=FORMS + "ViolationForm", event=EventKind.VIOLATION, public=False),
        Move("no_violation", (C.INSPECTION_SCHEDULED,), (C.NO_VIOLATION,), MANAGE,
             "No violation found", form=FORMS + "NoViolationForm", public=False),
        Move("notice", (C.VIOLATION_CONFIRMED,), (C.NOTICE_ISSUED,), MANAGE,
             "Issue notice of violation", form=FORMS + "NoticeForm", public=False, primary=True,
             confirm=_noticing),
        Move("reinspect", (C.NOTICE_ISSUED,), (C.REINSPECTION,), SYSTEM, public=False),
        Move("reinspection", (C.REINSPECTION,), (C.COMPLIED, C.ESCALATED), MANAGE,
             "Record reinspection", form=FORMS + "ReinspectionForm", public=False, primary=True),
        Move("close", (C.COMPLIED, C.ESCALATED, C.NO_VIOLATION), (C.CLOSED,), MANAGE,
             "Close case", form=FORMS + "CloseCaseForm", public=False,
             confirm="The case closes; reopening it needs a new complaint."),
        # A citation's fine paid online, or refunded: recorded by the system (cityhall.payments).
        Move("fine_payment", tuple(C), (), SYSTEM, event=EventKind.PAYMENT, public=False),
        Move("fine_refund", tuple(C), (), SYSTEM, event=EventKind.PAYMENT, public=False),
        Move("assign", tuple(s for s in C if s != C.CLOSED), (), MANAGE, "Assign",
             form=FORMS + "AssignCaseForm", event=EventKind.ASSIGNED, public=False),
    ],
)  # fmt: skip
