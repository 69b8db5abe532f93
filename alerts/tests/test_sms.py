"""Text messages: segment counting, the Twilio backend against a local fake server, retries
through the delivery engine, and the STOP webhook."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

import pytest
from django.utils import timezone

from alerts import sms
from alerts.constants import Channel, DeliveryStatus
from alerts.delivery import delivery_send
from alerts.models import Delivery, Subscription
from alerts.services import notify
from alerts.sms import SmsError, TwilioSmsBackend, get_backend, sms_length, twilio_signature

from .factories import make_subscription, make_topic

PHONE = "+14082104412"
OTHER_PHONE = "+14085550199"
SITE_URL = "https://riverbend.example"
AUTH_TOKEN = "secret"


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    settings.SMS_BACKEND = "alerts.sms.LocmemSmsBackend"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


# --- 9. Length and segments -------------------------------------------------------------------


def test_plain_text_fits_160_characters_in_one_segment():
    length = sms_length("a" * 160)
    assert (length.encoding, length.units, length.segments, length.per_segment) == (
        "GSM-7",
        160,
        1,
        160,
    )


def test_longer_plain_text_is_split_into_153_character_segments():
    length = sms_length("a" * 161)
    assert (length.encoding, length.segments, length.per_segment) == ("GSM-7", 2, 153)
    assert sms_length("a" * 306).segments == 2
    assert sms_length("a" * 307).segments == 3


def test_n_tilde_and_inverted_marks_are_gsm7_but_acute_accents_are_not():
    assert sms_length("¿Año nuevo? ¡Señal!").encoding == "GSM-7"
    assert sms_length("Canción").encoding == "UCS-2"


def test_accented_letter_switches_to_ucs2_with_70_per_segment():
    one = sms_length("á" + "a" * 69)
    assert (one.encoding, one.units, one.segments, one.per_segment) == ("UCS-2", 70, 1, 70)
    two = sms_length("á" + "a" * 70)
    assert (two.encoding, two.units, two.segments, two.per_segment) == ("UCS-2", 71, 2, 67)


def test_euro_sign_costs_two_septets():
    assert sms_length("€").units == 2
    assert sms_length("€").encoding == "GSM-7"
    assert sms_length("€" * 80).segments == 1
    assert sms_length("€" * 80 + "a").segments == 2


def test_empty_text_is_no_segments():
    length = sms_length("")
    assert length.units == 0
    assert length.segments == 0


# --- 10. The Twilio backend against a local fake server ---------------------------------------


class FakeTwilio:
    """What the fake server received, and what it answers next."""

    def __init__(self, port: int):
        self.port = port
        self.requests: list[dict] = []
        self.status = 201
        self.body: bytes = json.dumps({"sid": "SM1"}).encode()

    def respond(self, status: int, payload: dict | None = None) -> None:
        self.status = status
        self.body = json.dumps(payload).encode() if payload is not None else b""


@pytest.fixture
def fake_twilio(settings, monkeypatch):
    state: dict[str, FakeTwilio] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            fake = state["fake"]
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            fake.requests.append(
                {
                    "path": self.path,
                    "authorization": self.headers.get("Authorization", ""),
                    "content_type": self.headers.get("Content-Type", ""),
                    "form": dict(parse_qsl(raw.decode())),
                }
            )
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(fake.body)))
            self.end_headers()
            self.wfile.write(fake.body)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    state["fake"] = FakeTwilio(port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # A proxy configured in the environment must not swallow requests to the fake server.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    settings.SMS_BACKEND = "alerts.sms.TwilioSmsBackend"
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{port}"
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = "+14085550100"
    try:
        yield state["fake"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_twilio_backend_posts_the_message_with_basic_auth(fake_twilio):
    backend = get_backend()
    assert isinstance(backend, TwilioSmsBackend)

    assert backend.send(to=PHONE, body="Riverbend: boil water until further notice") == "SM1"

    assert len(fake_twilio.requests) == 1
    request = fake_twilio.requests[0]
    assert request["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    scheme, _, credentials = request["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == "AC123:secret"
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {
        "To": PHONE,
        "From": "+14085550100",
        "Body": "Riverbend: boil water until further notice",
    }


def test_twilio_server_error_is_retryable(fake_twilio):
    fake_twilio.respond(500, {"code": 20500, "message": "Internal Server Error"})
    with pytest.raises(SmsError) as caught:
        TwilioSmsBackend().send(to=PHONE, body="hello")
    assert caught.value.retryable is True
    assert "500" in str(caught.value)


def test_twilio_rejected_number_is_not_retried(fake_twilio):
    fake_twilio.respond(400, {"code": 21211, "message": "Invalid 'To' Phone Number"})
    with pytest.raises(SmsError) as caught:
        TwilioSmsBackend().send(to="+15005550001", body="hello")
    assert caught.value.retryable is False
    assert "Invalid 'To' Phone Number" in str(caught.value)
    assert "21211" in str(caught.value)


# --- 11. Through the delivery engine ----------------------------------------------------------


@pytest.fixture
def texted_alice(alice):
    """Alice wants email and text messages."""
    alice.phone = PHONE
    alice.phone_confirmed_at = timezone.now()  # confirmed by its code
    alice.notify_by_email = True
    alice.notify_by_sms = True
    alice.save()
    return alice


def _deliveries(notification) -> tuple[Delivery, Delivery]:
    return (
        notification.deliveries.get(channel=Channel.SMS),
        notification.deliveries.get(channel=Channel.EMAIL),
    )


@pytest.mark.django_db
def test_provider_failure_is_recorded_and_retried_later(
    fake_twilio, texted_alice, settings, mailoutbox
):
    settings.DELIVERY_MAX_ATTEMPTS = 5
    settings.DELIVERY_RETRY_BASE_SECONDS = 30
    fake_twilio.respond(500, {"code": 20500, "message": "Internal Server Error"})
    notification = notify(user=texted_alice, template="subscription_code", context={"code": "1"})
    text, email = _deliveries(notification)

    assert delivery_send(delivery_id=text.pk) == DeliveryStatus.PENDING
    text.refresh_from_db()
    assert text.attempts == 1
    assert text.status == DeliveryStatus.PENDING
    assert "500" in text.last_error
    assert text.next_attempt_at > timezone.now()
    assert text.sent_at is None

    # Not due yet: a second worker run does not hit the provider again.
    assert delivery_send(delivery_id=text.pk) is None
    assert len(fake_twilio.requests) == 1

    # The email of the same message is not held up by the failing text provider.
    assert delivery_send(delivery_id=email.pk) == DeliveryStatus.SENT
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [texted_alice.email]


@pytest.mark.django_db
def test_delivery_fails_for_good_after_the_last_attempt(
    fake_twilio, texted_alice, settings, mailoutbox
):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    settings.DELIVERY_RETRY_BASE_SECONDS = 0  # due again at once
    fake_twilio.respond(500, {"code": 20500, "message": "Internal Server Error"})
    notification = notify(user=texted_alice, template="subscription_code", context={"code": "1"})
    text, email = _deliveries(notification)

    assert delivery_send(delivery_id=text.pk) == DeliveryStatus.PENDING
    assert delivery_send(delivery_id=text.pk) == DeliveryStatus.FAILED
    text.refresh_from_db()
    assert text.status == DeliveryStatus.FAILED
    assert text.attempts == 2
    assert "Twilio answered 500" in text.last_error
    assert "Internal Server Error" in text.last_error
    # Failed is final: nothing more goes to the provider.
    assert delivery_send(delivery_id=text.pk) is None
    assert len(fake_twilio.requests) == 2

    assert delivery_send(delivery_id=email.pk) == DeliveryStatus.SENT
    email.refresh_from_db()
    assert email.status == DeliveryStatus.SENT
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_rejected_number_fails_at_once(fake_twilio, texted_alice, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 5
    fake_twilio.respond(400, {"code": 21211, "message": "Invalid 'To' Phone Number"})
    notification = notify(user=texted_alice, template="subscription_code", context={"code": "1"})
    text, _email = _deliveries(notification)

    assert delivery_send(delivery_id=text.pk) == DeliveryStatus.FAILED
    text.refresh_from_db()
    assert text.attempts == 1
    assert "Invalid 'To' Phone Number" in text.last_error


# --- 12. The STOP webhook ---------------------------------------------------------------------

INBOUND = "/alerts/sms/inbound/"


@pytest.fixture
def inbound_settings(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.SITE_URL = SITE_URL
    return settings


def inbound_params(body: str, *, sender: str = PHONE) -> dict[str, str]:
    return {
        "MessageSid": "SM0123456789abcdef0123456789abcdef",
        "AccountSid": "AC123",
        "From": sender,
        "To": "+14085550100",
        "Body": body,
        "NumMedia": "0",
    }


def signed(params: dict[str, str], *, auth_token: str = AUTH_TOKEN) -> str:
    return twilio_signature(url=SITE_URL + INBOUND, params=params, auth_token=auth_token)


def post_inbound(client, params: dict[str, str], signature: str | None):
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return client.post(
        INBOUND,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


@pytest.fixture
def texters(db, alice):
    """Two anonymous text subscribers (one on PHONE), and Alice with PHONE in her profile."""
    topic = make_topic("weather")
    on_phone = make_subscription([topic], phone=PHONE)
    other = make_subscription([topic], phone=OTHER_PHONE)
    alice.phone = PHONE
    alice.phone_confirmed_at = timezone.now()  # confirmed by its code
    alice.notify_by_sms = True
    alice.save()
    queued = notify(user=alice, template="subscription_code", context={"code": "1"})
    return {
        "on_phone": on_phone,
        "other": other,
        "alice": alice,
        "queued": queued.deliveries.get(channel=Channel.SMS),
    }


@pytest.mark.parametrize("word", ["STOP", "ALTO", "stop"])
def test_stop_text_turns_text_messages_off_for_that_number(client, inbound_settings, texters, word):
    params = inbound_params(word)
    response = post_inbound(client, params, signed(params))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert "<Response/>" in response.content.decode()

    on_phone = Subscription.objects.get(pk=texters["on_phone"].pk)
    assert not on_phone.by_sms
    assert on_phone.sms_unsubscribed_at is not None
    assert not Subscription.objects.filter(phone=PHONE, by_sms=True).exists()
    assert Subscription.objects.get(pk=texters["other"].pk).by_sms  # another number: unchanged
    texters["alice"].refresh_from_db()
    assert not texters["alice"].notify_by_sms
    texters["queued"].refresh_from_db()
    assert texters["queued"].status == DeliveryStatus.SKIPPED


def test_other_texts_change_nothing(client, inbound_settings, texters):
    params = inbound_params("What is this?")
    response = post_inbound(client, params, signed(params))
    assert response.status_code == 200
    assert Subscription.objects.get(pk=texters["on_phone"].pk).by_sms


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "forged",
        signed(inbound_params("STOP"), auth_token="not-the-token"),
        signed(inbound_params("HELLO")),  # signed for another body
    ],
    ids=["missing", "empty", "garbage", "wrong-token", "other-params"],
)
def test_unsigned_or_badly_signed_stop_is_refused(client, inbound_settings, texters, signature):
    response = post_inbound(client, inbound_params("STOP"), signature)

    assert response.status_code == 403
    assert Subscription.objects.get(pk=texters["on_phone"].pk).by_sms
    texters["alice"].refresh_from_db()
    assert texters["alice"].notify_by_sms
    texters["queued"].refresh_from_db()
    assert texters["queued"].status == DeliveryStatus.PENDING
