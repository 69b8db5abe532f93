"""Signed one-click unsubscribe links: no sign-in, no expiry, nothing guessable."""

from __future__ import annotations

from django.core import signing

SALT = "alerts.unsubscribe"


def unsubscribe_token(
    *, channel: str, subscription_id: int | None = None, user_id: int | None = None
) -> str:
    payload = {"c": channel}
    if subscription_id is not None:
        payload["s"] = subscription_id
    if user_id is not None:
        payload["u"] = user_id
    return signing.dumps(payload, salt=SALT, compress=True)


def read_unsubscribe_token(token: str) -> dict | None:
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or "c" not in payload or not ({"s", "u"} & payload.keys()):
        return None
    return payload


CONFIRM_SALT = "alerts.confirm-email"


def confirm_email_token(subscription_id: int) -> str:
    return signing.dumps(subscription_id, salt=CONFIRM_SALT)


def read_confirm_email_token(token: str, *, max_age: int = 7 * 24 * 3600) -> int | None:
    try:
        return int(signing.loads(token, salt=CONFIRM_SALT, max_age=max_age))
    except (signing.BadSignature, ValueError, TypeError):
        return None
