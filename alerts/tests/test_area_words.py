"""An alert says where in plain words, in the reader's language: in the email, the console's
preview (the same rendering) and the public page."""

from __future__ import annotations

import pytest

from alerts.rendering import render_notification
from cityhall.models import Neighborhood

from .factories import make_alert

pytestmark = pytest.mark.django_db

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}


def _hood(name):
    return Neighborhood.objects.create(
        name=name, slug=name.lower().replace(" ", "-"), boundary=SQUARE
    )


def test_named_neighborhoods_read_as_a_list():
    alert = make_alert(citywide=False)
    alert.neighborhoods.set([_hood("Las Palmas"), _hood("Eastgate"), _hood("Downtown")])

    english = render_notification("alert", {"alert": alert}, language="en")
    spanish = render_notification("alert", {"alert": alert}, language="es")

    assert "Area: Downtown, Eastgate and Las Palmas" in english.text
    assert "Downtown, Eastgate and Las Palmas" in english.html
    assert "Zona: Downtown, Eastgate y Las Palmas" in spanish.text
    assert "QuerySet" not in english.text + english.html + spanish.text + spanish.html


def test_the_whole_city_reads_so():
    alert = make_alert(citywide=True)

    assert (
        "Area: The whole city" in render_notification("alert", {"alert": alert}, language="en").text
    )
    assert (
        "Zona: Toda la ciudad" in render_notification("alert", {"alert": alert}, language="es").text
    )


def test_one_neighborhood_is_just_its_name():
    alert = make_alert(citywide=False)
    alert.neighborhoods.set([_hood("Eastgate")])

    assert alert.area_words() == "Eastgate"


@pytest.mark.parametrize(
    ("severity", "english", "spanish"),
    [
        ("Severe", "Urgent alert: ", "Alerta urgente: "),
        ("Extreme", "Urgent alert: ", "Alerta urgente: "),
        ("Moderate", "City alert: ", "Aviso de la ciudad: "),
        ("Minor", "City alert: ", "Aviso de la ciudad: "),
    ],
)
def test_the_subject_says_how_urgent_in_plain_words(severity, english, spanish):
    alert = make_alert(severity=severity)

    assert render_notification("alert", {"alert": alert}, language="en").subject.startswith(english)
    assert render_notification("alert", {"alert": alert}, language="es").subject.startswith(spanish)


def test_the_public_page_says_how_serious_in_plain_words_not_cap_terms(client):
    from alerts import services
    from cityhall.roles import Role
    from tests.personas import make_staff

    alert = make_alert(severity="Moderate", urgency="Expected")
    services.alert_publish(alert=alert, actor=make_staff(Role.COMMUNICATIONS_OFFICER))

    english = client.get(f"/alerts/{alert.pk}/").content.decode()
    spanish = client.get(f"/es/alerts/{alert.pk}/").content.decode()

    assert "May affect you: take note" in english
    assert "Puede afectarle: téngalo en cuenta" in spanish
    assert "act within the next hour" not in english and "Urgency" not in english
