import pytest
from django.contrib.auth.models import Group

from cityhall.roles import ROLE_PERMISSIONS, Role, role_group_name, sync_roles

pytestmark = pytest.mark.django_db


def test_fresh_database_has_every_role_with_its_permissions():
    assert Group.objects.count() >= len(Role)
    for role in Role:
        group = Group.objects.get(name=role_group_name(role))
        codes = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert codes, role
        assert codes <= ROLE_PERMISSIONS[role]


def test_administrator_manages_users_and_devices():
    group = Group.objects.get(name="City administrator")
    codes = {p.codename for p in group.permissions.all()}
    assert {"change_user", "add_neighborhood", "delete_totpdevice", "delete_accessattempt"} <= codes


def test_sync_is_idempotent_and_restores_drift():
    group = Group.objects.get(name="Manager")
    before = set(group.permissions.values_list("pk", flat=True))
    group.permissions.clear()
    sync_roles()
    sync_roles()
    assert set(group.permissions.values_list("pk", flat=True)) == before
