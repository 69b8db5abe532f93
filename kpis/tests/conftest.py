import pytest

from cityhall.roles import Role
from tests.personas import make_staff, verified_client

from . import world as world_module


@pytest.fixture
def world(db):
    """The fixed world of world.py (June 2026 and around it)."""
    world_module.build_world()
    return world_module


@pytest.fixture
def manager(db):
    return make_staff(Role.MANAGER)


@pytest.fixture
def manager_client(manager):
    return verified_client(manager)
