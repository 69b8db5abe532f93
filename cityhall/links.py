"""Absolute links: every address the city sends out (email, text, feed, CAP message, inbox)
starts from SITE_URL, through these two functions. `make run` sets SITE_URL from PORT, so the
links in the demo's emails open the server that sent them."""

from __future__ import annotations

from django.conf import settings


def site_url() -> str:
    """The site's root, without the trailing slash: "https://cityhall.example.gov"."""
    return settings.SITE_URL.rstrip("/")


def absolute_url(path: str) -> str:
    """`path` (as reverse() returns it) on the public site."""
    if not path.startswith("/"):
        raise ValueError(f"Not a site path: {path!r}")
    return site_url() + path
