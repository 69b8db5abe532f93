"""What a resident reads, for the browser journeys: the page they land on (its heading and the
sentence they came for), and the emails and texts the journey sends them (read, checked for
program text, every link opening the server under test)."""

from __future__ import annotations

import re
from html import unescape

from django.core import mail
from playwright.sync_api import expect

from alerts import sms
from alerts.constants import DeliveryStatus
from alerts.delivery import alert_fan_out, delivery_send
from alerts.models import Delivery

URL = re.compile(r"https?://[^\s<>\"']+")
HREF = re.compile(r"href=\"([^\"]+)\"")
PROGRAM_TEXT = re.compile(r"<QuerySet|object at 0x|\bNone\b|\{\{|\}\}|\{%|%\}")


def choose(page, label: str) -> None:
    """Click the (radio or checkbox) label that starts with `label`."""
    page.locator("label", has_text=re.compile(f"^{re.escape(label)}")).first.click()


def sees(page, a11y, heading: str, sentence: str) -> None:
    """The page a person lands on: its heading, the sentence they came for; then axe."""
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    try:
        expect(page.locator("main")).to_contain_text(sentence)
    finally:
        a11y(page)  # a page without its sentence is one failure, not a second one at teardown


def worker_sends(alert=None) -> None:
    """What the worker does after the commit: fan a published alert out, send what is due.
    The worker itself is tested in alerts/tests/test_fan_out_worker.py."""
    if alert is not None:
        alert_fan_out(alert_id=alert.pk)
    for pk in Delivery.objects.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True):
        delivery_send(delivery_id=pk)


def on_this_server(live_server, links: list[str]) -> list[str]:
    """Each link once, each one opening the server that sent it (settings.SITE_URL)."""
    links = list(dict.fromkeys(link.rstrip(".,;:)") for link in links))
    elsewhere = [link for link in links if not link.startswith(f"{live_server.url}/")]
    assert not elsewhere, f"links that do not open this server ({live_server.url}): {elsewhere}"
    return links


def read_email(live_server, *, to: str, subject: str, says: str) -> list[str]:
    """Take the one email to `to` with this subject out of the outbox and read it: the key
    sentence is there, no program text, and every link opens this server. Returns the links."""
    found = [email for email in mail.outbox if email.to == [to] and email.subject == subject]
    sent = [email.subject for email in mail.outbox if to in email.to]
    assert len(found) == 1, f"emails to {to}: {sent}"
    email = found[0]
    mail.outbox.remove(email)
    html = "".join(alternative[0] for alternative in email.alternatives)
    assert says in email.body, email.body
    for part in (email.subject, email.body, html):
        assert not PROGRAM_TEXT.search(part), part
    hrefs = [unescape(href) for href in HREF.findall(html)]
    return on_this_server(live_server, URL.findall(email.body) + hrefs)


def read_text(live_server, *, to: str, says: str) -> tuple[str, list[str]]:
    """Take the one text to `to` out of the outbox and read it like `read_email`.
    Returns the text and its links."""
    found = [text for text in sms.outbox if text["to"] == to]
    assert len(found) == 1, f"texts to {to}: {found}"
    sms.outbox.remove(found[0])
    body = found[0]["body"]
    assert says in body, body
    assert not PROGRAM_TEXT.search(body), body
    return body, on_this_server(live_server, URL.findall(body))


def nothing_else_sent() -> None:
    """Every email and text the journey sent has been read."""
    worker_sends()
    assert not mail.outbox, [(email.to, email.subject) for email in mail.outbox]
    assert not sms.outbox, sms.outbox
