"""Production: every secret comes from the environment, nothing insecure by default."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    _HSTS_SECONDS_ENV,
    _SSL_REDIRECT_ENV,
    SECRET_KEY,
    SMS_BACKEND,
    SMTP_URL,
    STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM_NUMBER,
)

if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters."
    )
if not SMTP_URL:
    raise ImproperlyConfigured(
        "SMTP_URL must be set in production (smtp://user:password@host:587)."
    )

if SMS_BACKEND == "alerts.sms.TwilioSmsBackend" and not (
    TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER
):
    raise ImproperlyConfigured(
        "The Twilio SMS backend needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER."
    )

# Payments: the demo provider takes no money, so production must name a real one.
_PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER", "")
if _PAYMENT_PROVIDER not in ("stripe",):
    raise ImproperlyConfigured(
        "PAYMENT_PROVIDER must be set in production: stripe (the demo provider, test, takes no "
        "money)."
    )
if _PAYMENT_PROVIDER == "stripe" and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured(
        "The Stripe provider needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (the webhook "
        "endpoint's signing secret, for /payments/webhook/stripe/)."
    )

DEBUG = False
DEMO_DATA_ALLOWED = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_SSL_REDIRECT = True if _SSL_REDIRECT_ENV is None else _SSL_REDIRECT_ENV
SECURE_HSTS_SECONDS = 31_536_000 if _HSTS_SECONDS_ENV is None else _HSTS_SECONDS_ENV
