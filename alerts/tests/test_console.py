"""The alerts console: workflow buttons call the services; only publishers may press them."""

import pytest

from alerts import delivery
from alerts.constants import AlertStatus, MessageType
from alerts.models import Alert
from cityhall.roles import Role
from tests.personas import make_staff, verified_client

from .factories import make_alert, make_subscription, make_topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client():
    return verified_client(make_staff(Role.COMMUNICATIONS_OFFICER))


def test_publish_then_watch_progress_then_cancel(officer_client):
    topic = make_topic("weather")
    make_subscription([topic], email="ann@example.com")
    alert = make_alert(topic=topic)
    page = officer_client.get(f"/console/alerts/alert/{alert.pk}/change/").content.decode()
    assert "Publish now" in page and "Aviso de calor" in page  # the Spanish preview
    assert "segment" in page  # the text-message length

    response = officer_client.post(
        f"/console/alerts/alert/{alert.pk}/act/publish/", {"confirmed": "yes"}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.PUBLISHED

    delivery.alert_fan_out(alert_id=alert.pk)
    progress = officer_client.get(f"/console/alerts/alert/{alert.pk}/progress/").content.decode()
    assert "hx-trigger" in progress and "<td>1</td>" in progress  # one waiting, still polling

    officer_client.post(
        f"/console/alerts/alert/{alert.pk}/act/cancel/",
        {"reason_en": "Over", "reason_es": "Terminó", "confirmed": "yes"},
    )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CANCELLED
    assert Alert.objects.filter(msg_type=MessageType.CANCEL, references=alert).exists()


def test_publish_problems_are_shown_and_nothing_changes(officer_client):
    alert = make_alert(title_es="", body_es="")
    page = officer_client.get(f"/console/alerts/alert/{alert.pk}/change/").content.decode()
    assert "Add the Spanish headline" in page
    officer_client.post(f"/console/alerts/alert/{alert.pk}/act/publish/", {"confirmed": "yes"})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DRAFT


def test_staff_without_the_role_cannot_publish():
    manager = verified_client(make_staff(Role.MANAGER))
    alert = make_alert()
    page = manager.get(f"/console/alerts/alert/{alert.pk}/change/").content.decode()
    assert "Publish now" not in page
    manager.post(f"/console/alerts/alert/{alert.pk}/act/publish/", {"confirmed": "yes"})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DRAFT


def test_published_alerts_are_read_only_and_get_updates(officer_client):
    from alerts import services

    alert = make_alert()
    officer_client.post(f"/console/alerts/alert/{alert.pk}/act/publish/", {"confirmed": "yes"})
    page = officer_client.get(f"/console/alerts/alert/{alert.pk}/change/").content.decode()
    assert 'name="title_en"' not in page
    response = officer_client.post(f"/console/alerts/alert/{alert.pk}/act/update/")
    update = Alert.objects.get(msg_type=MessageType.UPDATE)
    assert response["Location"] == f"/console/alerts/alert/{update.pk}/change/"
    assert update.references == alert and update.status == AlertStatus.DRAFT
    assert services.alert_publish_problems(update) == []


def test_alert_list_query_count_is_pinned(officer_client, django_assert_max_num_queries):
    for n in range(20):
        make_alert(title_en=f"Alert {n}")
    officer_client.get("/console/alerts/alert/")
    # 10, and the remembered page for previous/next (a session write: 3 inside a test's
    # transaction, with its savepoint)
    with django_assert_max_num_queries(13):
        assert officer_client.get("/console/alerts/alert/").status_code == 200


def test_a_published_alert_opens_on_its_delivery_a_draft_on_its_text(officer_client):
    topic = make_topic("weather")
    make_subscription([topic], email="ann@example.com")
    alert = make_alert(topic=topic)
    url = f"/console/alerts/alert/{alert.pk}/change/"
    draft = officer_client.get(url).content.decode()
    assert draft.index("Headline (English)") < draft.index("Email subject")

    officer_client.post(f"/console/alerts/alert/{alert.pk}/act/publish/", {"confirmed": "yes"})
    delivery.alert_fan_out(alert_id=alert.pk)
    page = officer_client.get(url).content.decode()

    assert page.index("Deliveries by channel and state") < page.index("Headline (English)")
    assert page.index("Email subject") < page.index("Headline (English)")


def _form_data(alert, **changes):
    from django.forms.models import model_to_dict

    from alerts.admin import AlertForm

    data = model_to_dict(alert, fields=AlertForm._meta.fields)
    for name in ("effective", "onset", "expires"):
        moment = data.get(name)
        data[f"{name}_0"] = moment.strftime("%Y-%m-%d") if moment else ""
        data[f"{name}_1"] = moment.strftime("%H:%M:%S") if moment else ""
    data["neighborhoods"] = [n.pk for n in data.get("neighborhoods") or []]
    data.update(changes)
    return {k: ("" if v is None else v) for k, v in data.items()}


@pytest.mark.parametrize(
    ("where", "ticked", "error"),
    [
        (None, False, "Choose where the alert applies."),
        ("neighborhoods", False, "Tick at least one neighborhood, or choose the whole city."),
        ("city", True, "The whole city is chosen: untick the neighborhoods"),
    ],
)
def test_the_area_is_one_explicit_choice(officer_client, where, ticked, error):
    from cityhall.models import Neighborhood

    hood = Neighborhood.objects.create(
        name="Eastgate",
        slug="eastgate",
        boundary={"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [0, 0]]]},
    )
    alert = make_alert()
    data = _form_data(alert, citywide=where or "", neighborhoods=[hood.pk] if ticked else [])

    page = officer_client.post(f"/console/alerts/alert/{alert.pk}/change/", data).content.decode()

    assert error in page
    alert.refresh_from_db()
    assert alert.citywide is True and not alert.neighborhoods.exists()


def test_choosing_neighborhoods_saves_them_and_the_preview_names_them(officer_client):
    from cityhall.models import Neighborhood

    square = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [0, 0]]]}
    east = Neighborhood.objects.create(name="Eastgate", slug="eastgate", boundary=square)
    palms = Neighborhood.objects.create(name="Las Palmas", slug="las-palmas", boundary=square)
    alert = make_alert()
    data = _form_data(
        alert, citywide="neighborhoods", neighborhoods=[east.pk, palms.pk], _continue="1"
    )

    response = officer_client.post(f"/console/alerts/alert/{alert.pk}/change/", data)

    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.citywide is False
    page = officer_client.get(f"/console/alerts/alert/{alert.pk}/change/").content.decode()
    assert "Area: Eastgate and Las Palmas" in page
    assert "Zona: Eastgate y Las Palmas" in page


def test_a_new_alert_has_no_area_chosen(officer_client):
    page = officer_client.get("/console/alerts/alert/add/").content.decode()

    assert 'value="city"' in page and 'value="neighborhoods"' in page
    assert "checked" not in page.split('name="citywide"')[1].split(">")[0]
