"""Work queues: what is open, mine, unassigned, new, overdue or due soon, for each kind of work.

The console home counts with these definitions and the console lists filter with the same ones
(`WorkFilter`), so a number on the home page is always the number of rows its link shows.
cityhall imports no app: models and statuses are named by label and stored value, the way
roles.py names permissions, and tests/test_my_work.py checks every name against the models.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import reduce
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

DUE_SOON_DAYS = 2

# The order people read them in, on the home page and in the lists' "Work" filter.
LABELS = {
    "mine": "Assigned to me",
    "overdue": "Overdue",
    "due_soon": "Due within 2 days",
    "new": "New",
    "unassigned": "Unassigned",
    "today": "Mine today",
    "tomorrow": "Mine tomorrow",
    "open": "All open",
}


@dataclass(frozen=True)
class Queue:
    """One kind of work.

    `deadlines` pairs each due-date field with the statuses in which that deadline runs (a
    service request's triage date, then its resolution date); every such status is open.
    """

    model_label: str
    title: str
    permission: str  # whoever holds it works this queue
    assignee: str  # the person the work is assigned to
    open: Q
    deadlines: tuple[tuple[str, Q], ...]
    new: Q | None = None  # just arrived, nobody has looked at it yet
    visit_date: str | None = None  # inspections: the day someone goes out
    # How one row reads on the home page's "Next up" (queues of visits list them by day instead).
    reference: str = "pk"
    place: str = "address"

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    @property
    def works(self) -> list[str]:
        skip = set()
        if self.new is None:
            skip.add("new")
        if self.visit_date is None:
            skip |= {"today", "tomorrow"}
        return [work for work in LABELS if work not in skip]

    def q(self, work: str, *, user, today: date) -> Q:
        """The rows of `work` for `user` on `today` (KeyError for a work this queue lacks)."""
        if work not in self.works:
            raise KeyError(work)
        if work == "open":
            return self.open
        if work == "new":
            return self.new
        if work == "unassigned":
            return self.open & Q(**{f"{self.assignee}__isnull": True})
        if work == "overdue":
            return self._due("lt", today)
        if work == "due_soon":
            return self._due("range", (today, today + timedelta(days=DUE_SOON_DAYS)))
        mine = self.open & Q(**{self.assignee: user})
        if work == "mine":
            return mine
        day = today if work == "today" else today + timedelta(days=1)
        return mine & Q(**{self.visit_date: day})

    def due(self) -> models.Expression:
        """The date a row is due by, whichever deadline runs in its status (null: none)."""
        return models.Case(
            *(models.When(running, then=models.F(field)) for field, running in self.deadlines),
            default=None,
            output_field=models.DateField(),
        )

    def _due(self, lookup: str, value) -> Q:
        return reduce(
            operator.or_,
            (running & Q(**{f"{field}__{lookup}": value}) for field, running in self.deadlines),
        )


_APPLICATION_OPEN = Q(status__in=["submitted", "in_review", "info_requested"])
_INSPECTION_OPEN = Q(status__in=["requested", "scheduled"])
_REQUEST_OPEN = Q(status__in=["new", "acknowledged", "in_progress"])
_CASE_INSPECTION_OPEN = Q(completed_at__isnull=True)

QUEUES = (
    Queue(
        "permits.Application",
        "Permit applications",
        permission="permits.review_application",
        assignee="assigned_reviewer",
        open=_APPLICATION_OPEN,
        deadlines=(("due_at", _APPLICATION_OPEN),),
        new=Q(status="submitted"),
        reference="number",
    ),
    Queue(
        "permits.Inspection",
        "Permit inspections",
        permission="permits.inspect",
        assignee="inspector",
        open=_INSPECTION_OPEN,
        deadlines=(("scheduled_for", Q(status="scheduled")),),
        new=Q(status="requested"),  # waiting for a date
        visit_date="scheduled_for",
    ),
    Queue(
        "code_enforcement.ServiceRequest",
        "Service requests",
        permission="code_enforcement.triage_request",
        assignee="assigned_to",
        open=_REQUEST_OPEN,
        deadlines=(
            ("triage_due", Q(status="new")),
            ("resolve_due", Q(status__in=["acknowledged", "in_progress"])),
        ),
        new=Q(status="new"),
        reference="public_id",
    ),
    Queue(
        "code_enforcement.CodeCase",
        "Code cases",
        permission="code_enforcement.manage_case",
        assignee="inspector",
        # Complied, escalated and no-violation cases still wait for someone to close them.
        open=~Q(status="closed"),
        # The owner's deadline: once it passes, a reinspection is due.
        deadlines=(("comply_by", Q(status__in=["notice_issued", "reinspection"])),),
        new=Q(status="open"),
        reference="number",
    ),
    Queue(
        "code_enforcement.CaseInspection",
        "Code inspections",
        permission="code_enforcement.manage_case",
        assignee="inspector",
        open=_CASE_INSPECTION_OPEN,
        deadlines=(("scheduled_for", _CASE_INSPECTION_OPEN),),
        visit_date="scheduled_for",
    ),
)

_BY_MODEL = {queue.model_label.lower(): queue for queue in QUEUES}


def queue_for(model) -> Queue:
    """The queue of a model class (or its "app_label.ModelName")."""
    label = model if isinstance(model, str) else model._meta.label
    return _BY_MODEL[label.lower()]


def queue_url(model, work: str, *, assignee=None) -> str:
    """The console list of `model` filtered to `work` (and to one assignee's rows, through the
    list's own filter on the assignee field)."""
    queue = queue_for(model)
    opts = queue.model._meta
    params = {"work": work}
    if assignee is not None:
        params[f"{queue.assignee}__id__exact"] = getattr(assignee, "pk", assignee)
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{changelist}?{urlencode(params)}"


class WorkFilter(admin.SimpleListFilter):
    """The "Work" filter of a console list: the same queues the home page counts."""

    title = "Work"
    parameter_name = "work"

    def lookups(self, request, model_admin):
        return [(work, LABELS[work]) for work in queue_for(model_admin.model).works]

    def queryset(self, request, queryset):
        work = self.value()
        if work is None:
            return queryset
        try:
            condition = queue_for(queryset.model).q(
                work, user=request.user, today=timezone.localdate()
            )
        except KeyError:
            raise IncorrectLookupParameters(f"No such work: {work}") from None
        return queryset.filter(condition)
