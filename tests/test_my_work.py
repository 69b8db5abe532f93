"""The console home ("My work"): each role's counts, the links behind them, team workload, and a
query count that does not grow with the data.

The rows are created in the state under test (new rows may start in any status): this file
tests what is read, and the services that move records are tested in their apps.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Q
from django.test import RequestFactory
from django.utils import timezone

from cityhall.models import Neighborhood
from cityhall.mywork import VISIT_FIELDS, my_work
from cityhall.queues import QUEUES, WorkFilter, queue_for, queue_url
from cityhall.roles import Role
from code_enforcement.constants import CaseStatus, InspectionKind, RequestStatus
from code_enforcement.models import CaseInspection, CodeCase, ServiceRequest
from code_enforcement.tests.factories import ensure_city, make_category
from permits.constants import InspectionStatus, Status
from permits.models import Application, Inspection
from permits.tests.factories import make_inspection_type, make_permit_type
from tests.personas import make_resident, make_staff, verified_client

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n: int):
    return TODAY + timedelta(days=n)


class World:
    """Rows in the states under test; every record hangs off the same few setup rows."""

    def __init__(self):
        ensure_city()
        self.numbers = itertools.count(1)
        self.applicant = make_resident("applicant@example.com")
        self.permit_type = make_permit_type("BLD")
        self.inspection_type = make_inspection_type("final", name_en="Final")
        self.category = make_category()
        self.north, self.south = Neighborhood.objects.order_by("name")[:2]

    def application(self, status=Status.IN_REVIEW, *, due=None, reviewer=None, **kw):
        number = None if status == Status.DRAFT else f"BLD-2026-{next(self.numbers):06d}"
        return Application.objects.create(
            permit_type=self.permit_type,
            applicant=self.applicant,
            status=status,
            number=number,
            due_at=due,
            assigned_reviewer=reviewer,
            **{"address": "1 Main Street", **kw},
        )

    def inspection(self, status=InspectionStatus.SCHEDULED, *, on=None, inspector=None, **kw):
        return Inspection.objects.create(
            application=self.application(Status.ISSUED, **kw),
            inspection_type=self.inspection_type,
            status=status,
            scheduled_for=on,
            inspector=inspector,
        )

    def request(self, status=RequestStatus.NEW, *, triage=None, resolve=None, to=None):
        return ServiceRequest.objects.create(
            category=self.category,
            description="Deep pothole by the curb",
            status=status,
            triage_due=triage,
            resolve_due=resolve,
            assigned_to=to,
        )

    def case(self, status=CaseStatus.OPEN, *, comply_by=None, inspector=None, **kw):
        return CodeCase.objects.create(
            number=f"CE-2026-{next(self.numbers):06d}",
            status=status,
            comply_by=comply_by,
            inspector=inspector,
            **{"address": "5 Elm Street", **kw},
        )

    def case_inspection(self, *, on, inspector, done=False, **kw):
        return CaseInspection.objects.create(
            case=self.case(CaseStatus.INSPECTION_SCHEDULED, inspector=inspector, **kw),
            kind=InspectionKind.INITIAL,
            scheduled_for=on,
            inspector=inspector,
            completed_at=timezone.now() if done else None,
        )


@pytest.fixture
def world():
    return World()


def home(user):
    response = verified_client(user).get("/console/")
    assert response.status_code == 200
    return response


def counts(response) -> dict[str, dict[str, int]]:
    """{section title: {work: number}} as the home page shows them."""
    return {
        section.title: {tally.work: tally.number for tally in section.tallies}
        for section in response.context["work"].sections
    }


def listed(user, model, work: str, **params) -> int:
    """The rows the console list of `model` shows under ?work=: the admin's own queryset (a
    permit draft is never listed) through the filter."""
    model_admin = admin.site._registry[model]
    request = RequestFactory().get(queue_url(model, work))
    request.user = user
    work_filter = WorkFilter(request, {"work": [work]}, model, model_admin)
    rows = work_filter.queryset(request, model_admin.get_queryset(request))
    return rows.filter(**params).count()


def assert_links_agree(user, response) -> None:
    for queue in QUEUES:
        for section in response.context["work"].sections:
            if section.title != queue.title:
                continue
            for tally in section.tallies:
                assert tally.url == queue_url(queue.model, tally.work)
                assert listed(user, queue.model, tally.work) == tally.number, tally


# --- The queue definitions ------------------------------------------------------------------------


def _lookups(q: Q):
    for child in q.children:
        if isinstance(child, Q):
            yield from _lookups(child)
        else:
            yield child


def test_every_status_and_field_a_queue_names_exists():
    for queue in QUEUES:
        model = queue.model
        conditions = [queue.open, *(running for _field, running in queue.deadlines)]
        if queue.new is not None:
            conditions.append(queue.new)
        for lookup, value in itertools.chain.from_iterable(map(_lookups, conditions)):
            field = model._meta.get_field(lookup.split("__")[0])
            if field.choices:
                values = value if isinstance(value, list) else [value]
                assert set(values) <= {choice for choice, _label in field.choices}, lookup
        for name in (queue.assignee, queue.visit_date, *(f for f, _running in queue.deadlines)):
            if name:
                model._meta.get_field(name)
        assert queue_for(model) is queue
    assert set(VISIT_FIELDS) == {q.model_label for q in QUEUES if q.visit_date}


def test_the_work_filter_offers_what_each_kind_of_work_has(admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    application_admin = admin.site._registry[Application]
    work_filter = WorkFilter(request, {}, Application, application_admin)
    assert [label for _work, label in work_filter.lookups(request, application_admin)] == [
        "Assigned to me",
        "Overdue",
        "Due within 2 days",
        "New",
        "Unassigned",
        "All open",
    ]
    inspection_admin = admin.site._registry[CaseInspection]
    inspection_filter = WorkFilter(request, {}, CaseInspection, inspection_admin)
    works = [work for work, _label in inspection_filter.lookups(request, inspection_admin)]
    assert "today" in works and "tomorrow" in works and "new" not in works
    assert queue_url(Application, "overdue") == "/console/permits/application/?work=overdue"
    with pytest.raises(IncorrectLookupParameters):
        WorkFilter(request, {"work": ["today"]}, Application, application_admin).queryset(
            request, Application.objects.all()
        )


# --- Per role -------------------------------------------------------------------------------------


def test_a_plan_reviewer_sees_the_permit_queue(world):
    me = make_staff(Role.PLAN_REVIEWER)
    other = make_staff(Role.PLAN_REVIEWER, "other.reviewer@riverbend.example")
    world.application(Status.IN_REVIEW, due=days(-1), reviewer=me)
    world.application(Status.INFO_REQUESTED, due=days(2), reviewer=me)
    world.application(Status.SUBMITTED, due=days(1))
    world.application(Status.IN_REVIEW, due=days(-5), reviewer=other)
    world.application(Status.SUBMITTED, due=days(10))
    world.application(Status.ISSUED, due=days(-3), reviewer=me)  # done: counts nowhere
    world.application(Status.DRAFT)

    response = home(me)

    assert counts(response) == {
        "Permit applications": {"mine": 2, "overdue": 2, "due_soon": 2, "new": 2, "unassigned": 2}
    }
    assert_links_agree(me, response)
    html = response.content.decode()
    assert "<h1>My work</h1>" in html
    assert 'href="/console/permits/application/?work=overdue"' in html
    assert 'href="/console/models/">All records</a>' in html
    assert response.context["work"].visit_days == []
    assert response.context["work"].team == []


def test_a_code_inspector_sees_code_work_and_todays_route(world):
    me = make_staff(Role.CODE_INSPECTOR)
    other = make_staff(Role.CODE_INSPECTOR, "other.inspector@riverbend.example")
    # Permit inspections.
    world.inspection(on=TODAY, inspector=me, address="12 Elm Street", neighborhood=world.south)
    world.inspection(on=TODAY, inspector=me, address="900 Pine Street", neighborhood=world.north)
    world.inspection(on=days(1), inspector=me, address="3 Ash Lane", neighborhood=world.north)
    world.inspection(InspectionStatus.REQUESTED)  # new: waiting for a date
    world.inspection(on=days(-1), inspector=me)  # missed: overdue
    world.inspection(InspectionStatus.PASSED, on=TODAY, inspector=me)  # done
    # Code inspections.
    world.case_inspection(on=TODAY, inspector=me, address="44 Birch Road", neighborhood=world.north)
    world.case_inspection(on=days(1), inspector=me, address="7 Cedar Court")
    world.case_inspection(on=TODAY, inspector=me, done=True)
    world.case_inspection(on=TODAY, inspector=other)
    # Service requests.
    world.request(triage=days(-1))
    world.request(RequestStatus.ACKNOWLEDGED, triage=days(-5), resolve=days(1), to=me)
    world.request(RequestStatus.CLOSED, triage=days(-9), resolve=days(-3), to=me)
    world.request(RequestStatus.IN_PROGRESS, resolve=days(-2), to=other)
    # Code cases (beyond the ones the code inspections belong to).
    world.case()
    world.case(CaseStatus.NOTICE_ISSUED, comply_by=days(-1), inspector=me)
    world.case(CaseStatus.CLOSED, inspector=me)
    world.case(CaseStatus.COMPLIED, comply_by=days(-10), inspector=me)  # waits to be closed

    response = home(me)

    assert counts(response) == {
        "Permit inspections": {
            "mine": 4,
            "overdue": 1,
            "due_soon": 3,
            "new": 1,
            "unassigned": 1,
            "today": 2,
            "tomorrow": 1,
        },
        "Service requests": {"mine": 1, "overdue": 2, "due_soon": 1, "new": 1, "unassigned": 1},
        # Mine: the cases of my three code inspections (the completed one's case is still
        # open), the overdue notice and the complied case waiting to be closed.
        "Code cases": {"mine": 5, "overdue": 1, "due_soon": 0, "new": 1, "unassigned": 1},
        "Code inspections": {
            "mine": 2,
            "overdue": 0,
            "due_soon": 3,
            "unassigned": 0,
            "today": 1,
            "tomorrow": 1,
        },
    }
    assert_links_agree(me, response)
    today, tomorrow = response.context["work"].visit_days
    # Route order: by neighborhood, then address, whatever the kind of inspection.
    assert [(v.neighborhood, v.address) for v in today.visits] == [
        (world.north.name, "44 Birch Road"),
        (world.north.name, "900 Pine Street"),
        (world.south.name, "12 Elm Street"),
    ]
    assert [v.address for v in tomorrow.visits] == ["3 Ash Lane", "7 Cedar Court"]
    assert today.visits[0].what == "Initial inspection"
    assert today.visits[1].what == "Final"
    html = response.content.decode()
    assert "Permit applications" not in html
    assert "900 Pine Street" in html and world.north.name in html


def test_a_communications_officer_has_no_permit_or_code_queue(world):
    world.application(Status.SUBMITTED, due=days(-1))
    world.request(triage=days(-1))
    officer = make_staff(Role.COMMUNICATIONS_OFFICER)

    response = home(officer)

    work = response.context["work"]
    assert work.sections == [] and work.visit_days == [] and work.team == []
    html = response.content.decode()
    assert "Permit applications" not in html and "Service requests" not in html
    assert "No work queues come with your role" in html


# --- Team workload --------------------------------------------------------------------------------


def test_a_manager_sees_team_workload_by_name(world):
    rita = make_staff(Role.PLAN_REVIEWER, "rita@riverbend.example")
    rita.first_name, rita.last_name = "Rita", "Reyes"
    rita.save()
    sam = make_staff(Role.PLAN_REVIEWER, "sam@riverbend.example")  # no name: shown by email
    world.application(Status.IN_REVIEW, due=days(-1), reviewer=rita)
    world.application(Status.IN_REVIEW, due=days(5), reviewer=rita)
    world.application(Status.SUBMITTED, due=days(-2), reviewer=sam)
    world.application(Status.ISSUED, reviewer=sam)
    world.request(RequestStatus.ACKNOWLEDGED, resolve=days(-1), to=sam)
    manager = make_staff(Role.MANAGER)

    response = home(manager)

    team = {queue.title: queue.loads for queue in response.context["work"].team}
    assert list(team) == [q.title for q in QUEUES]
    applications = [(load.person, load.open, load.overdue) for load in team["Permit applications"]]
    assert applications == [("Rita Reyes", 2, 1), ("sam@riverbend.example", 1, 1)]
    assert [(load.person, load.open, load.overdue) for load in team["Service requests"]] == [
        ("sam@riverbend.example", 1, 1)
    ]
    for load, person in zip(team["Permit applications"], (rita, sam), strict=True):
        assert listed(manager, Application, "open", assigned_reviewer=person) == load.open
        assert listed(manager, Application, "overdue", assigned_reviewer=person) == load.overdue
        assert f"assigned_reviewer__id__exact={person.pk}" in load.open_url
    html = response.content.decode()
    assert "Team workload" in html and "Rita Reyes" in html
    # A manager reviews applications but triages no requests and inspects nothing.
    assert list(counts(response)) == ["Permit applications"]


def test_the_code_enforcement_supervisor_sees_the_code_team_only(world):
    inspector = make_staff(Role.CODE_INSPECTOR)
    world.case(CaseStatus.NOTICE_ISSUED, comply_by=days(-1), inspector=inspector)
    world.application(Status.IN_REVIEW, due=days(-1), reviewer=inspector)
    supervisor = make_staff(Role.CODE_SUPERVISOR)

    response = home(supervisor)

    team = {queue.title: queue.loads for queue in response.context["work"].team}
    assert list(team) == ["Service requests", "Code cases", "Code inspections"]
    assert [(load.person, load.open, load.overdue) for load in team["Code cases"]] == [
        (inspector.email, 1, 1)
    ]


def test_an_administrator_sees_every_queue(world, admin_user):
    response = home(admin_user)
    assert list(counts(response)) == [queue.title for queue in QUEUES]
    assert [queue.title for queue in response.context["work"].team] == [q.title for q in QUEUES]


# --- The linked lists carry the filter ---------------------------------------------------------------


def test_each_count_is_the_number_of_rows_its_console_list_shows(world, admin_user):
    wired = [
        queue
        for queue in QUEUES
        if any(
            isinstance(f, type) and issubclass(f, WorkFilter)
            for f in admin.site._registry[queue.model].list_filter
        )
    ]
    assert len(wired) == len(QUEUES)  # every list carries the filter its counts link to
    world.application(Status.SUBMITTED, due=days(-1), reviewer=admin_user)
    world.inspection(on=TODAY, inspector=admin_user)
    world.request(triage=days(1))
    world.case(CaseStatus.NOTICE_ISSUED, comply_by=days(-2))
    world.case_inspection(on=days(1), inspector=admin_user)
    client = verified_client(admin_user)
    response = client.get("/console/")
    titles = {queue.title for queue in wired}
    for section in response.context["work"].sections:
        if section.title not in titles:
            continue
        for tally in section.tallies:
            listing = client.get(tally.url)
            assert listing.status_code == 200, tally
            assert listing.context_data["cl"].result_count == tally.number, tally


# --- Query count ----------------------------------------------------------------------------------


def _grow(world, people, n: int) -> None:
    for i in range(n):
        person = people[i % len(people)]
        world.application(Status.IN_REVIEW, due=days(i % 5 - 2), reviewer=person)
        world.application(Status.SUBMITTED, due=days(i % 3))
        world.inspection(on=days(i % 3 - 1), inspector=person, neighborhood=world.north)
        world.request(triage=days(i % 4 - 2), to=person if i % 2 else None)
        world.case(CaseStatus.NOTICE_ISSUED, comply_by=days(i % 4 - 2), inspector=person)
        world.case_inspection(on=days(i % 2), inspector=person)


@pytest.mark.parametrize(
    ("role", "queries"),
    [
        # The user and their OTP device (2), permissions (2), one aggregate per queue (5),
        # "Next up" for each queue that is not a day of visits (3), the route (1), groups (1),
        # one grouped query per team queue (5).
        (Role.CITY_ADMINISTRATOR, 19),
        # The same without a team: four queues, two of them with "Next up", the route, groups.
        (Role.CODE_INSPECTOR, 12),
    ],
)
def test_the_home_page_query_count_does_not_grow_with_the_data(
    world, role, queries, django_assert_num_queries
):
    user = make_staff(role)
    people = [user, make_staff(Role.PLAN_REVIEWER, "p1@riverbend.example")]
    client = verified_client(user)
    _grow(world, people, 2)
    client.get("/console/")
    with django_assert_num_queries(queries):
        assert client.get("/console/").status_code == 200
    _grow(world, people, 20)
    more = [make_staff(Role.CODE_INSPECTOR, f"i{n}@riverbend.example") for n in range(5)]
    _grow(world, more, 10)
    with django_assert_num_queries(queries):
        assert client.get("/console/").status_code == 200


def test_next_up_lists_mine_first_then_new_by_due_date_each_linking_to_its_page(world):
    reviewer = make_staff(Role.PLAN_REVIEWER)
    someone_else = make_staff(Role.PLAN_REVIEWER, "other@riverbend.example")
    later = world.application(Status.IN_REVIEW, due=days(5), reviewer=reviewer)
    late = world.application(Status.IN_REVIEW, due=days(-1), reviewer=reviewer)
    new = world.application(Status.SUBMITTED, due=days(1))
    world.application(Status.IN_REVIEW, due=days(-3), reviewer=someone_else)  # not theirs
    world.application(Status.APPROVED, due=days(-3), reviewer=reviewer)  # done

    section = next(s for s in my_work(reviewer).sections if s.title == "Permit applications")

    assert [row.reference for row in section.next_up] == [late.number, later.number, new.number]
    assert [row.why for row in section.next_up] == ["Assigned to you", "Assigned to you", "New"]
    assert [row.overdue for row in section.next_up] == [True, False, False]
    assert section.next_up[0].url == f"/console/permits/application/{late.pk}/change/"
    assert section.next_up[0].status == "In review"


def test_next_up_shows_at_most_five_and_the_page_reads_them(world):
    technician = make_staff(Role.PERMIT_TECHNICIAN)
    submitted = [world.application(Status.SUBMITTED, due=days(n)) for n in range(7)]

    page = verified_client(technician).get("/console/").content.decode()

    assert "Next up" in page
    for application in submitted[:5]:
        assert application.number in page
    for application in submitted[5:]:
        assert application.number not in page
