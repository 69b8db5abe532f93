"""Settings shared by every environment. The only module that reads the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse, urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from .env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = BASE_DIR / ".data"

# --- Environment -----------------------------------------------------------------------------
SECRET_KEY = env_str("SECRET_KEY", None)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "cityhall.views.csrf_failure"
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql"))
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
# A streaming replica of DATABASE_URL that dashboards and exports read (cityhall/dbrouter.py).
DATABASE_REPLICA_URL = env_url("DATABASE_REPLICA_URL", None, schemes=("postgres", "postgresql"))
# Set when DATABASE_URL is a pooler in transaction mode (PgBouncer): no server-side cursors.
DATABASE_TRANSACTION_POOLING = env_bool("DATABASE_TRANSACTION_POOLING", False)
SMTP_URL = env_url("SMTP_URL", None, schemes=("smtp", "smtps"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "City of Riverbend <noreply@riverbend.example>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
SIGNUP_OPEN = env_bool("SIGNUP_OPEN", True)
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https"))
TIME_ZONE = env_str("TIME_ZONE", "America/Los_Angeles")
_SSL_REDIRECT_ENV = env_bool("SECURE_SSL_REDIRECT", None)  # production: on unless set off
_HSTS_SECONDS_ENV = env_int("SECURE_HSTS_SECONDS", None, minimum=0)  # production: 1 year
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "riverbend-demo")
DEMO_DATA_ALLOWED = True  # production.py turns it off: no demo data, no demo password sign-in
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 2, minimum=1)
MAIL_FILE_PATH = env_str("MAIL_FILE_PATH", None)
TEST_DATABASE_NAME = env_str(
    "TEST_DATABASE_NAME", None
)  # make test: one per run, so runs can overlap
SMS_BACKEND = env_str("SMS_BACKEND", "alerts.sms.FileSmsBackend")
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(DATA_DIR / "sms" / "outbox.jsonl"))
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
TWILIO_API_BASE = env_url("TWILIO_API_BASE", "https://api.twilio.com", schemes=("https", "http"))
# --- Online payments (cityhall/payments, django-payments) ---------------------------------------
# "test" is the demo provider (`make run`): a page of this site plays the card page. Production
# must choose (production.py refuses the demo).
PAYMENT_PROVIDER = env_str("PAYMENT_PROVIDER", "test")
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_url("STRIPE_API_BASE", "https://api.stripe.com", schemes=("https", "http"))
# Charged on top of what is owed and shown before paying: "2.50" dollars or "2.5%".
PAYMENT_CONVENIENCE_FEE = env_str("PAYMENT_CONVENIENCE_FEE", "0")
# History pages show changes; nothing is changed from them ("revert" would bypass workflows,
# permissions and reasons: a retention rule, a legal hold, a permit's status).
SIMPLE_HISTORY_REVERT_DISABLED = True
# Records disposed of per transaction by the nightly disposal (cityhall.records).
RECORDS_DISPOSAL_BATCH = int(env_str("RECORDS_DISPOSAL_BATCH", "500"))
PAYMENT_CURRENCY = "USD"
PAYMENT_MODEL = "billing.Payment"
PAYMENT_VARIANTS = {
    "test": ("cityhall.payments.providers.DemoProvider", {}),
    "stripe": (
        "cityhall.payments.providers.StripeProvider",
        {
            "api_key": STRIPE_SECRET_KEY,
            "endpoint_secret": STRIPE_WEBHOOK_SECRET,
            "api_base": STRIPE_API_BASE,
        },
    ),
}
PAYMENT_HOST = urlsplit(SITE_URL).netloc
PAYMENT_USES_SSL = SITE_URL.startswith("https://")

# The provider's limit on sending, for the whole city (every worker together), enforced by the app
# in Redis: "N/s", "N/m" or "N/h"; empty means as fast as the provider takes them.
ALERTS_EMAIL_RATE = env_str("ALERTS_EMAIL_RATE", "")
ALERTS_SMS_RATE = env_str("ALERTS_SMS_RATE", "5/s")
# Deliveries per send task: emails of one task go over one SMTP connection.
SEND_BATCH_SIZE = env_int("SEND_BATCH_SIZE", 100, minimum=1)
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 5, minimum=1)
DELIVERY_RETRY_BASE_SECONDS = env_int("DELIVERY_RETRY_BASE_SECONDS", 30, minimum=0)
DELIVERY_SWEEP_AFTER_SECONDS = env_int("DELIVERY_SWEEP_AFTER_SECONDS", 120, minimum=0)
# A row still "sending" this long after its claim belongs to a worker that died mid-send.
DELIVERY_RECLAIM_AFTER_SECONDS = env_int("DELIVERY_RECLAIM_AFTER_SECONDS", 360, minimum=1)
# Public pages that are the same for every anonymous visitor (home, alerts, permit types, the
# map, performance, Open311 lists) are kept this long in Redis; changes invalidate them at once.
PUBLIC_PAGE_SECONDS = env_int("PUBLIC_PAGE_SECONDS", 60, minimum=0)
# The KPI dashboard's numbers per period, kept until the next roll-up run (at most this long).
KPI_NUMBERS_SECONDS = env_int("KPI_NUMBERS_SECONDS", 3900, minimum=0)
# Open datasets up to this many rows are streamed from the database; larger ones are served from
# a file the worker rebuilds when the data changes (checked every OPEN_DATA_REFRESH_SECONDS).
OPEN_DATA_LIVE_ROWS = env_int("OPEN_DATA_LIVE_ROWS", 20000, minimum=0)
OPEN_DATA_REFRESH_SECONDS = env_int("OPEN_DATA_REFRESH_SECONDS", 600, minimum=60)
FAN_OUT_BATCH_SIZE = env_int("FAN_OUT_BATCH_SIZE", 500, minimum=1)
AXES_FAILURE_LIMIT = env_int("CONSOLE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CONSOLE_LOCKOUT_MINUTES", 15, minimum=1))

for _name, _rate in (
    ("ALERTS_EMAIL_RATE", ALERTS_EMAIL_RATE),
    ("ALERTS_SMS_RATE", ALERTS_SMS_RATE),
):
    _count, _slash, _unit = _rate.partition("/")
    if _rate and not (_count.isdigit() and _unit in {"s", "m", "h"}):
        raise ImproperlyConfigured(
            f"{_name} must look like 20/s, 300/m or 1000/h (or be empty), not {_rate!r}."
        )

if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}."
    )

# --- The city --------------------------------------------------------------------------------
CITY = {
    "name": env_str("CITY_NAME", "City of Riverbend"),
    "state": env_str("CITY_STATE", "California"),
    "state_code": env_str("CITY_STATE_CODE", "CA"),
    "email": env_str("CITY_CONTACT_EMAIL", "cityhall@riverbend.example"),
    "phone": env_str("CITY_CONTACT_PHONE", "(555) 010-4400"),
    "address": env_str("CITY_ADDRESS", "100 Main Street, Riverbend, CA 95000"),
}

# CAP: who the city is as an alert sender (stable: alert identities, references and the Atom ids
# never change when SITE_URL does), and the optional IPAWS profile.
CAP_SENDER = env_str("CAP_SENDER", "cityhall@" + CITY["email"].rsplit("@", 1)[-1])
CAP_IPAWS_PROFILE = env_bool("CAP_IPAWS_PROFILE", False)
CAP_SAME_GEOCODE = env_str("CAP_SAME_GEOCODE", "006000")  # SAME/FIPS: 0 + state + county
CAP_EAS_ORG = env_str("CAP_EAS_ORG", "CIV")
CAP_BLOCKCHANNEL = env_list("CAP_BLOCKCHANNEL", [])
# Expired alerts leave the Atom feed after this long (they stay at their CAP address).
ALERTS_FEED_EXPIRED_HOURS = env_int("ALERTS_FEED_EXPIRED_HOURS", 48, minimum=0)

# Images larger than this are refused before they are decoded (a small PNG can be huge).
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 40_000_000, minimum=1)
# Photos of reports never sent, and documents of drafts withdrawn before submitting, are removed
# after this long.
ORPHAN_UPLOAD_HOURS = env_int("ORPHAN_UPLOAD_HOURS", 24, minimum=1)

# How many reverse proxies of ours stand in front of web (docker-compose: 1, the proxy service).
# X-Forwarded-For is believed only that far: lockouts and limits key on the real client address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
AXES_CLIENT_IP_CALLABLE = "cityhall.ratelimit.client_ip"

# Texts go only to these countries (ISO codes); the daily budget stops SMS pumping from costing
# more than a day's worth (severe and extreme alerts always go).
SMS_ALLOWED_COUNTRIES = env_list("SMS_ALLOWED_COUNTRIES", ["US"])
SMS_DAILY_BUDGET = env_int("SMS_DAILY_BUDGET", 2000, minimum=1)

# Limits on anonymous writes (cityhall.ratelimit): per client address and per destination.
RATE_LIMITS = {
    "subscribe": {"ip": "10/h", "destination": "3/h"},
    "report": {"ip": "20/h"},
    "photo": {"ip": "60/h"},
    "follow": {"ip": "20/h", "destination": "5/h"},
    "open311_post": {"ip": "120/h"},
    "resend_confirmation": {"ip": "10/h", "destination": "3/h"},
    "pay_lookup": {"ip": "20/h"},  # paying a fine by notice number and address
    "my_data": {"ip": "10/h"},  # "Download my data": password tries
}

# The largest request body accepted at all (a photo is at most 8 MB, a document 10 MB).
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 12 * 1024 * 1024, minimum=1024)

# --- Applications ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "cityhall.apps.ConsoleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "allauth",
    "allauth.account",
    "simple_history",
    "django_htmx",
    "cityhall",
    "portal",
    "alerts",
    "permits",
    "code_enforcement",
    "kpis",
    "cityhall.payments",
    "cityhall.records",
]

MIDDLEWARE = [
    "cityhall.middleware.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cityhall.middleware.StaffOTPRequiredMiddleware",
    "cityhall.middleware.RateLimitMiddleware",
    # Axes last: it turns a lockout raised during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cityhall.urls"
WSGI_APPLICATION = "cityhall.wsgi.application"
AUTH_USER_MODEL = "cityhall.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cityhall.context_processors.city",
                "alerts.context_processors.emergency_banner",
            ],
        },
    }
]
FORM_RENDERER = "cityhall.forms.CityFormRenderer"

# --- Data --------------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True
    )
}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
if DATABASE_TRANSACTION_POOLING:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True
    )
    DATABASES["replica"]["ENGINE"] = "django.db.backends.postgresql"
    DATABASES["replica"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_TRANSACTION_POOLING
    # Tests have no second server: the "replica" is the test database itself.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["cityhall.dbrouter.ReplicaRouter"]

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cityhall",
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Authentication ----------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "cityhall.security.DemoPasswordGuard",
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Twelve characters for everyone, residents and staff alike (ASVS 2.1.1).
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Staff only: not a password from a published breach (offline list, see cityhall/passwords.py).
    {"NAME": "cityhall.passwords.BreachedPasswordValidator"},
]
BREACHED_PASSWORDS_FILE = Path(
    env_str(
        "BREACHED_PASSWORDS_FILE", str(BASE_DIR / "cityhall" / "data" / "breached-passwords.txt")
    )
)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:me"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
# Signs in whoever confirms in the browser they signed up in (allauth checks the session).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_ADAPTER = "portal.adapters.ResidentAccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_LOGOUT_REDIRECT_URL = "portal:home"
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, written out so they are visible; counted in the Redis cache.
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "10/h/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "10/h/ip,3/h/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}

# django-otp: TOTP codes are throttled after failures (doubling delay per failure).
OTP_TOTP_ISSUER = CITY["name"]
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# django-axes guards only the console's password step; residents have allauth's limits.
AXES_ONLY_ADMIN_SITE = True
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "console/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
# The lockout counts per address and lower-cased email: "Alex@City.gov" is "alex@city.gov".
AXES_USERNAME_CALLABLE = "cityhall.security.axes_username"
# Staff sessions: 30 minutes idle, 12 hours at most (cityhall.middleware).
STAFF_SESSION_IDLE_MINUTES = env_int("STAFF_SESSION_IDLE_MINUTES", 30, minimum=1)
STAFF_SESSION_MAX_HOURS = env_int("STAFF_SESSION_MAX_HOURS", 12, minimum=1)
# Invitation links for new staff accounts work once, for this long.
STAFF_INVITATION_HOURS = env_int("STAFF_INVITATION_HOURS", 72, minimum=1)

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


# --- Email (Django 6.1 mailers) -----------------------------------------------------------------
def _smtp_mailer(url: str) -> dict:
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parsed.hostname,
            "port": parsed.port or (465 if parsed.scheme == "smtps" else 587),
            "username": unquote(parsed.username or ""),
            "password": unquote(parsed.password or ""),
            "use_ssl": parsed.scheme == "smtps",
            "use_tls": parsed.scheme == "smtp" and query.get("tls", ["1"])[0] != "0",
            "timeout": 20,
        },
    }


if SMTP_URL:
    MAILERS = {"default": _smtp_mailer(SMTP_URL)}
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": MAIL_FILE_PATH or str(DATA_DIR / "mail")},
        }
    }

# --- Maps ----------------------------------------------------------------------------------------
# The background tiles (empty: none). Whatever the tiles do, maps draw the city's own
# neighborhoods from our server, so a map is never a blank box.
MAP_TILE_URL = env_str("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "© OpenStreetMap contributors")
_TILE_ORIGIN = (
    f"{urlparse(MAP_TILE_URL).scheme}://{urlparse(MAP_TILE_URL).netloc}"
    if MAP_TILE_URL.startswith(("https://", "http://"))
    else None
)

# --- Security headers ----------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:", *([_TILE_ORIGIN] if _TILE_ORIGIN else [])],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "manifest-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    # Violations are reported to us and logged (cityhall.views.csp_report).
    "report-uri": ["/csp-report/"],
}
# Features no page uses are switched off for every page (geolocation: "use my location").
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(self), payment=(), usb=(), magnetometer=(), "
    "gyroscope=(), accelerometer=(), interest-cohort=()"
)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Load balancers and container health checks probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = bool(_SSL_REDIRECT_ENV)
SECURE_HSTS_SECONDS = _HSTS_SECONDS_ENV or 0
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Celery --------------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Long ETAs are never used (the design forbids them); one hour covers any task's runtime.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Two queues, both consumed by every worker unless told otherwise (-Q): "urgent" carries severe
# and extreme alerts, so a flood of other work never delays them; docker-compose also runs a
# worker for "urgent" alone.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("celery"), Queue("urgent"))
CELERY_BEAT_SCHEDULE = {
    "kpis-today": {"task": "kpis.tasks.rollup_today", "schedule": crontab(minute=7)},
    "kpis-yesterday": {
        "task": "kpis.tasks.rollup_yesterday",
        "schedule": crontab(minute=20, hour=1),
    },
    # Made on the 1st after the night's roll-up; the 2nd and 3rd catch up a missed run (each
    # report is made once and each manager emailed once).
    "kpis-monthly-report": {
        "task": "kpis.tasks.monthly_report",
        "schedule": crontab(minute=0, hour=7, day_of_month="1-3"),
    },
    "code-triage-breaches": {
        "task": "code_enforcement.tasks.triage_breaches",
        "schedule": crontab(minute=0),
    },
    "code-reinspections": {
        "task": "code_enforcement.tasks.reinspections_due",
        "schedule": crontab(minute=30, hour=6),
    },
    "code-owner-reminders": {
        "task": "code_enforcement.tasks.owner_reminders",
        "schedule": crontab(minute=0, hour=9),
    },
    "code-inspector-digests": {
        "task": "code_enforcement.tasks.inspector_digests",
        "schedule": crontab(minute=0, hour=6),
    },
    "payments-sweep-pending": {
        "task": "cityhall.payments.tasks.sweep_pending_payments",
        "schedule": 300.0,
    },
    "payments-reconcile": {
        "task": "cityhall.payments.tasks.reconcile_yesterday",
        "schedule": crontab(minute=30, hour=5),
    },
    "alerts-publish-scheduled": {"task": "alerts.tasks.publish_scheduled_alerts", "schedule": 60.0},
    "alerts-expire": {"task": "alerts.tasks.expire_alerts", "schedule": 60.0},
    "alerts-sweep-deliveries": {"task": "alerts.tasks.sweep_deliveries", "schedule": 30.0},
    "permits-renewal-reminders": {
        "task": "permits.tasks.send_renewal_reminders",
        "schedule": crontab(minute=0, hour=8),
    },
    "permits-expire": {
        "task": "permits.tasks.expire_permits",
        "schedule": crontab(minute=5, hour=0),
    },
    "permits-auto-renewals": {
        "task": "permits.tasks.create_auto_renewals",
        "schedule": crontab(minute=10, hour=0),
    },
    "code-orphan-photos": {
        "task": "code_enforcement.tasks.remove_orphan_photos",
        "schedule": crontab(minute=40),
    },
    "permits-orphan-documents": {
        "task": "permits.tasks.remove_orphan_documents",
        "schedule": crontab(minute=45),
    },
    "permits-open-data": {
        "task": "permits.tasks.refresh_open_data",
        "schedule": float(OPEN_DATA_REFRESH_SECONDS),
    },
    # The retention schedule (cityhall.records): after the night's roll-ups, which it seals.
    # Expired sessions are one of its record types (by default deleted once expired).
    "records-dispose": {
        "task": "cityhall.records.tasks.dispose",
        "schedule": crontab(minute=40, hour=2),
    },
}

# --- Logging -------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
