"""Text messages: length and segments, and the backends that send them.

Backends share one method, `send(to=..., body=...) -> provider message id`, and raise
`SmsError` (with `retryable`) when the provider refuses. The Twilio backend speaks Twilio's REST
API over HTTPS; its base URL is a setting so the tests can point it at a local fake server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

# GSM 03.38: the basic set costs one septet, the extension set two (escape + character).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    per_segment: int


def sms_length(text: str) -> SmsLength:
    """How a text is billed: GSM-7 fits 160 in one segment (153 each when split); anything
    outside GSM-7 (á, í, ó, ú, emoji...) makes the whole text UCS-2: 70, or 67 each."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return SmsLength(encoding, units, 1 if units else 0, single)
    return SmsLength(encoding, units, -(-units // multi), multi)


class SmsError(Exception):
    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class SmsBackend(ABC):
    @abstractmethod
    def send(self, *, to: str, body: str) -> str:
        """Send one text; return the provider's message id or raise SmsError."""


class FileSmsBackend(SmsBackend):
    """Development and tests: one JSON line per text in settings.SMS_FILE_PATH."""

    _lock = threading.Lock()

    def send(self, *, to: str, body: str) -> str:
        message_id = f"file-{uuid.uuid4().hex}"
        line = json.dumps({"id": message_id, "to": to, "body": body}, ensure_ascii=False) + "\n"
        path = settings.SMS_FILE_PATH
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # O_APPEND keeps lines whole across the worker's processes.
        with self._lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
        return message_id


outbox: list[dict] = []


class LocmemSmsBackend(SmsBackend):
    """Tests in one process: texts collect in `alerts.sms.outbox`."""

    def send(self, *, to: str, body: str) -> str:
        message_id = f"locmem-{len(outbox) + 1}"
        outbox.append({"id": message_id, "to": to, "body": body})
        return message_id


class TwilioSmsBackend(SmsBackend):
    """Twilio's Messages API: POST /2010-04-01/Accounts/{sid}/Messages.json."""

    timeout = 15

    def send(self, *, to: str, body: str) -> str:
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        url = f"{settings.TWILIO_API_BASE.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
        data = urllib.parse.urlencode(
            {"To": to, "From": settings.TWILIO_FROM_NUMBER, "Body": body}
        ).encode()
        # The URL is built from settings (https in production); never from user input.
        request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310
        credentials = base64.b64encode(f"{sid}:{token}".encode()).decode()
        request.add_header("Authorization", f"Basic {credentials}")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            detail = _twilio_error(error)
            # 4xx means the request itself is wrong (bad number, unsubscribed): retrying won't help,
            # except 429 (rate limited).
            retryable = error.code >= 500 or error.code == 429
            raise SmsError(
                f"Twilio answered {error.code}: {detail}", retryable=retryable
            ) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SmsError(f"Could not reach Twilio: {error}") from error
        if not payload.get("sid"):
            raise SmsError("Twilio's answer had no message id")
        return payload["sid"]


def _twilio_error(error: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(error.read() or b"{}")
    except ValueError:
        return error.reason or "error"
    return f"{payload.get('message', error.reason)} (code {payload.get('code', '?')})"


def get_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()


def twilio_signature(*, url: str, params: dict[str, str], auth_token: str) -> str:
    """Twilio's X-Twilio-Signature: HMAC-SHA1 over the URL plus the sorted POST parameters."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(
    *, url: str, params: dict[str, str], signature: str, auth_token: str
) -> bool:
    if not auth_token or not signature:
        return False
    expected = twilio_signature(url=url, params=params, auth_token=auth_token)
    return hmac.compare_digest(expected, signature)
