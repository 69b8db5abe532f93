"""Staff sign in and read "My work": their counts, today's route, their team. Axe on every page,
on a desktop and on a phone."""

import pytest
from playwright.sync_api import expect

from cityhall.roles import Role
from code_enforcement.constants import CaseStatus
from permits.constants import Status
from tests.browser.console import console_sign_in
from tests.personas import make_staff
from tests.test_my_work import TODAY, World, days

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 390)


def read_at_each_width(page, a11y, check) -> None:
    """`check` the page at each width; nothing may stick out sideways on a phone."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        a11y(page)
        check()
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_plan_reviewer_reads_their_queue(page, a11y, live_server):
    world = World()
    reviewer = make_staff(Role.PLAN_REVIEWER)
    world.application(Status.IN_REVIEW, due=days(-1), reviewer=reviewer)
    world.application(Status.IN_REVIEW, due=days(1), reviewer=reviewer)
    world.application(Status.SUBMITTED, due=days(9))

    console_sign_in(page, a11y, live_server, reviewer, "/console/")

    def check():
        expect(page.get_by_role("heading", level=1)).to_have_text("My work")
        expect(page.get_by_role("heading", name="Permit applications", level=2)).to_be_visible()
        overdue = page.get_by_role("link", name="1 Overdue in permit applications")
        expect(overdue).to_be_visible()
        expect(overdue).to_have_attribute("href", "/console/permits/application/?work=overdue")
        expect(
            page.get_by_role("link", name="2 Assigned to me in permit applications")
        ).to_be_visible()
        expect(page.get_by_role("link", name="1 New in permit applications")).to_be_visible()
        expect(page.get_by_role("link", name="All records")).to_be_visible()
        expect(page.get_by_role("heading", name="Service requests")).to_have_count(0)
        expect(page.get_by_role("heading", name="Team workload")).to_have_count(0)

    read_at_each_width(page, a11y, check)


def test_a_code_inspector_reads_todays_route(page, a11y, live_server):
    world = World()
    inspector = make_staff(Role.CODE_INSPECTOR)
    south, north = {"neighborhood": world.south}, {"neighborhood": world.north}
    world.inspection(on=TODAY, inspector=inspector, address="900 Pine Street", **south)
    world.case_inspection(on=TODAY, inspector=inspector, address="44 Birch Road", **north)
    world.case_inspection(on=days(1), inspector=inspector, address="7 Cedar Court")
    world.case(CaseStatus.NOTICE_ISSUED, comply_by=days(-3), inspector=inspector)

    console_sign_in(page, a11y, live_server, inspector, "/console/")

    def check():
        expect(page.get_by_role("heading", level=1)).to_have_text("My work")
        expect(page.get_by_role("link", name="1 Overdue in code cases")).to_be_visible()
        expect(page.get_by_role("link", name="1 Mine today in code inspections")).to_be_visible()
        expect(page.get_by_role("heading", name="Permit applications")).to_have_count(0)
        today = page.get_by_role("table", name=f"Today, {TODAY:%A} {TODAY.day} {TODAY:%B}")
        # Route order: by neighborhood, then address.
        expect(today.get_by_role("rowheader")).to_have_text(["44 Birch Road", "900 Pine Street"])
        expect(today).to_contain_text(world.north.name)
        expect(today.get_by_role("link", name="Initial inspection")).to_be_visible()
        tomorrow = page.get_by_role(
            "table", name=f"Tomorrow, {days(1):%A} {days(1).day} {days(1):%B}"
        )
        expect(tomorrow.get_by_role("rowheader")).to_have_text(["7 Cedar Court"])

    read_at_each_width(page, a11y, check)


def test_a_manager_reads_the_team_workload(page, a11y, live_server):
    world = World()
    rita = make_staff(Role.PLAN_REVIEWER, "rita@riverbend.example")
    rita.first_name, rita.last_name = "Rita", "Reyes"
    rita.save()
    world.application(Status.IN_REVIEW, due=days(-1), reviewer=rita)
    world.application(Status.IN_REVIEW, due=days(4), reviewer=rita)
    manager = make_staff(Role.MANAGER)

    console_sign_in(page, a11y, live_server, manager, "/console/")

    def check():
        expect(page.get_by_role("heading", name="Team workload", level=2)).to_be_visible()
        team = page.get_by_role("table", name="Permit applications")
        row = team.get_by_role("row", name="Rita Reyes")
        expect(row.get_by_role("link", name="2 open for Rita Reyes")).to_be_visible()
        expect(row.get_by_role("link", name="1 overdue for Rita Reyes")).to_be_visible()

    read_at_each_width(page, a11y, check)
