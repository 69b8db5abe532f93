"""Redaction rules for public-records exports: what a free-text field may not carry."""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# US numbers however typed: (555) 123-4567, 555.123.4567, +1 555 123 4567, 5551234567.
_PHONE = re.compile(r"(?<!\w)(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)")


def redact_text(text: str | None) -> str:
    """Email addresses and phone numbers a person typed into a description or a note."""
    if not text:
        return ""
    return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, text))
