"""The console's action bars come from the workflow tables: what a person sees is what they may
do, each action's input goes through its form, and a failed form keeps what was typed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.constants import AlertStatus
from alerts.models import Alert
from alerts.tests.factories import make_alert
from cityhall.roles import Role
from code_enforcement.constants import CaseStatus
from code_enforcement.models import CodeCase, Notice
from code_enforcement.tests.factories import make_case, make_request, make_violation_type
from permits.constants import Status
from permits.models import Application
from permits.tests.factories import make_application
from tests.personas import make_staff, verified_client

pytestmark = pytest.mark.django_db


def _offered(response) -> list[str]:
    return [action["move"].name for action in response.context["workflow_actions"]]


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_each_role_is_offered_only_its_own_moves(alice):
    application = make_application(alice, status="in_review")
    url = f"/console/permits/application/{application.pk}/change/"
    reviewer = verified_client(make_staff(Role.PLAN_REVIEWER, "offer.reviewer@riverbend.example"))
    technician = verified_client(make_staff(Role.PERMIT_TECHNICIAN, "offer.tech@riverbend.example"))
    assert {"request_info", "approve", "deny"} <= set(_offered(reviewer.get(url)))
    offered = _offered(technician.get(url))
    assert "approve" not in offered and "deny" not in offered
    assert (
        "Approve"
        not in _page(technician, url).split('id="workflow-heading"')[1].split("</section>")[0]
    )


def test_a_code_case_is_worked_from_its_page_through_the_forms():
    inspector = make_staff(Role.CODE_INSPECTOR, "forms.inspector@riverbend.example")
    client = verified_client(inspector)
    request = make_request(address="40 Form Street")
    vtype = make_violation_type()
    response = client.post(
        f"/console/code_enforcement/servicerequest/{request.pk}/act/case/", follow=False
    )
    case = CodeCase.objects.get()
    assert response["Location"] == f"/console/code_enforcement/codecase/{case.pk}/change/"
    act = f"/console/code_enforcement/codecase/{case.pk}/act"
    page = f"/console/code_enforcement/codecase/{case.pk}/change/"
    assert _offered(client.get(page)) == ["schedule", "assign"]

    client.post(f"{act}/schedule/", {"date": timezone.localdate().isoformat()})
    assert set(_offered(client.get(page))) == {"violation", "no_violation", "assign"}
    client.post(
        f"{act}/violation/",
        {"violation_type": vtype.pk, "severity": "high", "description": "Fence down"},
    )
    assert CodeCase.objects.get(pk=case.pk).status == CaseStatus.VIOLATION_CONFIRMED
    assert set(_offered(client.get(page))) == {"add_violation", "notice", "assign"}
    response = client.post(f"{act}/notice/", {"language": "es", "confirmed": "yes"})
    notice = Notice.objects.get(case=case)
    assert response["Location"] == reverse("admin:code_enforcement_notice", args=[notice.pk])
    assert notice.language == "es"


def test_a_failed_form_comes_back_with_what_was_typed_and_the_error(alice):
    technician = make_staff(Role.PERMIT_TECHNICIAN, "typed.tech@riverbend.example")
    client = verified_client(technician)
    application = make_application(alice, status="approved")
    url = f"/console/permits/application/{application.pk}/"
    response = client.post(
        f"{url}act/payment/", {"amount": "a hundred", "method": "check", "reference": "CHK-4471"}
    )
    assert response.status_code == 302
    page = _page(client, f"{url}change/")
    assert "Enter the amount, like 125.00." in page
    assert 'value="CHK-4471"' in page and 'value="a hundred"' in page
    assert not application.payments.exists()

    # A refusal by the service (more than is due) keeps the input too.
    client.post(f"{url}act/payment/", {"amount": "$1,000.00", "method": "cash", "reference": "R-9"})
    page = _page(client, f"{url}change/")
    assert "The balance due is $100.00." in page and 'value="R-9"' in page

    client.post(f"{url}act/payment/", {"amount": "$100.00", "method": "cash", "reference": "R-9"})
    assert Application.objects.get(pk=application.pk).balance == Decimal("0.00")
    client.post(f"{url}act/issue/")
    assert Application.objects.get(pk=application.pk).status == Status.ISSUED


def test_a_move_the_table_does_not_allow_now_is_refused_with_a_message(alice):
    reviewer = make_staff(Role.PLAN_REVIEWER, "late.reviewer@riverbend.example")
    client = verified_client(reviewer)
    application = make_application(alice, status="approved")
    response = client.post(
        f"/console/permits/application/{application.pk}/act/approve/", follow=True
    )
    assert "is not possible while the status is Approved" in response.content.decode()
    assert Application.objects.get(pk=application.pk).status == Status.APPROVED


def test_alert_actions_come_from_the_same_table():
    officer = make_staff(Role.COMMUNICATIONS_OFFICER, "table.officer@riverbend.example")
    client = verified_client(officer)
    alert = make_alert()
    page = f"/console/alerts/alert/{alert.pk}/change/"
    assert set(_offered(client.get(page))) == {"publish", "schedule", "discard"}
    response = client.post(f"/console/alerts/alert/{alert.pk}/act/schedule/", {"publish_at": "x"})
    assert response.status_code == 302
    assert "Enter the date and time to publish" in _page(client, page)
    client.post(f"/console/alerts/alert/{alert.pk}/act/publish/", {"confirmed": "yes"})
    alert = Alert.objects.get(pk=alert.pk)
    assert alert.status == AlertStatus.PUBLISHED
    assert set(_offered(client.get(page))) == {"update", "cancel", "retry"}


def test_a_resident_cannot_reach_a_console_action(alice):
    from django.test import Client

    case = make_case(make_request(address="41 Form Street"))
    client = Client()
    client.force_login(alice)
    response = client.post(
        f"/console/code_enforcement/codecase/{case.pk}/act/schedule/", {"date": "2030-01-07"}
    )
    assert response.status_code in (302, 403)
    assert CodeCase.objects.get(pk=case.pk).status == CaseStatus.OPEN
