import os

import pytest

from cityhall.roles import Role
from tests import personas

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# between browser steps are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def alice(db):
    return personas.make_resident("alice@example.com", first_name="Alice", last_name="Adams")


@pytest.fixture
def bob(db):
    return personas.make_resident(
        "bob@example.com", first_name="Bob", last_name="Baker", language="es"
    )


@pytest.fixture
def staff_user(db):
    """A factory: staff_user(Role.MANAGER) -> a staff member with that role."""

    def make(role: Role = Role.CITY_ADMINISTRATOR):
        return personas.make_staff(role)

    return make


@pytest.fixture
def admin_user(db):
    user = personas.make_staff(Role.CITY_ADMINISTRATOR, "admin@riverbend.example")
    user.is_superuser = True
    user.save()
    return user


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _english_between_tests():
    """Each test starts in English: a request under /es/ (or a Spanish-speaking resident's)
    leaves Spanish active in the test thread, which must not leak into the next test."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()
