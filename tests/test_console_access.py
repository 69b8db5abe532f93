"""No console page is reachable without a verified second factor.

Walks every URL the console (the admin site) registers, for every model, as an anonymous
visitor, a resident, and a staff member who signed in with a password but no code.
"""

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, URLPattern, URLResolver, reverse

from cityhall.roles import Role
from tests.personas import give_totp_device, signed_in_client, verified_client

pytestmark = pytest.mark.django_db

# The sign-in steps themselves, reachable before verification by design (an invitation's
# signed, single-use token is its own credential: tests/security/test_staff_invitations.py).
SIGN_IN_STEPS = {"login", "logout", "otp_verify", "otp_enrol", "staff_invite"}
CANDIDATE_ARGUMENTS = [
    ((), {}),
    ((), {"object_id": "1"}),
    ((), {"content_type_id": "1", "object_id": "1"}),
    ((), {"id": "1"}),
    ((), {"pk": "1"}),
    (("1", "1"), {}),  # simple-history's version view takes positional arguments
    ((), {"pk": "1", "action": "publish"}),  # workflow buttons
    ((), {"notice_id": "1"}),
    ((), {"inspection_id": "1"}),  # an inspection's photo
]


def _names(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _names(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


def console_urls() -> list[str]:
    urls = set()
    app_labels = {model._meta.app_label for model in admin.site._registry}
    for name in set(_names(admin.site.get_urls())) - SIGN_IN_STEPS:
        for args, kwargs in CANDIDATE_ARGUMENTS:
            try:
                urls.add(reverse(f"admin:{name}", args=args, kwargs=kwargs))
                break
            except NoReverseMatch:
                continue
        else:
            if name == "app_list":
                urls.update(
                    reverse("admin:app_list", kwargs={"app_label": label}) for label in app_labels
                )
            else:
                pytest.fail(f"don't know how to build the console URL {name!r}")
    return sorted(urls)


def test_the_walk_covers_every_model():
    urls = console_urls()
    for model in admin.site._registry:
        meta = model._meta
        assert f"/console/{meta.app_label}/{meta.model_name}/" in urls
        assert f"/console/{meta.app_label}/{meta.model_name}/1/change/" in urls
        assert f"/console/{meta.app_label}/{meta.model_name}/1/history/" in urls
    assert "/console/" in urls
    assert "/console/backup-codes/" in urls


@pytest.mark.parametrize("who", ["anonymous", "resident", "unverified_staff"])
def test_no_console_page_without_a_verified_device(client, alice, admin_user, who):
    if who == "resident":
        client = signed_in_client(alice)
    elif who == "unverified_staff":
        give_totp_device(admin_user)
        client = signed_in_client(admin_user)
    for method in ("get", "post"):
        for url in console_urls():
            response = getattr(client, method)(url)
            assert response.status_code == 302, (
                f"{method.upper()} {url} gave {response.status_code} to {who}"
            )
            assert response["Location"].startswith("/console/"), url
            assert any(step in response["Location"] for step in ("/login/", "/verify/")), url


def test_verified_administrator_reaches_the_console(admin_user):
    client = verified_client(admin_user)
    assert client.get("/console/").status_code == 200
    assert client.get("/console/cityhall/user/").status_code == 200


def test_verified_staff_without_permission_gets_no_model_pages(staff_user):
    inspector = staff_user(Role.CODE_INSPECTOR)
    client = verified_client(inspector)
    assert client.get("/console/").status_code == 200
    assert client.get("/console/cityhall/user/").status_code == 403
    assert client.get("/console/cityhall/neighborhood/").status_code == 200
    assert client.post("/console/cityhall/neighborhood/add/", {}).status_code == 403
