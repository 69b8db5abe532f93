"""Subscribing to alerts, confirming, unsubscribing, and a resident's own alerts and messages.

Sending happens in Celery tasks queued on commit; in these tests the on-commit callbacks never
run (the test's transaction never commits), so each test sends the pending deliveries itself
with `delivery_send`, as the worker would.
"""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from alerts import sms
from alerts.constants import Channel, DeliveryStatus
from alerts.delivery import alert_fan_out, delivery_send
from alerts.models import Delivery, Notification, Subscription
from alerts.services import alert_publish, notify
from alerts.tokens import unsubscribe_token
from tests.personas import signed_in_client

from .factories import make_alert, make_subscription, make_topic

pytestmark = pytest.mark.django_db

SITE_URL = "https://riverbend.example"
PHONE = "+14082104412"


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    settings.SMS_BACKEND = "alerts.sms.LocmemSmsBackend"
    settings.SITE_URL = SITE_URL
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def weather(db):
    return make_topic("weather")


@pytest.fixture
def water(db):
    return make_topic("water")


# --- helpers ----------------------------------------------------------------------------------


def pending(channel: str | None = None):
    rows = Delivery.objects.filter(status=DeliveryStatus.PENDING)
    return rows.filter(channel=channel) if channel else rows


def send_pending(channel: str | None = None) -> list[str | None]:
    """What the worker does: send every pending delivery (of one channel)."""
    return [delivery_send(delivery_id=pk) for pk in pending(channel).values_list("pk", flat=True)]


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            self.inputs.append(dict(attrs))


def find_input(page: str, name: str, value: str | None = None) -> dict | None:
    parser = _Inputs()
    parser.feed(page)
    for attrs in parser.inputs:
        if attrs.get("name") == name and (value is None or attrs.get("value") == value):
            return attrs
    return None


def is_checked(page: str, name: str, value: str) -> bool:
    attrs = find_input(page, name, value)
    assert attrs is not None, f"no <input name={name} value={value}> on the page"
    return "checked" in attrs


def field_error(page: str, field: str) -> str | None:
    """The error message shown next to a field (None if there is none)."""
    match = re.search(
        rf'<span class="usa-error-message" id="id_{field}_error">(.*?)</span>', page, re.S
    )
    return html_lib.unescape(match.group(1)).strip() if match else None


def subscribe_data(chosen_topics, **overrides) -> dict:
    data = {
        "how": "email",
        "email": "",
        "phone": "",
        "language": "en",
        "topics": [str(topic.pk) for topic in chosen_topics],
        "area": "city",
    }
    data.update(overrides)
    return data


def assert_nothing_stored():
    assert Subscription.objects.count() == 0
    assert Notification.objects.count() == 0
    assert Delivery.objects.count() == 0


# --- 1. Subscribing by email ------------------------------------------------------------------


def subscribe_by_email_in_spanish(client, topic):
    response = client.post(
        "/alerts/subscribe/",
        subscribe_data([topic], email="Carmen@Example.com", language="es"),
    )
    assert response.status_code == 302
    assert response["Location"] == "/alerts/subscribe/sent/"
    return response


def test_email_subscription_is_confirmed_with_a_button(client, weather, mailoutbox):
    response = subscribe_by_email_in_spanish(client, weather)
    assert "Check your email" in client.get(response["Location"]).content.decode()

    subscription = Subscription.objects.get()
    assert subscription.email == "carmen@example.com"
    assert subscription.language == "es"
    assert subscription.by_email and not subscription.by_sms
    assert subscription.confirmed_at is None
    assert list(subscription.topics.all()) == [weather]

    # Exactly one message waits to go out: the confirmation email, in Spanish.
    delivery = pending().get()
    assert delivery.channel == Channel.EMAIL
    assert delivery.address == "carmen@example.com"
    assert delivery.notification.language == "es"

    assert delivery_send(delivery_id=delivery.pk) == DeliveryStatus.SENT
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["carmen@example.com"]
    # The link leads to the Spanish site.
    links = re.findall(r"https?://\S+/alerts/subscribe/confirm/\S+/", mail.body)
    assert len(links) == 1
    link = urlsplit(links[0])
    assert f"{link.scheme}://{link.netloc}" == SITE_URL
    assert re.fullmatch(r"/es/alerts/subscribe/confirm/[^/]+/", link.path)
    assert links[0] in mail.alternatives[0].content

    # Opening the link (or a mail scanner opening it) shows a button and confirms nothing.
    page = client.get(link.path)
    assert page.status_code == 200
    assert 'lang="es"' in page.content.decode()
    assert re.search(
        r'<form method="post">.*?<button[^>]*type="submit"', page.content.decode(), re.S
    )
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None

    # Pressing the button confirms.
    confirmed = client.post(link.path)
    assert confirmed.status_code == 200
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None


def test_confirmation_email_is_written_in_spanish(client, weather, mailoutbox):
    subscribe_by_email_in_spanish(client, weather)
    assert send_pending(Channel.EMAIL) == [DeliveryStatus.SENT]
    mail = mailoutbox[0]
    assert 'lang="es"' in mail.alternatives[0].content
    # A Spanish speaker reads Spanish, not the English wording.
    assert mail.subject
    assert mail.subject != "Confirm your alert subscription"
    assert "Someone, probably you, asked for alerts" not in mail.body
    assert "If it was not you, ignore this email" not in mail.body


# --- 2. Nothing goes to unconfirmed subscribers -----------------------------------------------


def test_unconfirmed_subscriber_gets_no_alerts(weather, admin_user):
    confirmed = make_subscription([weather], email="yes@example.com")
    unconfirmed = make_subscription([weather], email="notyet@example.com", confirmed=False)
    alert = make_alert(weather)

    assert list(Subscription.objects.for_alert(alert)) == [confirmed]
    assert unconfirmed not in Subscription.objects.for_alert(alert)

    alert_publish(alert=alert, actor=admin_user)
    alert_fan_out(alert_id=alert.pk)
    assert set(Delivery.objects.values_list("address", flat=True)) == {"yes@example.com"}
    assert not Notification.objects.filter(subscription=unconfirmed).exists()


# --- 3. Subscribing by text message -----------------------------------------------------------


def test_sms_subscription_is_confirmed_with_the_texted_code(client, weather):
    response = client.post(
        "/alerts/subscribe/",
        subscribe_data([weather], how="sms", phone="(408) 210-4412"),
    )
    assert response.status_code == 302
    code_page = response["Location"]
    assert re.fullmatch(r"/alerts/subscribe/code/[^/]+/", code_page)
    page = client.get(code_page)
    assert page.status_code == 200
    assert find_input(page.content.decode(), "code") is not None

    subscription = Subscription.objects.get()
    assert subscription.phone == PHONE
    assert subscription.by_sms and not subscription.by_email
    assert subscription.confirmed_at is None

    assert send_pending(Channel.SMS) == [DeliveryStatus.SENT]
    assert len(sms.outbox) == 1
    text = sms.outbox[0]
    assert text["to"] == PHONE
    code = re.search(r"\b(\d{6})\b", text["body"]).group(1)

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(code_page, {"code": wrong})
    assert response.status_code == 200
    assert field_error(response.content.decode(), "code") == (
        "That code is not right. Check the text message and try again."
    )
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None

    response = client.post(code_page, {"code": code})
    assert response.status_code == 200
    assert "You are subscribed" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None
    assert subscription.phone == PHONE


# --- 4. Bad input -----------------------------------------------------------------------------


def test_invalid_email_shows_error_and_keeps_what_was_typed(client, weather, water):
    response = client.post(
        "/alerts/subscribe/",
        subscribe_data([water], email="carmen@", language="es"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert field_error(page, "email") == "Enter a valid email address."
    # What the person chose is still chosen.
    assert is_checked(page, "topics", str(water.pk))
    assert not is_checked(page, "topics", str(weather.pk))
    assert is_checked(page, "language", "es")
    assert not is_checked(page, "language", "en")
    assert is_checked(page, "how", "email")
    assert find_input(page, "email")["value"] == "carmen@"
    assert_nothing_stored()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"how": "sms", "phone": "12"},
            "phone",
            "That phone number does not exist. Check the area code and the number of digits.",
        ),
        ({"how": "sms", "phone": ""}, "phone", "Enter your mobile phone number."),
        ({"how": "email", "email": ""}, "email", "Enter your email address."),
        (
            {"email": "carmen@example.com", "area": "neighborhoods"},
            "neighborhoods",
            "Choose at least one neighborhood, or choose anywhere in the city.",
        ),
        (
            {"email": "carmen@example.com", "topics": []},
            "topics",
            "Choose at least one kind of alert.",
        ),
    ],
    ids=["invalid-phone", "sms-without-phone", "email-without-address", "no-area", "no-topic"],
)
def test_bad_input_shows_the_field_error_and_stores_nothing(
    client, weather, overrides, field, message
):
    response = client.post("/alerts/subscribe/", subscribe_data([weather], **overrides))
    assert response.status_code == 200
    page = response.content.decode()
    assert field_error(page, field) == message
    assert "There is a problem" in page  # the error summary at the top
    assert_nothing_stored()


# --- 5. Unsubscribing without signing in ------------------------------------------------------


def test_unsubscribe_link_needs_a_post_and_no_sign_in(weather):
    subscription = make_subscription([weather], email="carmen@example.com")
    token = unsubscribe_token(channel=Channel.EMAIL, subscription_id=subscription.pk)
    url = f"/alerts/unsubscribe/{token}/"
    client = Client(enforce_csrf_checks=True)

    page = client.get(url)
    assert page.status_code == 200
    assert re.search(r"<button[^>]*>\s*Unsubscribe\s*</button>", page.content.decode())
    # Before the button: which messages, sent where (masked), and that nothing changed yet.
    assert "Stop these emails?" in page.content.decode()
    assert "City alerts about Weather, sent to c••••@example.com." in page.content.decode()
    assert "Nothing changes until you press the button." in page.content.decode()
    assert "You will not get" not in page.content.decode()
    subscription.refresh_from_db()
    assert subscription.by_email

    # What a mail client sends for RFC 8058 one-click: no cookie, no CSRF token.
    response = client.post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    subscription.refresh_from_db()
    assert not subscription.by_email
    assert subscription.email_unsubscribed_at is not None


def test_tampered_unsubscribe_link_is_refused(weather):
    subscription = make_subscription([weather], email="carmen@example.com")
    token = unsubscribe_token(channel=Channel.EMAIL, subscription_id=subscription.pk)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    client = Client(enforce_csrf_checks=True)

    assert client.get(f"/alerts/unsubscribe/{tampered}/").status_code == 400
    response = client.post(
        f"/alerts/unsubscribe/{tampered}/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.by_email


# --- 6. Alert emails carry one-click unsubscribe headers --------------------------------------


def test_alert_email_has_one_click_unsubscribe_headers(weather, admin_user, mailoutbox):
    subscription = make_subscription([weather], email="carmen@example.com")
    alert = make_alert(weather)
    alert_publish(alert=alert, actor=admin_user)
    assert alert_fan_out(alert_id=alert.pk) == 1
    assert send_pending() == [DeliveryStatus.SENT]

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["carmen@example.com"]
    assert "Heat advisory" in mail.subject
    mime = mail.message()
    assert str(mime["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    header = str(mime["List-Unsubscribe"])
    match = re.fullmatch(r"<(https://\S+)>", header)
    assert match, header
    url = urlsplit(match.group(1))
    assert f"{url.scheme}://{url.netloc}" == SITE_URL
    assert url.path.startswith("/alerts/unsubscribe/")
    assert match.group(1) in mail.body  # the same link in the footer, for people

    response = Client(enforce_csrf_checks=True).post(
        url.path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert not subscription.by_email


# --- 7. A resident's own alerts and messages --------------------------------------------------


def my_alerts_data(chosen_topics, **overrides) -> dict:
    data = {
        "topics": [str(topic.pk) for topic in chosen_topics],
        "area": "city",
        "by_email": "on",
        "language": "en",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_resident_saves_alert_choices_and_sees_them_on_me(alice, weather):
    client = signed_in_client(alice)
    assert client.get("/me/alerts/").status_code == 200

    response = client.post("/me/alerts/", my_alerts_data([weather]))
    assert response.status_code == 302
    assert response["Location"] == "/me/alerts/"
    assert "Your alert choices have been saved." in client.get("/me/alerts/").content.decode()

    subscription = Subscription.objects.get(user=alice)
    assert subscription.by_email and not subscription.by_sms
    assert subscription.confirmed_at is not None  # the account email is already verified
    assert list(subscription.topics.all()) == [weather]
    assert subscription.channels() == [Channel.EMAIL]

    me = client.get("/me/").content.decode()
    assert "You get alerts about: Weather." in me
    assert "You are not subscribed to any alerts." not in me


def test_text_messages_need_a_phone_in_the_profile(alice, weather):
    assert not alice.phone
    client = signed_in_client(alice)
    response = client.post("/me/alerts/", my_alerts_data([weather], by_sms="on"))
    assert response.status_code == 200
    assert field_error(response.content.decode(), "by_sms") == (
        "Add a mobile phone number to your profile to get text messages."
    )
    assert not Subscription.objects.filter(user=alice).exists()


def test_stop_all_alerts_turns_every_channel_off(alice, weather):
    alice.phone = PHONE
    alice.phone_confirmed_at = timezone.now()  # confirmed by its code
    alice.save()
    client = signed_in_client(alice)
    client.post("/me/alerts/", my_alerts_data([weather], by_sms="on"))
    subscription = Subscription.objects.get(user=alice)
    assert subscription.by_email and subscription.by_sms
    assert "Stop all alerts" in client.get("/me/alerts/").content.decode()

    response = client.post("/me/alerts/", {"action": "stop"})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert not subscription.by_email and not subscription.by_sms
    assert subscription.channels() == []
    assert "You are not subscribed to any alerts." in client.get("/me/").content.decode()


def test_residents_see_only_their_own_subscription_and_messages(alice, bob, weather):
    alice_client = signed_in_client(alice)
    bob_client = signed_in_client(bob)
    alice_client.post("/me/alerts/", my_alerts_data([weather]))
    assert Subscription.objects.filter(user=alice).exists()
    message = notify(user=alice, template="subscription_code", context={"code": "123456"})

    bob_me = bob_client.get("/me/").content.decode()
    assert "You are not subscribed to any alerts." in bob_me
    assert f"/me/messages/{message.pk}/" not in bob_me
    assert f"/me/messages/{message.pk}/" not in bob_client.get("/me/messages/").content.decode()
    assert not is_checked(bob_client.get("/me/alerts/").content.decode(), "topics", str(weather.pk))
    assert bob_client.get(f"/me/messages/{message.pk}/").status_code == 404
    message.refresh_from_db()
    assert message.read_at is None

    assert f"/me/messages/{message.pk}/" in alice_client.get("/me/").content.decode()
    response = alice_client.get(f"/me/messages/{message.pk}/")
    assert response.status_code == 200
    assert "123456" in response.content.decode()
    message.refresh_from_db()
    assert message.read_at is not None


# --- 8. notify() follows the resident's preferences -------------------------------------------


def channels_of(notification) -> dict[str, str]:
    return dict(notification.deliveries.values_list("channel", "status"))


def test_notify_uses_email_but_not_sms_unless_chosen(alice):
    alice.phone = PHONE
    alice.phone_confirmed_at = timezone.now()  # confirmed by its code
    alice.notify_by_email = True
    alice.notify_by_sms = False
    alice.save()

    notification = notify(user=alice, template="subscription_code", context={"code": "123456"})
    assert notification.language == "en"
    assert notification.subject == "Your confirmation code"
    assert channels_of(notification) == {
        Channel.PORTAL: DeliveryStatus.SENT,
        Channel.EMAIL: DeliveryStatus.PENDING,
    }
    assert notification.deliveries.get(channel=Channel.EMAIL).address == alice.email

    alice.notify_by_sms = True
    alice.save()
    notification = notify(user=alice, template="subscription_code", context={"code": "654321"})
    assert channels_of(notification) == {
        Channel.PORTAL: DeliveryStatus.SENT,
        Channel.EMAIL: DeliveryStatus.PENDING,
        Channel.SMS: DeliveryStatus.PENDING,
    }
    assert notification.deliveries.get(channel=Channel.SMS).address == PHONE


def test_notify_writes_to_a_spanish_resident_in_spanish(bob, mailoutbox):
    notification = notify(user=bob, template="subscription_code", context={"code": "123456"})
    assert notification.language == "es"
    assert notification.subject
    assert notification.subject != "Your confirmation code"
    assert "Your confirmation code is" not in notification.body_text
    assert "123456" in notification.body_text

    assert send_pending(Channel.EMAIL) == [DeliveryStatus.SENT]
    assert mailoutbox[0].to == [bob.email]
    assert mailoutbox[0].subject == notification.subject
    assert timezone.now() >= notification.deliveries.get(channel=Channel.PORTAL).sent_at


def test_the_confirmation_email_also_carries_one_click_unsubscribe(client):
    from alerts.delivery import delivery_send
    from alerts.models import Delivery

    topic = make_topic("weather")
    client.post(
        "/alerts/subscribe/",
        {
            "how": "email",
            "email": "pat@example.com",
            "language": "en",
            "topics": [topic.pk],
            "area": "city",
        },
    )
    for delivery in Delivery.objects.filter(status="pending"):
        delivery_send(delivery_id=delivery.pk)
    from django.core import mail

    message = mail.outbox[-1]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/alerts/unsubscribe/" in message.extra_headers["List-Unsubscribe"]


def test_the_unsubscribe_page_says_which_texts_in_spanish(weather):
    subscription = make_subscription([weather], phone="+14082104412", email="")
    token = unsubscribe_token(channel=Channel.SMS, subscription_id=subscription.pk)

    page = Client().get(f"/es/alerts/unsubscribe/{token}/").content.decode()

    assert "¿Dejar de recibir estos mensajes de texto?" in page
    assert "•••• 4412" in page and "4082104412" not in page
