"""Receipts for online payments and refunds (cityhall.payments sends the signals inside the
transaction that records the money; the notification commits with it and is sent after)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from cityhall.payments.registry import payable

from .constants import Channel
from .delivery import notify, notify_address


def _context(payment, language: str, **extra) -> dict:
    thing = payable(payment.kind)
    with translation.override(language):
        due = thing.due(thing.lookup(payment.reference))
        receipt_url = reverse("billing:receipt", args=[payment.token])
    return {"payment": payment, "due": due, "receipt_url": receipt_url, **extra}


def _send(template: str, payment, **extra) -> None:
    payer = payment.payer
    if payer is not None:
        context = _context(payment, payer.preferred_language, **extra)
        # A receipt is for email (and the inbox), not a text message.
        notify(
            user=payer,
            template=template,
            context=context,
            link=context["receipt_url"],
            channels=[Channel.EMAIL],
        )
    elif payment.billing_email:
        context = _context(payment, payment.language, **extra)
        notify_address(
            email=payment.billing_email,
            language=payment.language,
            template=template,
            context=context,
        )


def payment_receipt(sender, payment, due, **kwargs) -> None:
    _send("payment_receipt", payment)


def refund_receipt(sender, refund, payment, due, **kwargs) -> None:
    _send("refund_receipt", payment, refund=refund)
