"""The console home: one staff member's work, read from the queues in cityhall.queues.

A person sees the queues their permissions let them work, with the first few records of each
("Next up") linked straight to their pages; managers, the city administrator and the code
enforcement supervisor also see their team's workload. The page costs one aggregate query and
one "Next up" query per queue, one query for the inspections of today and tomorrow and one
grouped query per team queue, however many rows there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Case, CharField, Count, F, IntegerField, Value, When
from django.urls import reverse
from django.utils import timezone

from .queues import LABELS, QUEUES, Queue, queue_url
from .roles import Role, role_group_name

NEXT_UP = 5  # records listed under each queue's counts

# Whose team workload a lead sees: every queue (None), or the queues of one app.
TEAM_LEADS: dict[Role, str | None] = {
    Role.MANAGER: None,
    Role.CITY_ADMINISTRATOR: None,
    Role.CODE_SUPERVISOR: "code_enforcement",
}

# How a visit of each inspection queue reads: reference, what, address, neighborhood.
# Where an inspection is worked: a permit inspection records its result on its own page; a code
# inspection's findings are recorded on its case's page.
VISIT_PAGES = {
    "permits.Inspection": ("pk", "admin:permits_inspection_change"),
    "code_enforcement.CaseInspection": ("case_id", "admin:code_enforcement_codecase_change"),
}

VISIT_FIELDS = {
    "permits.Inspection": (
        "application__number",
        "inspection_type__name_en",
        "application__address",
        "application__neighborhood__name",
    ),
    "code_enforcement.CaseInspection": (
        "case__number",
        "kind",
        "case__address",
        "case__neighborhood__name",
    ),
}


@dataclass(frozen=True)
class Tally:
    work: str
    label: str
    number: int
    url: str


@dataclass(frozen=True)
class Row:
    """One record on "Next up": what it is, where, where it stands, and why it is yours."""

    reference: str
    place: str
    status: str
    due: date | None
    overdue: bool
    why: str
    url: str


@dataclass(frozen=True)
class Section:
    title: str
    tallies: list[Tally]
    next_up: list[Row]


@dataclass(frozen=True)
class Visit:
    reference: str
    what: str
    address: str
    neighborhood: str
    url: str


@dataclass(frozen=True)
class VisitDay:
    label: str
    day: date
    visits: list[Visit]


@dataclass(frozen=True)
class Load:
    person: str
    open: int
    open_url: str
    overdue: int
    overdue_url: str


@dataclass(frozen=True)
class TeamQueue:
    title: str
    loads: list[Load]


@dataclass(frozen=True)
class MyWork:
    today: date
    sections: list[Section]
    visit_days: list[VisitDay]  # empty: this person does no inspections
    team: list[TeamQueue]


def my_work(user) -> MyWork:
    today = timezone.localdate()
    worked = [queue for queue in QUEUES if user.has_perm(queue.permission)]
    inspecting = [queue for queue in worked if queue.visit_date]
    return MyWork(
        today=today,
        sections=[_section(queue, user, today) for queue in worked],
        visit_days=_visit_days(inspecting, user, today) if inspecting else [],
        team=[_team(queue, today) for queue in _led_queues(user)],
    )


def _section(queue: Queue, user, today: date) -> Section:
    """Every count of one queue, in one query."""
    works = [work for work in queue.works if work != "open"]
    # Every work is open work: counting open rows only reads the open rows' index, not a
    # city's years of closed records.
    counts = queue.model._default_manager.filter(queue.open).aggregate(
        **{work: Count(Value(1), filter=queue.q(work, user=user, today=today)) for work in works}
    )
    return Section(
        title=queue.title,
        tallies=[
            Tally(work, LABELS[work], counts[work], queue_url(queue.model, work)) for work in works
        ],
        next_up=[] if queue.visit_date else _next_up(queue, user, today),
    )


def _next_up(queue: Queue, user, today: date) -> list[Row]:
    """The first few records to open, in one query: mine first, then the new ones nobody has
    taken yet, each by due date (overdue first). Each opens its own page, so the day's work
    starts without a trip through the list."""
    mine = queue.q("mine", user=user, today=today)
    wanted = mine | queue.new if queue.new is not None else mine
    opts = queue.model._meta
    statuses = dict(opts.get_field("status").flatchoices)
    rows = (
        queue.model._default_manager.filter(wanted)
        .annotate(
            n_mine=Case(When(mine, then=Value(1)), default=Value(0), output_field=IntegerField()),
            n_due=queue.due(),
        )
        .order_by("-n_mine", F("n_due").asc(nulls_last=True), "pk")
        .values("pk", "n_mine", "n_due", "status", r=F(queue.reference), p=F(queue.place))[:NEXT_UP]
    )
    page = f"admin:{opts.app_label}_{opts.model_name}_change"
    return [
        Row(
            reference=str(row["r"]),
            place=row["p"] or "",
            status=str(statuses.get(row["status"], row["status"])),
            due=row["n_due"],
            overdue=row["n_due"] is not None and row["n_due"] < today,
            why="Assigned to you" if row["n_mine"] else "New",
            url=reverse(page, args=[row["pk"]]),
        )
        for row in rows
    ]


def _visit_days(queues: list[Queue], user, today: date) -> list[VisitDay]:
    """This person's inspections today and tomorrow, in one query, in route order: by
    neighborhood, then by address."""
    parts = []
    for queue in queues:
        reference, what, address, neighborhood = VISIT_FIELDS[queue.model_label]
        planned = queue.q("today", user=user, today=today) | queue.q(
            "tomorrow", user=user, today=today
        )
        parts.append(
            queue.model._default_manager.filter(planned)
            .order_by()
            .values(
                v_model=Value(queue.model_label, output_field=CharField()),
                v_pk=F(VISIT_PAGES[queue.model_label][0]),
                v_day=F(queue.visit_date),
                v_reference=F(reference),
                v_what=F(what),
                v_address=F(address),
                v_neighborhood=F(neighborhood),
            )
        )
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    days = [VisitDay("Today", today, []), VisitDay("Tomorrow", today + timedelta(days=1), [])]
    by_day = {day.day: day.visits for day in days}
    for row in rows.order_by("v_day", "v_neighborhood", "v_address"):
        queue = next(queue for queue in queues if queue.model_label == row["v_model"])
        by_day[row["v_day"]].append(
            Visit(
                reference=row["v_reference"] or "",
                what=_reads(queue, row["v_what"]),
                address=row["v_address"] or "",
                neighborhood=row["v_neighborhood"] or "",
                url=reverse(VISIT_PAGES[queue.model_label][1], args=[row["v_pk"]]),
            )
        )
    return days


def _reads(queue: Queue, value) -> str:
    """A stored choice by its label (a code inspection's kind); anything else as it is."""
    what = VISIT_FIELDS[queue.model_label][1]
    if "__" in what:
        return str(value or "")
    return str(dict(queue.model._meta.get_field(what).flatchoices).get(value, value))


def _led_queues(user) -> list[Queue]:
    """The queues whose team workload this person sees: a lead's, and only those they may
    view."""
    if user.is_superuser:
        scopes = {None}
    else:
        groups = set(user.groups.values_list("name", flat=True))
        scopes = {scope for role, scope in TEAM_LEADS.items() if role_group_name(role) in groups}
    led = []
    for queue in QUEUES:
        opts = queue.model._meta
        if (None in scopes or opts.app_label in scopes) and user.has_perm(
            f"{opts.app_label}.view_{opts.model_name}"
        ):
            led.append(queue)
    return led


def _team(queue: Queue, today: date) -> TeamQueue:
    """Open and overdue work per person, in one grouped query."""
    person = queue.assignee
    rows = (
        queue.model._default_manager.filter(queue.open, **{f"{person}__isnull": False})
        .order_by()
        .values(person, f"{person}__first_name", f"{person}__last_name", f"{person}__email")
        .annotate(
            n_open=Count(Value(1)),
            n_overdue=Count(Value(1), filter=queue.q("overdue", user=None, today=today)),
        )
    )
    loads = []
    for row in rows:
        pk = row[person]
        name = f"{row[f'{person}__first_name']} {row[f'{person}__last_name']}".strip()
        loads.append(
            Load(
                person=name or row[f"{person}__email"],
                open=row["n_open"],
                open_url=queue_url(queue.model, "open", assignee=pk),
                overdue=row["n_overdue"],
                overdue_url=queue_url(queue.model, "overdue", assignee=pk),
            )
        )
    loads.sort(key=lambda load: load.person.casefold())
    return TeamQueue(title=queue.title, loads=loads)
