"""How much work a case takes in the console: clicks and full page loads, counted in Chromium
from each staff member's "My work" home (signing in not counted). The numbers are recorded in
the README's console section; these tests keep them from creeping back up."""

import re

import pytest
from playwright.sync_api import expect

from cityhall.roles import Role
from code_enforcement.constants import CaseStatus
from code_enforcement.models import CodeCase
from code_enforcement.tests.factories import make_request, make_violation_type
from permits.constants import Status
from permits.models import Application
from permits.tests.factories import factory_staff, make_application
from tests.browser.console import new_staff_page
from tests.personas import make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Effort:
    """Counts what a person does: clicks (a choice in a select counts as one) and full page
    loads (navigations of the main frame; in-place htmx updates are not page loads)."""

    def __init__(self):
        self.clicks = 0
        self.loads = 0
        self.pages = []

    def watch(self, page):
        def navigated(frame):
            if frame == page.main_frame and self.pages and page in self.pages:
                self.loads += 1

        page.on("framenavigated", navigated)
        self.pages.append(page)
        return page

    def click(self, locator):
        self.clicks += 1
        locator.click()

    def choose(self, locator, value):
        self.clicks += 1
        locator.select_option(value)


def _named(role, email, first, last):
    user = make_staff(role, email)
    user.first_name, user.last_name = first, last
    user.save()
    return user


def test_submitted_permit_to_issued(browser, a11y, live_server, alice):
    application = make_application(alice, status="submitted")
    technician = _named(Role.PERMIT_TECHNICIAN, "tom@riverbend.example", "Tom", "Lee")
    reviewer = _named(Role.PLAN_REVIEWER, "rita@riverbend.example", "Rita", "Moreno")
    busy = make_application(alice, status="in_review")  # another reviewer has work already
    Application.objects.filter(pk=busy.pk).update(
        assigned_reviewer=factory_staff(Role.PLAN_REVIEWER)
    )
    effort = Effort()

    # The technician: the new application is on "My work"; accepting it hands it to the
    # reviewer with the least open work (the only one here), who is suggested.
    desk = effort.watch(new_staff_page(browser, a11y, live_server, technician, "/console/"))
    expect(desk.get_by_role("table", name=re.compile("Next up"))).to_contain_text("New")
    effort.click(desk.get_by_role("link", name=application.number))
    a11y(desk)
    expect(desk.get_by_label("Review by")).to_have_value(str(reviewer.pk))
    expect(desk.get_by_label("Review by")).to_have_accessible_description(
        re.compile("Suggested: Rita Moreno")
    )
    effort.click(desk.get_by_role("button", name="Accept for review"))
    expect(desk.locator(".messagelist")).to_contain_text("is now In review")
    a11y(desk)

    # The reviewer: the application is on her "My work", assigned to her; approve, confirming.
    review = effort.watch(new_staff_page(browser, a11y, live_server, reviewer, "/console/"))
    expect(review.get_by_role("table", name=re.compile("Next up"))).to_contain_text(
        "Assigned to you"
    )
    effort.click(review.get_by_role("link", name=application.number))
    a11y(review)
    effort.click(review.get_by_role("button", name="Approve…"))
    expect(review.locator("#content-main")).to_contain_text("A decision cannot be undone")
    a11y(review)
    effort.click(review.get_by_role("button", name="Yes, approve"))
    expect(review.locator(".messagelist")).to_contain_text("is now Approved")
    a11y(review)

    # The technician, still on the permit's page: reload, take the payment at the counter,
    # which issues the permit in the same step.
    effort.clicks += 1  # the reload
    desk.reload()
    a11y(desk)
    expect(desk.get_by_label("Issue the permit once this pays the balance")).to_be_checked()
    effort.click(desk.get_by_role("button", name="Record payment"))
    expect(desk.locator(".messagelist")).to_contain_text("Record payment: done.")
    expect(desk.locator(".messagelist")).to_contain_text("is now Issued")
    a11y(desk)

    assert Application.objects.get(pk=application.pk).status == Status.ISSUED
    print(f"\nsubmitted permit -> issued: {effort.clicks} clicks, {effort.loads} page loads")
    assert (effort.clicks, effort.loads) == (7, 3)


def test_report_to_case_to_notice(browser, a11y, live_server):
    request = make_request(address="41 Effort Street")
    violation_type = make_violation_type()
    supervisor = _named(Role.CODE_SUPERVISOR, "sam@riverbend.example", "Sam", "Ortiz")
    inspector = _named(Role.CODE_INSPECTOR, "isabel@riverbend.example", "Isabel", "Cruz")
    effort = Effort()

    # The supervisor: the new report is on "My work"; opening a case gives it to the least
    # loaded inspector (suggested) and schedules the first inspection for today.
    desk = effort.watch(new_staff_page(browser, a11y, live_server, supervisor, "/console/"))
    effort.click(desk.get_by_role("link", name=request.public_id))
    a11y(desk)
    expect(desk.get_by_label("Case inspector")).to_have_value(str(inspector.pk))
    effort.click(desk.get_by_role("button", name="Open a code case"))
    desk.wait_for_url(re.compile(r"/codecase/\d+/change/"))
    expect(desk.locator(".messagelist")).to_contain_text("the first inspection is on")
    expect(desk.locator(".messagelist")).to_contain_text("with Isabel Cruz")
    a11y(desk)
    case = CodeCase.objects.get()
    assert case.status == CaseStatus.INSPECTION_SCHEDULED

    # The inspector: today's inspection from "My work"; record the violation, issue the notice.
    field = effort.watch(new_staff_page(browser, a11y, live_server, inspector, "/console/"))
    today = field.get_by_role("table", name=re.compile("^Today"))
    effort.click(today.get_by_role("link", name=re.compile(case.number)))
    a11y(field)
    effort.choose(field.get_by_label("Violation"), str(violation_type.pk))
    field.get_by_label("What was found", exact=True).fill("Weeds over 3 feet along the east fence.")
    effort.click(field.get_by_role("button", name="Record violation"))
    expect(field.locator(".messagelist")).to_contain_text("is now Violation confirmed")
    a11y(field)
    effort.click(field.get_by_role("button", name="Issue notice of violation…"))
    expect(field.locator("#content-main")).to_contain_text("The notice is a legal record")
    a11y(field)
    effort.click(field.get_by_role("button", name="Yes, issue notice of violation"))
    field.wait_for_url(re.compile(r"/codecase/notice/\d+/"))
    a11y(field)

    assert CodeCase.objects.get(pk=case.pk).status == CaseStatus.NOTICE_ISSUED
    print(f"\nreport -> case -> notice: {effort.clicks} clicks, {effort.loads} page loads")
    assert (effort.clicks, effort.loads) == (7, 4)
