"""Fixtures for the payment tests: a resident with an approved permit whose $100.00 fee is due,
a second resident, and a citation with a $250.00 fine at 120 Oak Street."""

from decimal import Decimal

import pytest
from django.utils import timezone

from cityhall.roles import Role
from code_enforcement import services as ce_services
from code_enforcement.models import CodeCase
from code_enforcement.tests.factories import case_with_notice, make_request, staff
from permits.tests.factories import make_application
from tests.personas import make_resident, signed_in_client


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _demo_provider(settings):
    """The demo provider, no convenience fee, unless a test says otherwise."""
    settings.PAYMENT_PROVIDER = "test"
    settings.PAYMENT_CONVENIENCE_FEE = "0"


@pytest.fixture
def resident(db):
    return make_resident("rosa@example.com", language="es")


@pytest.fixture
def other_resident(db):
    return make_resident("omar@example.com", language="en")


@pytest.fixture
def approved(resident):
    """An approved permit: only the $100.00 fee stands between it and issuance."""
    return make_application(resident, status="approved")


@pytest.fixture
def resident_client(resident):
    return signed_in_client(resident)


@pytest.fixture
def fined_case(db):
    """Escalated with a $250.00 fine; the owner gave an email and reads Spanish."""
    inspector = staff(Role.CODE_INSPECTOR)
    case = case_with_notice(
        make_request(address="120 Oak Street"),
        actor=inspector,
        owner_email="owner@example.com",
        owner_language="es",
    )
    ce_services.case_reinspect(case=case, today=timezone.localdate())
    case = CodeCase.objects.get(pk=case.pk)
    ce_services.case_record_reinspection(
        case=case, actor=inspector, complied=False, fine=Decimal("250.00"), notes="Not fixed"
    )
    return CodeCase.objects.get(pk=case.pk)
