"""The report wizard with the test client: the whole path, photos, bad input, escaping and
duplicate suggestions."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from cityhall.roles import Role
from code_enforcement import services
from code_enforcement.constants import RequestStatus, Resolution, Source
from code_enforcement.models import Follower, RequestPhoto, ServiceRequest
from tests.personas import signed_in_client, verified_client

from .factories import (
    DOWNTOWN,
    METRE,
    ensure_city,
    jpeg_upload,
    make_address,
    make_category,
    make_request,
    make_required_attribute,
    staff,
)

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
OAK_HILL = (36.420, -121.330)
EIGHT_MB = 8 * 1024 * 1024


@pytest.fixture(autouse=True)
def city(db):
    ensure_city()


def html(response) -> str:
    return response.content.decode()


def draft(client: Client) -> dict:
    return client.session.get("report") or {}


# --- Steps ----------------------------------------------------------------------------------------


def choose(client: Client, category) -> None:
    response = client.post("/report/", {"category": category.pk})
    assert response.status_code == 302, html(response)
    assert response["Location"] == "/report/location/"


def place(client: Client, *, address: str = "", lat=DOWNTOWN[0], lon=DOWNTOWN[1]) -> None:
    """The map path: a point (and whatever the visitor typed as the address)."""
    response = client.post(
        "/report/location/", {"address": address, "latitude": str(lat), "longitude": str(lon)}
    )
    assert response.status_code == 302, html(response)
    assert response["Location"] == "/report/details/"


def describe(client: Client, description: str = "Deep pothole by the curb", **attributes):
    data = {"description": description, **{f"attr_{k}": v for k, v in attributes.items()}}
    response = client.post("/report/details/", data)
    assert response.status_code == 302, html(response)
    assert response["Location"] == "/report/photos/"


def add_photo(client: Client, upload, *, use_location: bool = False):
    data = {"photo": upload, "add": ""}
    if use_location:
        data["use_photo_location"] = "on"
    return client.post("/report/photos/", data)


def no_more_photos(client: Client) -> None:
    response = client.post("/report/photos/", {"continue": ""})
    assert response.status_code == 302, html(response)
    assert response["Location"] == "/report/contact/"


def contact(client: Client, **fields) -> None:
    """The contact step as a browser posts it: every field, empty unless given."""
    response = client.post("/report/contact/", {"name": "", "email": "", "phone": "", **fields})
    assert response.status_code == 302, html(response)
    assert response["Location"] == "/report/review/"


def send(client: Client) -> ServiceRequest:
    response = client.post("/report/review/", {"submit": ""})
    assert response.status_code == 302, html(response)
    created = ServiceRequest.objects.order_by("-pk").first()
    assert created is not None
    assert response["Location"] == f"/requests/{created.public_id}/submitted/"
    return created


def to_photos(client: Client, category=None) -> None:
    choose(client, category or make_category())
    place(client, address="100 Main Street")
    describe(client)


# --- The whole path -------------------------------------------------------------------------------


def test_the_whole_wizard_as_an_anonymous_visitor():
    category = make_category("abandoned-vehicle")
    make_required_attribute(category)
    make_address("120 Oak Street", *OAK_HILL)
    make_address("12 Elm Street", 36.400, -121.300)
    client = Client()

    response = client.get("/report/")
    assert response.status_code == 200
    assert "Abandoned vehicle" in html(response)
    choose(client, category)

    assert client.get("/report/location/").status_code == 200
    response = client.post("/report/location/", {"address": "120 oak street"})
    assert response.status_code == 302, html(response)
    assert response["Location"] == "/report/details/"
    assert draft(client)["address"] == "120 Oak Street"

    # The required attribute is asked for.
    response = client.get("/report/details/")
    assert "What kind of vehicle?" in html(response)
    response = client.post("/report/details/", {"description": "Blue sedan, flat tires"})
    assert response.status_code == 200
    assert "This field is required." in html(response)
    assert "description" not in draft(client)
    describe(client, "Blue sedan, flat tires", kind="car")

    # A photo with camera and GPS tags; its location is not used unless asked.
    response = add_photo(client, jpeg_upload(gps=DOWNTOWN))
    assert response.status_code == 302 and response["Location"] == "/report/photos/"
    response = client.get("/report/photos/")
    photo = RequestPhoto.objects.get()
    assert photo.request is None and photo.draft_token == draft(client)["token"]
    assert f"/requests/draft/photos/{photo.pk}.jpg" in html(response)
    assert client.get(f"/requests/draft/photos/{photo.pk}.jpg").status_code == 200
    assert Client().get(f"/requests/draft/photos/{photo.pk}.jpg").status_code == 404
    no_more_photos(client)

    contact(client, name="Pat Private", email="pat.private@example.com", phone="(415) 555-2671")
    response = client.get("/report/review/")
    assert response.status_code == 200
    page = html(response)
    assert "Blue sedan, flat tires" in page and "120 Oak Street" in page
    assert "pat.private@example.com" in page

    created = send(client)
    assert created.category == category
    assert created.status == RequestStatus.NEW
    assert created.description == "Blue sedan, flat tires"
    assert created.attributes == {"kind": "car"}
    assert created.address == "120 Oak Street"
    assert (created.latitude, created.longitude) == OAK_HILL
    assert created.neighborhood.name == "Oak Hill"
    assert created.reporter is None
    assert (created.contact_name, created.contact_email, created.contact_phone) == (
        "Pat Private",
        "pat.private@example.com",
        "+14155552671",
    )
    assert created.source == Source.WEB and created.language == "en"

    stored = created.photos.get()
    assert stored.pk == photo.pk and stored.draft_token == ""
    with stored.image.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info

    response = client.get(f"/requests/{created.public_id}/submitted/")
    assert response.status_code == 200 and created.public_id in html(response)
    # The draft is gone; the browser keeps the secret that makes it the reporter.
    assert "report" not in client.session
    assert created.secret_matches(client.session["request_secrets"][created.public_id])
    assert client.get("/report/review/")["Location"] == "/report/"


def test_a_signed_in_resident_reports_without_the_contact_form(alice):
    client = signed_in_client(alice)
    to_photos(client)
    no_more_photos(client)
    response = client.get("/report/contact/")
    assert "You are signed in as alice@example.com" in html(response)
    contact(client)
    created = send(client)
    assert created.reporter == alice and created.contact_email == ""


def test_skipping_the_optional_contact_step_still_shows_the_review():
    """Contact is optional. An anonymous visitor who goes from the photos straight to the
    review (the address bar, a bookmark, the browser's history) sees the review page with
    "Anonymous", not a server error."""
    client = Client(raise_request_exception=False)
    to_photos(client)
    no_more_photos(client)
    response = client.get("/report/review/")
    assert response.status_code == 200
    assert "Anonymous" in html(response)


@pytest.mark.parametrize("use_location", [True, False])
def test_the_photo_location_is_used_only_when_ticked(use_location):
    make_address("120 Oak Street", *OAK_HILL)
    client = Client()
    choose(client, make_category())
    client.post("/report/location/", {"address": "120 Oak Street"})
    describe(client)
    response = add_photo(client, jpeg_upload(gps=DOWNTOWN), use_location=use_location)
    assert response.status_code == 302
    no_more_photos(client)
    contact(client)
    created = send(client)
    if use_location:
        assert created.latitude == pytest.approx(DOWNTOWN[0], abs=1e-6)
        assert created.longitude == pytest.approx(DOWNTOWN[1], abs=1e-6)
        assert created.neighborhood.name == "Downtown"
        assert created.address == ""  # a place from GPS has no street address
    else:
        assert (created.latitude, created.longitude) == OAK_HILL
        assert created.neighborhood.name == "Oak Hill"
        assert created.address == "120 Oak Street"
    with created.photos.get().image.open("rb") as handle:
        assert dict(Image.open(io.BytesIO(handle.read())).getexif()) == {}


def test_a_photo_taken_outside_the_city_keeps_the_chosen_location():
    client = Client()
    to_photos(client)
    response = add_photo(client, jpeg_upload(gps=(37.0, -121.3)), use_location=True)
    assert response.status_code == 302
    page = html(client.get("/report/photos/"))
    assert "The photo was taken outside the city, so we kept the location you chose." in page
    assert draft(client)["latitude"] == str(DOWNTOWN[0])
    assert RequestPhoto.objects.count() == 1


def test_a_png_is_accepted_and_stored_as_jpeg():
    client = Client()
    to_photos(client)
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 128, 0, 128)).save(buffer, "PNG")
    upload = SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")
    assert add_photo(client, upload).status_code == 302
    with RequestPhoto.objects.get().image.open("rb") as handle:
        assert Image.open(io.BytesIO(handle.read())).format == "JPEG"


def test_a_phone_jpeg_with_a_second_picture_is_accepted():
    """Many phones save JPEGs with an extra picture (the MPO extension: depth map, HDR gain
    map); Pillow names their format "MPO". The file is a JPEG a resident can upload."""
    first = Image.new("RGB", (64, 48), (10, 20, 30))
    second = Image.new("RGB", (32, 24), (0, 0, 0))
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    assert buffer.getvalue()[:3] == b"\xff\xd8\xff"  # a JPEG to every viewer
    client = Client()
    to_photos(client)
    response = add_photo(
        client, SimpleUploadedFile("IMG_0001.jpg", buffer.getvalue(), content_type="image/jpeg")
    )
    assert "Photos must be JPEG or PNG." not in html(response)
    assert response.status_code == 302
    assert RequestPhoto.objects.count() == 1


# --- Bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"address": "Far away", "latitude": "37.0", "longitude": "-121.300"},
            "That location is outside the city. Choose a place inside the city limits.",
        ),
        (
            {"address": "", "latitude": "abc", "longitude": "-121.300"},
            "The location is not a valid latitude and longitude.",
        ),
        (
            {"address": "", "latitude": "abc", "longitude": "def"},
            "The location is not a valid latitude and longitude.",
        ),
        (
            {"address": "", "latitude": "nan", "longitude": "nan"},
            "The location is not a valid latitude and longitude.",
        ),
        (
            {"address": "999 Nowhere Lane"},
            "We could not find that address in the city. Check the spelling, or choose the place on the map.",
        ),
        ({"address": "  "}, "Enter an address, or choose the place on the map."),
    ],
    ids=["outside-city", "malformed-lat", "malformed-both", "nan", "unknown-address", "empty"],
)
def test_a_bad_location_is_refused_with_a_clear_error(data, message):
    make_address("120 Oak Street", *OAK_HILL)
    client = Client()
    choose(client, make_category())
    response = client.post("/report/location/", data)
    assert response.status_code == 200
    page = html(response)
    assert message in page
    assert "<title>Error:" in page
    assert "latitude" not in draft(client)
    assert client.get("/report/details/")["Location"] == "/report/"
    assert not ServiceRequest.objects.exists()


def test_several_matching_addresses_are_listed_to_choose_from():
    make_address("120 Oak Street", *OAK_HILL)
    make_address("12 Oak Street", 36.421, -121.331)
    client = Client()
    choose(client, make_category())
    response = client.post("/report/location/", {"address": "Oak Street"})
    assert response.status_code == 200
    page = html(response)
    assert "Several addresses match. Choose one below." in page
    assert "120 Oak Street" in page and "12 Oak Street" in page
    assert "latitude" not in draft(client)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("notes.jpg", b"this is not a picture at all", "image/jpeg"),
            "Upload a valid image.",
        ),
        (
            SimpleUploadedFile("report.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
            "Upload a valid image.",
        ),
    ],
    ids=["text-as-jpeg", "pdf"],
)
def test_a_file_that_is_not_an_image_is_refused(upload, message):
    client = Client()
    to_photos(client)
    response = add_photo(client, upload)
    assert response.status_code == 200
    assert message in html(response)
    assert not RequestPhoto.objects.exists()


def test_a_gif_is_refused():
    client = Client()
    to_photos(client)
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "GIF")
    response = add_photo(client, SimpleUploadedFile("a.gif", buffer.getvalue(), "image/gif"))
    assert response.status_code == 200
    assert "Photos must be JPEG or PNG." in html(response)
    assert not RequestPhoto.objects.exists()


def test_a_photo_over_8_mb_is_refused():
    client = Client()
    to_photos(client)
    response = add_photo(client, jpeg_upload(pad_to=EIGHT_MB + 1))
    assert response.status_code == 200
    assert "A photo can be up to 8 MB." in html(response)
    assert not RequestPhoto.objects.exists()
    # Exactly 8 MB is fine.
    assert add_photo(client, jpeg_upload(pad_to=EIGHT_MB)).status_code == 302
    assert RequestPhoto.objects.count() == 1


def test_a_sixth_photo_is_refused():
    client = Client()
    to_photos(client)
    for n in range(5):
        response = add_photo(client, jpeg_upload(f"p{n}.jpg", color=(n * 40, 0, 0)))
        assert response.status_code == 302
    response = add_photo(client, jpeg_upload("p6.jpg"))
    assert response.status_code == 200
    assert "You can add up to 5 photos." in html(response)
    assert RequestPhoto.objects.count() == 5
    # Removing one makes room again.
    first = RequestPhoto.objects.order_by("pk").first()
    client.post("/report/photos/", {"remove": first.pk})
    assert add_photo(client, jpeg_upload("p6.jpg")).status_code == 302
    assert RequestPhoto.objects.count() == 5


def test_a_description_over_4000_characters_is_refused():
    client = Client()
    choose(client, make_category())
    place(client, address="100 Main Street")
    response = client.post("/report/details/", {"description": "x" * 4001})
    assert response.status_code == 200
    assert "Keep the description under 4,000 characters." in html(response)
    assert "description" not in draft(client)
    assert client.get("/report/photos/")["Location"] == "/report/"
    describe(client, "x" * 4000)
    # The service refuses it too (Open311 and any other caller).
    with pytest.raises(ValidationError, match="4,000"):
        services.request_submit(
            category=make_category("graffiti"),
            description="y" * 4001,
            latitude=DOWNTOWN[0],
            longitude=DOWNTOWN[1],
        )
    assert not ServiceRequest.objects.exists()


def test_a_category_without_anonymous_reports_needs_a_signed_in_resident(alice):
    private = make_category("unsafe-building", allow_anonymous=False)
    client = Client()
    response = client.post("/report/", {"category": private.pk})
    assert response.status_code == 200
    assert "Sign in to report this kind of problem; we need to reach you about it." in html(
        response
    )
    assert "category" not in draft(client)
    assert client.get("/report/location/")["Location"] == "/report/"

    resident = signed_in_client(alice)
    choose(resident, private)
    place(resident, address="100 Main Street")
    describe(resident)
    no_more_photos(resident)
    contact(resident)
    assert send(resident).reporter == alice


# --- HTML in what residents type -------------------------------------------------------------------


def test_html_and_script_in_any_text_are_inert(alice):
    client = Client()
    choose(client, make_category())
    place(client, address=f"{SCRIPT} Main Street")
    describe(client, f"Look {SCRIPT} here")
    no_more_photos(client)
    contact(client, name=SCRIPT, email="pat.private@example.com")
    review = html(client.get("/report/review/"))
    assert SCRIPT not in review and ESCAPED in review
    created = send(client)
    assert created.description == f"Look {SCRIPT} here"
    # The reporter adds information with markup too.
    response = client.post(
        f"/requests/{created.public_id}/", {"action": "info", "info-text": f"More {SCRIPT}"}
    )
    assert response.status_code == 302

    pages = {
        "tracking page": Client().get(f"/requests/{created.public_id}/"),
        "reporter's tracking page": client.get(f"/requests/{created.public_id}/"),
        "public map list": Client().get("/requests/map/"),
        "console change page": verified_client(staff(Role.CODE_SUPERVISOR)).get(
            f"/console/code_enforcement/servicerequest/{created.pk}/change/"
        ),
        "console list": verified_client(staff(Role.CODE_INSPECTOR)).get(
            "/console/code_enforcement/servicerequest/"
        ),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        page = html(response)
        assert SCRIPT not in page, name
        assert ESCAPED in page, name
    console = html(pages["console change page"])
    assert f"Look {ESCAPED} here" in console and f"More {ESCAPED}" in console

    data = Client().get("/requests/map.json")
    assert data.status_code == 200
    assert SCRIPT not in data.content.decode()
    assert [row["id"] for row in data.json()["requests"]] == [created.public_id]


# --- Duplicate suggestions ------------------------------------------------------------------------


@pytest.fixture
def neighbours():
    """Requests around Downtown (36.405, -121.300), reported before the visitor's."""
    pothole, graffiti = make_category("pothole"), make_category("graffiti")
    supervisor = staff(Role.CODE_SUPERVISOR)
    closed = make_request(pothole, lat=DOWNTOWN[0] + 50 * METRE, address="Closed one")
    services.request_close(request=closed, actor=supervisor, resolution=Resolution.RESOLVED)
    return {
        "category": pothole,
        "near": make_request(pothole, lat=DOWNTOWN[0] + 100 * METRE, address="Near one"),
        "far": make_request(pothole, lat=DOWNTOWN[0] + 200 * METRE, address="Far one"),
        "closed": closed,
        "other_kind": make_request(
            graffiti, lat=DOWNTOWN[0] + 20 * METRE, address="Other kind one"
        ),
    }


def _to_review(client: Client, category, **contact_fields) -> str:
    choose(client, category)
    place(client, address="Corner of Main and 3rd")
    describe(client)
    no_more_photos(client)
    contact(client, **contact_fields)
    response = client.get("/report/review/")
    assert response.status_code == 200
    return html(response)


def test_open_requests_of_the_same_kind_within_500_feet_are_suggested_with_their_distance(
    neighbours,
):
    page = _to_review(Client(), neighbours["category"])
    assert "Someone may have reported this already" in page
    assert "are within 500 feet of the place you chose" in page
    assert f"Follow report {neighbours['near'].public_id} instead" in page
    assert "Near one</a> (about 330 feet away;" in page  # 100 m
    for name in ("far", "closed", "other_kind"):
        assert neighbours[name].public_id not in page, name


def test_nothing_is_suggested_when_nothing_is_near():
    page = _to_review(Client(), make_category())
    assert "Someone may have reported this already" not in page


def test_following_instead_adds_a_follower_and_creates_no_request(neighbours, alice):
    near = neighbours["near"]
    before = ServiceRequest.objects.count()

    client = Client()
    _to_review(client, neighbours["category"], email="pat.private@example.com")
    response = client.post("/report/review/", {"follow": near.public_id})
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{near.public_id}/"
    follower = Follower.objects.get(request=near)
    assert (follower.user, follower.email, follower.language) == (
        None,
        "pat.private@example.com",
        "en",
    )
    assert "report" not in client.session
    assert "You are following this report." in html(client.get(response["Location"]))

    resident = signed_in_client(alice)
    _to_review(resident, neighbours["category"])
    resident.post("/report/review/", {"follow": near.public_id})
    assert Follower.objects.filter(request=near, user=alice).count() == 1

    assert ServiceRequest.objects.count() == before
    assert not RequestPhoto.objects.exists()


def test_following_instead_keeps_what_the_visitor_wrote_and_photographed(neighbours):
    from cityhall.constants import EventKind

    near = neighbours["near"]
    client = Client()
    choose(client, neighbours["category"])
    place(client, address="Corner of Main and 3rd")
    describe(client, "A second hole opened next to the first one.")
    add_photo(client, jpeg_upload())
    no_more_photos(client)
    contact(client, email="pat.private@example.com")
    review = html(client.get("/report/review/"))
    assert "nothing you typed is lost" in review

    response = client.post("/report/review/", {"follow": near.public_id}, follow=True)

    assert "What you wrote and your photos were added to it for city staff." in html(response)
    event = near.events.get(kind=EventKind.FOLLOWER_INFO)
    assert event.text == "A second hole opened next to the first one." and not event.public
    photo = RequestPhoto.objects.get(request=near)
    assert photo.hidden  # until staff choose to show it
    # The public tracking page shows neither until staff publish them.
    public = html(Client().get(f"/requests/{near.public_id}/"))
    assert "A second hole opened" not in public
    # Staff see both, and can publish the text.
    supervisor = verified_client(staff(Role.CODE_SUPERVISOR, "sup.follow@riverbend.example"))
    console = html(supervisor.get(f"/console/code_enforcement/servicerequest/{near.pk}/change/"))
    assert "Information from someone who follows the report" in console
    assert "A second hole opened next to the first one." in console
    assert "Publish to the tracking page" in console


def test_looking_at_the_first_step_writes_no_session(client):
    """A visitor who only looks costs no database write: the draft begins with an answer."""
    from django.contrib.sessions.models import Session

    before = Session.objects.count()
    response = client.get("/report/")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert Session.objects.count() == before
