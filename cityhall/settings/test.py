"""The test suite: real PostgreSQL and Redis; email goes to memory (locmem)."""

from .base import *  # noqa: F403
from .base import DATABASES, MAIL_FILE_PATH, SECRET_KEY, TEST_DATABASE_NAME

SECRET_KEY = SECRET_KEY or "test-only-insecure-key"
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A worker started by a test writes mail to files the test can read (MAIL_FILE_PATH); the
# suite itself uses memory.
if not MAIL_FILE_PATH:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    SMS_BACKEND = "alerts.sms.LocmemSmsBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
CACHES["default"]["KEY_PREFIX"] = "cityhall-test"  # noqa: F405
# Every test sees its own data; tests of the public page cache turn it on (tests/test_pagecache.py).
PUBLIC_PAGE_SECONDS = 0
KPI_NUMBERS_SECONDS = 0
# Tests count their own failures; no request from one test may lock out another.
ACCOUNT_RATE_LIMITS = False

if TEST_DATABASE_NAME:
    DATABASES["default"]["TEST"] = {"NAME": TEST_DATABASE_NAME}
