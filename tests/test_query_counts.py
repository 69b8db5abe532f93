"""Query counts pinned on dashboards and lists: they must not grow with the data."""

import pytest

from tests.personas import make_resident, signed_in_client, verified_client

pytestmark = pytest.mark.django_db


def test_my_city_hall(alice, django_assert_max_num_queries):
    client = signed_in_client(alice)
    client.get("/me/")
    # The user, then one query per section: subscription, messages, permits, reports.
    with django_assert_max_num_queries(5):
        assert client.get("/me/").status_code == 200


def test_console_user_list_does_not_grow_with_users(admin_user, django_assert_num_queries):
    client = verified_client(admin_user)
    client.get("/console/cityhall/user/")
    for n in range(5):
        make_resident(f"resident{n}@example.com")
    with django_assert_num_queries(6) as few:
        client.get("/console/cityhall/user/")
    for n in range(5, 60):
        make_resident(f"resident{n}@example.com")
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/console/cityhall/user/").status_code == 200
