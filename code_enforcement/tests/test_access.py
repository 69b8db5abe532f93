"""Who sees and does what: reporter privacy, the reporter's forms, console roles, hidden
photos, and query counts that do not grow with the data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cityhall.roles import Role
from code_enforcement import services
from code_enforcement.constants import CaseStatus, RequestStatus, Resolution
from code_enforcement.models import (
    CodeCase,
    Follower,
    RequestEvent,
    RequestPhoto,
    ServiceCategory,
    ServiceRequest,
)
from tests.personas import signed_in_client, verified_client

from .factories import (
    closed_days_ago,
    ensure_city,
    jpeg_upload,
    make_case,
    make_category,
    make_department,
    make_request,
    staff,
    submit,
)

pytestmark = pytest.mark.django_db

PRIVATE = {
    "contact_name": "Pat Private",
    "contact_email": "pat.private@example.com",
    "contact_phone": "+14155552671",
}
# Every way the reporters' data could show: names, emails, phone in any format.
SECRETS_OF_REPORTERS = [
    "Pat Private",
    "pat.private@example.com",
    "4155552671",
    "555-2671",
    "555 2671",
    "Alice",
    "Adams",
    "alice@example.com",
]
INFO_FORM = 'name="action" value="info"'
REOPEN_FORM = 'name="action" value="reopen"'


@pytest.fixture(autouse=True)
def city(db):
    ensure_city()


def html(response) -> str:
    return response.content.decode()


def with_photo(request: ServiceRequest) -> RequestPhoto:
    content, _gps = services.photo_clean(jpeg_upload())
    photo = RequestPhoto(request=request)
    photo.image.save("photo.jpg", content, save=True)
    return photo


def track(client: Client, request: ServiceRequest, query: str = ""):
    # A ?key= link is kept in the session and redirected to the clean address.
    return client.get(f"/requests/{request.public_id}/{query}", follow=True)


# --- Reporter privacy -----------------------------------------------------------------------------


def test_others_never_see_contact_data_or_internal_events(alice, bob):
    inspector, supervisor = staff(Role.CODE_INSPECTOR), staff(Role.CODE_SUPERVISOR)
    signed_in = make_request(reporter=alice, contact_phone="+14155552671")
    anonymous = make_request(lat=36.4052, **PRIVATE)
    for request in (signed_in, anonymous):
        services.request_acknowledge(request=request, actor=inspector, note="Crew on Tuesday")
        services.request_assign(
            request=request, actor=supervisor, department=make_department(), assignee=inspector
        )
        services.photo_set_hidden(photo=with_photo(request), actor=supervisor, hidden=True)
    assert RequestEvent.objects.filter(public=False).count() == 4

    viewers = {
        "anonymous visitor": Client(),
        "another resident": signed_in_client(bob),
    }
    for viewer, client in viewers.items():
        pages = {
            "map page": client.get("/requests/map/"),
            "map.json": client.get("/requests/map.json"),
        }
        for request in (signed_in, anonymous):
            pages[f"tracking {request.public_id}"] = track(client, request)
        for name, response in pages.items():
            assert response.status_code == 200, (viewer, name)
            page = html(response)
            for private in SECRETS_OF_REPORTERS:
                assert private not in page, (viewer, name, private)
            # Internal events: the assignment (department / assignee) and the hidden photo.
            assert inspector.email not in page, (viewer, name)
            assert "Public Works /" not in page, (viewer, name)
            assert "photo_hidden" not in page, (viewer, name)
        for request in (signed_in, anonymous):
            page = html(pages[f"tracking {request.public_id}"])
            assert "Crew on Tuesday" in page  # public events do show
            assert "Acknowledged by staff" in page

    rows = Client().get("/requests/map.json").json()["requests"]
    assert {row["id"] for row in rows} == {signed_in.public_id, anonymous.public_id}
    for row in rows:
        assert set(row) == {"id", "lat", "lon", "category", "status", "url"}


def test_sensitive_reports_stay_off_the_public_map():
    hidden = make_request(make_category("unsafe-building", sensitive=True), address="1 Secret")
    shown = make_request(make_category("pothole"), address="2 Public")
    page = html(Client().get("/requests/map/"))
    assert shown.public_id in page and hidden.public_id not in page
    ids = [row["id"] for row in Client().get("/requests/map.json").json()["requests"]]
    assert ids == [shown.public_id]
    assert Client().get("/requests/map.json?category=unsafe-building").json()["requests"] == [
        {
            "id": shown.public_id,
            "lat": 36.405,
            "lon": -121.3,
            "category": "Pothole",
            "status": "Received",
            "url": f"/requests/{shown.public_id}/",
        }
    ]


# --- The reporter's forms -------------------------------------------------------------------------


def test_only_the_signed_in_reporter_gets_the_forms(alice, bob):
    request = make_request(reporter=alice)
    others = {
        "anonymous": Client(),
        "another resident": signed_in_client(bob),
        "supervisor": verified_client(staff(Role.CODE_SUPERVISOR)),
    }
    assert INFO_FORM in html(track(signed_in_client(alice), request))
    for name, client in others.items():
        assert INFO_FORM not in html(track(client, request)), name

    services.request_close(
        request=request, actor=staff(Role.CODE_INSPECTOR), resolution=Resolution.RESOLVED
    )
    page = html(track(signed_in_client(alice), request))
    assert REOPEN_FORM in page and INFO_FORM not in page
    for name, client in others.items():
        assert REOPEN_FORM not in html(track(client, request)), name


def test_the_anonymous_reporter_gets_the_forms_by_session_or_key():
    request, secret = submit(**PRIVATE)

    # The browser that sent the report keeps the secret in its session.
    same_browser = Client()
    session = same_browser.session
    session["request_secrets"] = {request.public_id: secret}
    session.save()
    assert INFO_FORM in html(track(same_browser, request))

    # The link with the key works in any browser, and the browser then remembers it.
    other_browser = Client()
    assert INFO_FORM not in html(track(other_browser, request))
    assert INFO_FORM not in html(track(other_browser, request, "?key=wrong"))
    assert INFO_FORM in html(track(other_browser, request, f"?key={secret}"))
    assert INFO_FORM in html(track(other_browser, request))

    services.request_close(
        request=request, actor=staff(Role.CODE_INSPECTOR), resolution=Resolution.RESOLVED
    )
    assert REOPEN_FORM in html(track(other_browser, request))
    assert REOPEN_FORM not in html(track(Client(), request))


def test_the_reporter_posts_information_and_reopens(alice):
    request = make_request(reporter=alice)
    client = signed_in_client(alice)
    response = client.post(
        f"/requests/{request.public_id}/", {"action": "info", "info-text": "It got deeper"}
    )
    assert response.status_code == 302
    assert request.events.get(kind="info_added").text == "It got deeper"

    services.request_close(
        request=request, actor=staff(Role.CODE_INSPECTOR), resolution=Resolution.RESOLVED
    )
    response = client.post(
        f"/requests/{request.public_id}/", {"action": "reopen", "reopen-reason": "Still there"}
    )
    assert response.status_code == 302
    assert ServiceRequest.objects.get(pk=request.pk).status == RequestStatus.ACKNOWLEDGED

    anonymous, secret = submit(**PRIVATE)
    key_holder = Client()
    response = key_holder.post(
        f"/requests/{anonymous.public_id}/?key={secret}",
        {"action": "info", "info-text": "Two cars now"},
    )
    assert response.status_code == 302
    assert anonymous.events.get(kind="info_added").text == "Two cars now"


def test_reopening_after_14_days_shows_a_message_and_no_form(alice):
    request = make_request(reporter=alice)
    services.request_close(
        request=request, actor=staff(Role.CODE_INSPECTOR), resolution=Resolution.RESOLVED
    )
    closed_days_ago(request, 15)
    client = signed_in_client(alice)
    assert REOPEN_FORM not in html(track(client, request))
    response = client.post(
        f"/requests/{request.public_id}/", {"action": "reopen", "reopen-reason": "Still there"}
    )
    assert response.status_code == 200
    assert (
        "Requests can be reopened up to 14 days after they close. Please report it again."
        in html(response)
    )
    assert ServiceRequest.objects.get(pk=request.pk).status == RequestStatus.CLOSED


def test_anyone_else_posting_gets_404(alice, bob):
    open_request = make_request(reporter=alice)
    anonymous, _secret = submit(**PRIVATE)
    closed = make_request(reporter=alice, lat=36.4051)
    services.request_close(
        request=closed, actor=staff(Role.CODE_INSPECTOR), resolution=Resolution.RESOLVED
    )
    others = {
        "anonymous": Client(),
        "another resident": signed_in_client(bob),
        "supervisor": verified_client(staff(Role.CODE_SUPERVISOR)),
        "wrong key": Client(),
    }
    for name, client in others.items():
        query = "?key=wrong" if name == "wrong key" else ""
        for request in (open_request, anonymous, closed):
            for data in (
                {"action": "info", "info-text": "Let me in"},
                {"action": "reopen", "reopen-reason": "Let me in"},
            ):
                response = client.post(f"/requests/{request.public_id}/{query}", data)
                assert response.status_code == 404, (name, request.public_id, data)
    assert not RequestEvent.objects.filter(kind__in=["info_added", "reopened"]).exists()
    assert ServiceRequest.objects.get(pk=closed.pk).status == RequestStatus.CLOSED
    assert Client().post("/requests/NOSUCHID/", {"action": "info"}).status_code == 404


# --- Console roles --------------------------------------------------------------------------------


def _act(client: Client, request: ServiceRequest, action: str, **data):
    return client.post(f"/console/code_enforcement/servicerequest/{request.pk}/act/{action}/", data)


@pytest.fixture
def outsider_and_request(alice):
    """A communications officer (verified), and a request with a photo and an original."""
    request = make_request(reporter=alice, category=make_category("graffiti", opens_cases=True))
    photo = with_photo(request)
    original = make_request(request.category, lat=36.4051)
    officer = staff(Role.COMMUNICATIONS_OFFICER)
    return verified_client(officer), request, photo, original


def test_another_role_gets_403_on_the_request_pages(outsider_and_request):
    client, request, _photo, _original = outsider_and_request
    base = "/console/code_enforcement/servicerequest/"
    assert client.get(base).status_code == 403
    assert client.get(f"{base}{request.pk}/change/").status_code == 403
    assert client.get(f"{base}{request.pk}/history/").status_code == 403
    assert client.get("/console/code_enforcement/codecase/").status_code == 403


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("acknowledge", {"note": "mine now"}),
        ("start", {}),
        ("close", {"resolution": "resolved"}),
        ("merge", {"original": "ORIGINAL"}),
        ("photo", {"photo": "PHOTO", "hidden": "1"}),
        ("case", {}),
    ],
)
def test_another_role_gets_403_on_the_request_actions(outsider_and_request, action, data):
    client, request, photo, original = outsider_and_request
    data = {
        key: {"ORIGINAL": original.public_id, "PHOTO": str(photo.pk)}.get(value, value)
        for key, value in data.items()
    }
    response = _act(client, request, action, **data)
    stored = ServiceRequest.objects.get(pk=request.pk)
    # Nothing changed, whatever the answer ...
    assert stored.status == RequestStatus.NEW and stored.duplicate_of is None
    assert not RequestPhoto.objects.get(pk=photo.pk).hidden
    assert not CodeCase.objects.exists() and not Follower.objects.exists()
    # ... and the answer is a refusal, as for the change page the actions belong to.
    assert response.status_code == 403, (response.status_code, response.get("Location"))


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("schedule", {"date": "2030-01-07"}),
        ("no_violation", {"notes": "fine"}),
        ("close", {}),
    ],
)
def test_another_role_gets_403_on_the_case_actions(action, data):
    case = make_case(make_request(address="7 Case Street"))
    client = verified_client(staff(Role.COMMUNICATIONS_OFFICER))
    assert client.get(f"/console/code_enforcement/codecase/{case.pk}/change/").status_code == 403
    response = client.post(f"/console/code_enforcement/codecase/{case.pk}/act/{action}/", data)
    assert CodeCase.objects.get(pk=case.pk).status == CaseStatus.OPEN
    assert response.status_code == 403, (response.status_code, response.get("Location"))


def test_another_role_cannot_open_cases(outsider_and_request):
    client, request, _photo, _original = outsider_and_request
    client.raise_request_exception = False
    _act(client, request, "case")
    response = client.post(
        "/console/code_enforcement/servicerequest/",
        {"action": "open_case", "_selected_action": [request.pk]},
    )
    assert response.status_code == 403
    assert not CodeCase.objects.exists()
    assert ServiceRequest.objects.get(pk=request.pk).case is None


def test_a_code_inspector_acts_on_requests():
    inspector = staff(Role.CODE_INSPECTOR)
    client = verified_client(inspector)
    request = make_request(category=make_category("graffiti", opens_cases=True))
    response = _act(client, request, "acknowledge", note="On it")
    assert response.status_code == 302
    assert ServiceRequest.objects.get(pk=request.pk).status == RequestStatus.ACKNOWLEDGED
    response = _act(client, request, "case")
    case = CodeCase.objects.get()
    assert response["Location"] == f"/console/code_enforcement/codecase/{case.pk}/change/"
    assert ServiceRequest.objects.get(pk=request.pk).case == case


def test_a_view_only_manager_running_assign_to_me_is_refused_without_a_server_error():
    """Managers may look at the queue (view permission) and so see its actions; running
    "Assign to me" must refuse politely, not fail with a server error."""
    client = verified_client(staff(Role.MANAGER))
    client.raise_request_exception = False
    request = make_request()
    assert client.get("/console/code_enforcement/servicerequest/").status_code == 200
    response = client.post(
        "/console/code_enforcement/servicerequest/",
        {"action": "assign_to_me", "_selected_action": [request.pk]},
    )
    assert response.status_code in (302, 403), response.status_code
    assert ServiceRequest.objects.get(pk=request.pk).assigned_to is None


# --- Hidden photos --------------------------------------------------------------------------------


def test_a_hidden_photo_disappears_from_the_public_but_not_from_staff(alice, bob):
    supervisor, inspector = staff(Role.CODE_SUPERVISOR), staff(Role.CODE_INSPECTOR)
    request = make_request(reporter=alice)
    photo = with_photo(request)
    url = f"/requests/{request.public_id}/photos/{photo.pk}.jpg"
    assert url in html(track(Client(), request))
    response = Client().get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"

    console = verified_client(supervisor)
    response = _act(console, request, "photo", photo=photo.pk, hidden="1")
    assert response.status_code == 302
    assert RequestPhoto.objects.get(pk=photo.pk).hidden

    assert url not in html(track(Client(), request))
    assert url not in html(track(signed_in_client(alice), request))
    public = {
        "anonymous": Client(),
        "reporter": signed_in_client(alice),
        "another resident": signed_in_client(bob),
        "supervisor without the second factor": signed_in_client(supervisor),
        "verified staff of another role": verified_client(staff(Role.COMMUNICATIONS_OFFICER)),
    }
    for name, client in public.items():
        assert client.get(url).status_code == 404, name
    for name, client in {"supervisor": console, "inspector": verified_client(inspector)}.items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"
    change = html(console.get(f"/console/code_enforcement/servicerequest/{request.pk}/change/"))
    assert url in change and "(hidden from the public)" in change

    # Shown again, it is public again.
    _act(console, request, "photo", photo=photo.pk, hidden="0")
    assert Client().get(url).status_code == 200
    assert url in html(track(Client(), request))


def test_a_photo_url_must_match_its_request():
    first, second = make_request(), make_request(lat=36.4051)
    photo = with_photo(first)
    assert Client().get(f"/requests/{second.public_id}/photos/{photo.pk}.jpg").status_code == 404
    assert Client().get(f"/requests/draft/photos/{photo.pk}.jpg").status_code == 404


# --- Query counts ---------------------------------------------------------------------------------


def _rows(n: int, start: int = 0) -> None:
    """Requests that differ in everything the lists show: category, neighborhood, assignee,
    department, status, deadline."""
    categories = [_category(code) for code in ("pothole", "graffiti", "overgrown-lot")]
    inspector = staff(Role.CODE_INSPECTOR)
    places = [(36.385, -121.330), (36.405, -121.300), (36.420, -121.270), (36.390, -121.300)]
    for i in range(start, start + n):
        lat, lon = places[i % len(places)]
        request = make_request(
            categories[i % 3], lat=lat + i * 1e-5, lon=lon, address=f"{i} Main Street"
        )
        if i % 2:
            services.request_assign(
                request=request,
                actor=inspector,
                department=make_department(f"Dept {i % 3}"),
                assignee=staff(Role.CODE_INSPECTOR, f"inspector{i % 4}"),
            )
        if i % 5 == 0:
            services.request_acknowledge(request=request, actor=inspector)
        if i % 7 == 0:
            ServiceRequest.objects.filter(pk=request.pk).update(
                triage_due=timezone.localdate() - timedelta(days=3)
            )


def _category(code: str) -> ServiceCategory:
    return ServiceCategory.objects.filter(code=code).first() or make_category(code)


CONSOLE_LIST = "/console/code_enforcement/servicerequest/"
# Measured with 5 rows; the same number serves 40.
CONSOLE_LIST_QUERIES = 13  # with the work filter and the remembered page (previous/next)
MAP_QUERIES = 4
MAP_JSON_QUERIES = 2


def test_console_request_list_does_not_grow_with_rows(django_assert_max_num_queries):
    client = verified_client(staff(Role.CODE_SUPERVISOR))
    _rows(5)
    client.get(CONSOLE_LIST)
    with django_assert_max_num_queries(CONSOLE_LIST_QUERIES) as few:
        response = client.get(CONSOLE_LIST)
        assert response.status_code == 200
    before = len(few.captured_queries)
    _rows(35, start=5)
    client.get(CONSOLE_LIST)  # the list shown changed: remembered once for previous/next
    with django_assert_max_num_queries(before):
        response = client.get(CONSOLE_LIST)
        assert response.status_code == 200
    page = html(response)
    for public_id in ServiceRequest.objects.values_list("public_id", flat=True):
        assert public_id in page


def test_public_map_does_not_grow_with_rows(django_assert_max_num_queries):
    client = Client()
    _rows(5)
    client.get("/requests/map/")
    with django_assert_max_num_queries(MAP_QUERIES) as few:
        response = client.get("/requests/map/")
        assert response.status_code == 200
    _rows(35, start=5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/requests/map/")
        assert response.status_code == 200
    page = html(response)
    public_ids = list(ServiceRequest.objects.values_list("public_id", flat=True))
    assert len(public_ids) == 40
    assert all(public_id in page for public_id in public_ids)
    with django_assert_max_num_queries(MAP_JSON_QUERIES):
        assert len(client.get("/requests/map.json").json()["requests"]) == 40
