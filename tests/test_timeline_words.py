"""What the system writes on a timeline is read in the reader's language, whoever caused it: a
clerk records a card payment in English, the resident reads "Tarjeta: $75.00"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from cityhall.roles import Role
from permits import services
from permits.constants import PaymentMethod
from permits.models import InspectionType, TimelineEvent
from permits.tests.factories import factory_staff, make_application, make_permit_type
from tests.personas import make_resident, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria():
    return make_resident("maria.words@example.com", language="es")


@pytest.fixture
def framing():
    return InspectionType.objects.create(code="framing", name_en="Framing", name_es="Estructura")


def _history(client, application) -> str:
    return client.get(f"/es/permits/{application.number}/").content.decode()


def test_a_payment_recorded_in_english_reads_in_spanish(maria):
    application = make_application(maria, make_permit_type("FEN"), status="approved")
    technician = factory_staff(Role.PERMIT_TECHNICIAN)
    with translation.override("en"):
        services.payment_record(
            application=application,
            actor=technician,
            amount=Decimal("75"),
            method=PaymentMethod.CARD,
        )
    event = TimelineEvent.objects.filter(application=application, phrase="payment").get()
    assert event.text == "Card: $75.00"  # the console, searches and exports read English
    page = _history(signed_in_client(maria), application)
    assert "Tarjeta: $75.00" in page
    assert "Card: $75.00" not in page


def test_inspections_read_in_spanish_with_the_inspectors_note_as_written(maria, framing):
    permit_type = make_permit_type("BLD", inspection_types=[framing])
    application = make_application(maria, permit_type, status="issued")
    inspector = factory_staff(Role.CODE_INSPECTOR)
    inspection = services.inspection_request(
        application=application, actor=maria, inspection_type=framing, preferred_dates=""
    )
    services.inspection_schedule(
        inspection=inspection, actor=inspector, when=date(2026, 12, 3), inspector=inspector
    )
    services.inspection_record(
        inspection=inspection,
        actor=inspector,
        result="failed",
        corrections="Add a header over the window.",
    )
    page = _history(signed_in_client(maria), application)
    assert "Inspección solicitada: Estructura" in page
    assert "Inspección programada: Estructura el 3 de diciembre de 2026" in page
    assert (
        "Estructura: No aprobada: se necesitan correcciones. Add a header over the window." in page
    )
    for english in ("Inspection requested", "Inspection scheduled", "Framing"):
        assert english not in page, english
    english_text = TimelineEvent.objects.filter(application=application).values_list(
        "text", flat=True
    )
    assert "Inspection scheduled: Framing on Dec. 3, 2026" in english_text
