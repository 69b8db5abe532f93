import pytest

from . import world as world_module


@pytest.fixture
def world(db):
    """The fixed world of world.py (June 2026 and around it)."""
    world_module.build_world()
    return world_module
