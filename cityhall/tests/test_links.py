"""Every absolute link the city sends starts from SITE_URL, through cityhall.links."""

from __future__ import annotations

import pytest

from cityhall.links import absolute_url, site_url


def test_links_start_from_site_url(settings):
    settings.SITE_URL = "http://127.0.0.1:8123/"

    assert site_url() == "http://127.0.0.1:8123"
    assert absolute_url("/alerts/7/") == "http://127.0.0.1:8123/alerts/7/"


def test_a_link_needs_a_site_path(settings):
    with pytest.raises(ValueError):
        absolute_url("alerts/7/")


@pytest.mark.django_db
def test_alert_emails_and_texts_use_site_url(settings):
    from alerts.rendering import render_notification
    from alerts.tests.factories import make_alert

    settings.SITE_URL = "http://127.0.0.1:8123"
    english = render_notification("alert", {"alert": make_alert()}, language="en")

    assert "http://127.0.0.1:8123/alerts/" in english.text
    assert "http://127.0.0.1:8123/alerts/" in english.sms
