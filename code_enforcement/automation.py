"""Beat jobs for code enforcement. Each is idempotent: AutomationLog rows and unique
constraints make a second run on the same day do nothing."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from alerts.services import notify, notify_address
from cityhall.roles import Role, role_group_name

from .constants import CaseStatus, RequestStatus
from .models import AutomationLog, CaseInspection, CodeCase, ServiceRequest
from .services import case_reinspect
from .workflow import TransitionNotAllowed


def _once(kind: str, object_id: int, day: date) -> bool:
    """True the first time (kind, object, day) is seen; False on every later run."""
    try:
        with transaction.atomic():
            AutomationLog.objects.create(kind=kind, object_id=object_id, day=day)
    except IntegrityError:
        return False
    return True


def triage_breaches(*, today: date | None = None) -> int:
    """Requests not triaged by their deadline: tell the code enforcement supervisors."""
    today = today or timezone.localdate()
    supervisors = list(
        Group.objects.get(name=role_group_name(Role.CODE_SUPERVISOR)).user_set.filter(
            is_active=True
        )
    )
    sent = 0
    late = ServiceRequest.objects.filter(
        status=RequestStatus.NEW, triage_due__lt=today, breach_notified_at__isnull=True
    )
    for request in late.select_related("category"):
        with transaction.atomic():
            claimed = ServiceRequest.objects.filter(
                pk=request.pk, breach_notified_at__isnull=True
            ).update(breach_notified_at=timezone.now())
            if not claimed:
                continue
            link = reverse("admin:code_enforcement_servicerequest_change", args=[request.pk])
            for supervisor in supervisors:
                notify(
                    user=supervisor,
                    template="staff_notice",
                    link=link,
                    channels=["email"],
                    context={
                        "subject": f"Triage overdue: {request.public_id} ({request.category.name_en})",
                        "body": f"Request {request.public_id} at {request.address} was due for triage on "
                        f"{request.triage_due:%Y-%m-%d}.",
                    },
                )
            sent += 1
    return sent


def reinspections_due(*, today: date | None = None) -> int:
    """Comply-by reached: the case moves to reinspection and its inspector gets the visit."""
    today = today or timezone.localdate()
    assigned = 0
    for case in CodeCase.objects.filter(status=CaseStatus.NOTICE_ISSUED, comply_by__lte=today):
        try:
            case_reinspect(case=case, today=today)
        except TransitionNotAllowed:
            continue  # another run (or a person) moved it first
        assigned += 1
    return assigned


def owner_reminders(*, today: date | None = None) -> int:
    """Three days before the comply-by date, remind owners who gave an email."""
    today = today or timezone.localdate()
    target = today + timedelta(days=3)
    sent = 0
    cases = CodeCase.objects.filter(status=CaseStatus.NOTICE_ISSUED, comply_by=target).exclude(
        owner_email=""
    )
    for case in cases:
        if _once("owner_reminder", case.pk, case.comply_by):
            notify_address(
                email=case.owner_email,
                language=case.owner_language,
                template="owner_reminder",
                context={"case": case},
            )
            sent += 1
    return sent


def inspector_digests(*, today: date | None = None) -> int:
    """Each morning, each inspector gets the day's code inspections in one email."""
    today = today or timezone.localdate()
    by_inspector: dict = {}
    for inspection in CaseInspection.objects.filter(
        scheduled_for=today, completed_at__isnull=True
    ).select_related("case", "inspector"):
        if inspection.inspector_id:
            by_inspector.setdefault(inspection.inspector, []).append(inspection)
    sent = 0
    for inspector, inspections in by_inspector.items():
        if not _once("inspector_digest", inspector.pk, today):
            continue
        lines = [
            f"- {i.case.number} {i.case.address} ({i.get_kind_display()})" for i in inspections
        ]
        notify(
            user=inspector,
            template="staff_notice",
            channels=["email"],
            link=reverse("admin:code_enforcement_caseinspection_changelist")
            + f"?scheduled_for={today:%Y-%m-%d}",
            context={
                "subject": f"Your inspections for {today:%A %B %d}: {len(inspections)}",
                "body": "\n".join(lines),
            },
        )
        sent += 1
    return sent
