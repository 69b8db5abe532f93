"""Public alert pages, the banner, the Atom feed and its CAP links."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import services
from alerts.constants import AlertStatus

from .factories import make_alert, make_topic

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def publish(admin_user):
    def run(**fields):
        return services.alert_publish(alert=make_alert(**fields), actor=admin_user)

    return run


def test_alerts_page_shows_active_first_then_archive(client, publish):
    old = make_alert(
        title_en="Old heat warning",
        status=AlertStatus.EXPIRED,
        published_at=timezone.now() - timedelta(days=40),
    )
    active = publish(title_en="Road closed on Main Street")
    body = client.get("/alerts/").content.decode()
    assert body.index("In effect now") < body.index(active.title_en) < body.index("Past alerts")
    assert body.index("Past alerts") < body.index(old.title_en)


def test_draft_alerts_are_not_public(client):
    draft = make_alert()
    assert client.get(f"/alerts/{draft.pk}/").status_code == 404
    assert client.get(f"/alerts/{draft.pk}/cap.xml").status_code == 404


def test_filter_by_topic(client, publish):
    publish(topic=make_topic("weather"), title_en="Storm tonight")
    publish(topic=make_topic("traffic"), title_en="Bridge closed")
    body = client.get("/alerts/?topic=traffic").content.decode()
    assert "Bridge closed" in body and "Storm tonight" not in body


def test_spanish_pages_show_spanish(client, publish):
    alert = publish()
    body = client.get(f"/es/alerts/{alert.pk}/").content.decode()
    assert alert.title_es in body and alert.title_en not in body


def test_banner_on_every_page_for_severe_alerts_only(client, publish):
    publish(title_en="Minor thing", severity="Minor")
    assert "usa-site-alert" not in client.get("/").content.decode()
    severe = publish(title_en="Evacuate Oak Hill now", severity="Extreme")
    from django.core.cache import cache

    cache.clear()  # publish invalidates on commit; tests run inside one transaction
    for path in ("/", "/accessibility/", "/alerts/"):
        assert severe.title_en in client.get(path).content.decode()


@pytest.mark.parametrize("count", [3, 30])
def test_alerts_page_query_count_does_not_grow(
    client, publish, count, django_assert_max_num_queries
):
    topic = make_topic("weather")
    for n in range(count):
        publish(topic=topic, title_en=f"Alert {n}")
    client.get("/alerts/")
    with django_assert_max_num_queries(6):
        assert client.get("/alerts/").status_code == 200


def test_atom_feed_parses_and_every_link_resolves(client, publish):
    alerts = [publish(title_en=f"Alert {n}") for n in range(3)]
    response = client.get("/alerts/feed.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == len(alerts)
    for entry in entries:
        for link in entry.findall(f"{ATOM}link"):
            path = link.get("href").split("://", 1)[1].split("/", 1)[1]
            linked = client.get("/" + path)
            assert linked.status_code == 200, link.get("href")
            if link.get("type") == "application/cap+xml":
                assert linked["Content-Type"].startswith("application/cap+xml")
                assert ET.fromstring(linked.content).tag.endswith("}alert")
