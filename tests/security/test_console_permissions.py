"""Console actions checked per role: every action URL of every console model, tried by every
role. A role without the permission a move needs gets 403, whatever it posts; a record the
console does not show (a permit draft) cannot be acted on; a city administrator cannot make a
superuser, nor change another staff member's password without a fresh second factor."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from alerts.tests.factories import make_alert
from alerts.workflow import ALERTS
from cityhall.roles import ROLE_PERMISSIONS, Role
from cityhall.workflow import OWNER, SYSTEM
from code_enforcement.tests.factories import ensure_city, make_case, make_request
from code_enforcement.workflow import CASES, REQUESTS
from permits.models import Inspection
from permits.tests.factories import make_application, make_inspection_type
from permits.workflow import APPLICATIONS, INSPECTIONS
from tests.personas import make_staff, verified_client

pytestmark = pytest.mark.django_db

CONSOLE = {
    APPLICATIONS: "permits/application",
    INSPECTIONS: "permits/inspection",
    REQUESTS: "code_enforcement/servicerequest",
    CASES: "code_enforcement/codecase",
    ALERTS: "alerts/alert",
}


def _records(alice):
    ensure_city()
    issued = make_application(alice, status="issued")
    return {
        APPLICATIONS: make_application(alice, status="submitted"),
        INSPECTIONS: Inspection.objects.create(
            application=issued, inspection_type=make_inspection_type("walk")
        ),
        REQUESTS: make_request(),
        CASES: make_case(make_request(address="9 Matrix Street")),
        ALERTS: make_alert(),
    }


MOVES = [
    pytest.param(workflow, name, id=f"{workflow.name}:{name}")
    for workflow in CONSOLE
    for name, move in workflow.moves.items()
    if move.who not in (SYSTEM, OWNER)
]


@pytest.mark.parametrize(("workflow", "name"), MOVES)
def test_every_role_is_refused_the_moves_it_has_no_permission_for(workflow, name, alice):
    records = _records(alice)
    move = workflow.moves[name]
    url = f"/console/{CONSOLE[workflow]}/{records[workflow].pk}/act/{name}/"
    for role in Role:
        client = verified_client(make_staff(role, f"matrix.{role.value}@riverbend.example"))
        client.raise_request_exception = False
        response = client.post(url, {"text": "x", "note": "x", "reason": "x"})
        if move.who in ROLE_PERMISSIONS[role]:
            assert response.status_code != 403, (role, response.status_code)
        else:
            assert response.status_code == 403, (role, response.status_code)


def test_a_public_message_to_an_applicant_needs_permit_permissions(alice):
    application = make_application(alice, status="submitted")
    officer = verified_client(make_staff(Role.COMMUNICATIONS_OFFICER))
    url = f"/console/permits/application/{application.pk}/act/message/"
    assert officer.post(url, {"text": "Hello from comms"}).status_code == 403
    assert not application.events.filter(text="Hello from comms").exists()


def test_a_draft_cannot_be_acted_on_from_the_console(alice):
    draft = make_application(alice)
    reviewer = verified_client(make_staff(Role.PLAN_REVIEWER))
    response = reviewer.post(f"/console/permits/application/{draft.pk}/act/note/", {"text": "peek"})
    assert response.status_code == 404
    assert not draft.events.exists()


def test_a_city_administrator_cannot_make_a_superuser():
    admin = make_staff(Role.CITY_ADMINISTRATOR, "cityadmin@riverbend.example")
    clerk = make_staff(Role.PERMIT_TECHNICIAN, "clerk@riverbend.example")
    client = verified_client(admin)
    page = client.get(f"/console/cityhall/user/{clerk.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page
    client.post(
        f"/console/cityhall/user/{clerk.pk}/change/",
        {
            "email": clerk.email,
            "username": clerk.username,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "preferred_language": "en",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    clerk.refresh_from_db()
    assert not clerk.is_superuser


def test_changing_a_staff_password_asks_for_a_fresh_code():
    admin = make_staff(Role.CITY_ADMINISTRATOR, "cityadmin@riverbend.example")
    clerk = make_staff(Role.PERMIT_TECHNICIAN, "clerk@riverbend.example")
    client = verified_client(admin)
    session = client.session
    session["otp_verified_at"] = int(time.time()) - 16 * 60  # verified 16 minutes ago
    session.save()
    url = f"/console/cityhall/user/{clerk.pk}/password/"
    new = {"password1": "a-long-new-passphrase-2026", "password2": "a-long-new-passphrase-2026"}
    response = client.post(url, new)
    assert response.status_code == 302 and "/console/verify/?again=1" in response["Location"]
    clerk.refresh_from_db()
    assert clerk.check_password("correct-horse-battery-staple")
    session = client.session
    session["otp_verified_at"] = int(timezone.now().timestamp())
    session.save()
    client.post(url, {**new, "usable_password": "true"})
    clerk.refresh_from_db()
    assert clerk.check_password("a-long-new-passphrase-2026")
