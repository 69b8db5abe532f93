"""Staff write in English; what a resident reads of it (an information request, conditions of
approval, a reason, a finding on a notice) is in Spanish when staff wrote the Spanish too, and
otherwise in English marked as such, never passed off as Spanish."""

from __future__ import annotations

import pytest
from django.utils import timezone

from alerts.models import Notification
from cityhall.roles import Role
from code_enforcement import services as ce_services
from code_enforcement.tests.factories import make_case, make_violation_type, staff
from permits import services
from permits.tests.factories import factory_staff, make_application, make_permit_type
from tests.personas import make_resident, signed_in_client, verified_client

pytestmark = pytest.mark.django_db

MARK_ES = "El personal de la ciudad escribió esto en inglés."


@pytest.fixture
def maria():
    return make_resident("maria.staff-text@example.com", language="es")


@pytest.fixture
def john():
    return make_resident("john.staff-text@example.com", language="en")


def _page(person, application) -> str:
    prefix = "/es" if person.preferred_language == "es" else ""
    return signed_in_client(person).get(f"{prefix}/permits/{application.number}/").content.decode()


def _last_message_to(person) -> str:
    """The text the person is sent (email body and inbox), rendered in their language."""
    return Notification.objects.filter(user=person).latest("pk").body_text


def test_an_information_request_written_in_both_languages_reads_in_each(
    maria, john, django_capture_on_commit_callbacks
):
    reviewer = factory_staff(Role.PLAN_REVIEWER)
    fence = make_permit_type("FEN")
    for person in (maria, john):
        application = make_application(person, fence, status="in_review")
        with django_capture_on_commit_callbacks(execute=True):
            services.application_request_info(
                application=application,
                actor=reviewer,
                message="Show the fence height on the plan.",
                message_es="Indique la altura de la cerca en el plano.",
            )
        page = _page(person, application)
        if person is maria:
            assert '<div lang="es"><p>Indique la altura de la cerca en el plano.</p></div>' in page
            assert "Show the fence height" not in page.split("<h2>")[1]
            assert MARK_ES not in page
        else:
            assert '<div lang="en"><p>Show the fence height on the plan.</p></div>' in page
            assert "Indique" not in page


def test_english_only_text_is_marked_for_a_spanish_reader_on_the_page_and_in_the_email(
    maria, django_capture_on_commit_callbacks
):
    application = make_application(maria, make_permit_type("FEN"), status="in_review")
    reviewer = factory_staff(Role.PLAN_REVIEWER)
    with django_capture_on_commit_callbacks(execute=True):
        services.application_approve(
            application=application,
            actor=reviewer,
            conditions="Keep the fence 2 feet back from the sidewalk.",
        )
    page = _page(maria, application)
    assert '<div lang="en"><p>Keep the fence 2 feet back from the sidewalk.</p></div>' in page
    history = (
        page.split('id="history"')[1] if 'id="history"' in page else page.split("Historial")[1]
    )
    assert "Keep the fence 2 feet back" in history and MARK_ES in history  # the history too
    body = _last_message_to(maria)
    assert "Keep the fence 2 feet back from the sidewalk.\n(" + MARK_ES + ")" in body


def test_a_finding_written_in_spanish_too_is_on_the_spanish_notice(admin_user):
    inspector = staff(Role.CODE_INSPECTOR)
    case = make_case(actor=inspector)
    ce_services.case_schedule_inspection(
        case=case, actor=inspector, when=timezone.localdate(), inspector=inspector
    )
    case.refresh_from_db()
    kind = make_violation_type()
    ce_services.case_record_violation(
        case=case,
        actor=inspector,
        violation_type=kind,
        description="Weeds three feet tall along the fence.",
        description_es="Maleza de tres pies de alto junto a la cerca.",
        severity="medium",
    )
    ce_services.case_record_violation(
        case=type(case).objects.get(pk=case.pk),
        actor=inspector,
        violation_type=kind,
        description="Old tires in the side yard.",
        severity="low",
    )
    notice = ce_services.case_issue_notice(
        case=type(case).objects.get(pk=case.pk), actor=inspector, language="es"
    )
    letter = verified_client(admin_user).get(
        f"/console/code_enforcement/codecase/notice/{notice.pk}/"
    )
    html = letter.content.decode()
    assert '<div lang="es"><p>Maleza de tres pies de alto junto a la cerca.</p></div>' in html
    assert "Weeds three feet tall" not in html
    assert '<div lang="en"><p>Old tires in the side yard.</p></div>' in html
    assert html.count(MARK_ES) == 1
