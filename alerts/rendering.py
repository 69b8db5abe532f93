"""Rendering a notification in one language: subject, plain text, HTML and SMS.

Templates live in alerts/templates/alerts/notifications/<name>/{subject,body,sms}.txt and
body.html; another app's notice passes its own name and context.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from cityhall.links import site_url


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str


def render_notification(template: str, context: dict, *, language: str) -> Rendered:
    base = f"alerts/notifications/{template}"
    context = {
        "CITY": settings.CITY,
        "SITE_URL": site_url(),
        **context,
        "language": language,
    }
    with translation.override(language):
        subject = " ".join(render_to_string(f"{base}/subject.txt", context).split())
        text = render_to_string(f"{base}/body.txt", context).strip() + "\n"
        html = render_to_string(f"{base}/body.html", context)
        sms = " ".join(render_to_string(f"{base}/sms.txt", context).split())
    return Rendered(subject=subject, text=text, html=html, sms=sms)
