from io import StringIO

import pytest

from cityhall.models import Neighborhood, User, audit_as, system_user
from tests.personas import verified_client

pytestmark = pytest.mark.django_db

BOX = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


def test_work_done_by_tasks_is_recorded_as_the_system_user():
    hood = Neighborhood(name="Test", slug="test", boundary=BOX)
    audit_as(hood, None).save()
    record = hood.history.latest()
    assert record.history_user == system_user()
    assert record.history_user.username == "system"
    assert not record.history_user.is_active  # nobody can sign in as the system


def test_profile_changes_are_audited_and_visible_in_the_console(alice, admin_user):
    alice.phone = "+15550104400"
    audit_as(alice, admin_user).save()
    record = alice.history.latest()
    assert record.history_user == admin_user
    assert not hasattr(record, "password")  # secrets never copied into history

    client = verified_client(admin_user)
    page = client.get(f"/console/cityhall/user/{alice.pk}/history/")
    assert page.status_code == 200
    assert "admin@riverbend.example" in page.content.decode()


def test_demo_data_loads_twice_without_changes():
    from django.core.management import call_command

    call_command("load_demo", stdout=StringIO())
    counts = (User.objects.count(), User.history.count(), Neighborhood.history.count())
    call_command("load_demo", stdout=StringIO())
    assert (User.objects.count(), User.history.count(), Neighborhood.history.count()) == counts
    maria = User.objects.get(email="maria@example.com")
    assert maria.preferred_language == "es"
    assert User.objects.filter(is_staff=True, groups__name="Code inspector").exists()
