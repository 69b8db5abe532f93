"""The payment providers, on django-payments' BasicProvider API, plus what City Hall needs of
every provider besides: refunds with our idempotency key, a signed webhook event, the day's
transactions and payouts for reconciliation.

- `StripeProvider`: Stripe Checkout (hosted page), django-payments' StripeProviderV3 with an
  idempotency key on every write, the payer's language on the page, and expiry read as
  abandonment.
- `DemoProvider`: `make run`'s provider. Its "hosted page" is a page of this site where a demo
  card succeeds, is declined or needs authentication; no card number is ever typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import stripe
from django.urls import reverse
from django.utils import timezone, translation
from payments import PaymentError, PaymentStatus, RedirectNeeded
from payments.core import BasicProvider
from payments.stripe import StripeProviderV3

from cityhall.links import absolute_url

ABANDONED_AFTER = timedelta(hours=1)  # the demo page: no answer in an hour is abandoned


@dataclass(frozen=True)
class Transaction:
    """One movement of money at the provider, in dollars: a charge (+) or a refund (negative)."""

    kind: str  # "charge" | "refund"
    provider_reference: str  # the charge's payment id, or the refund's id
    payment_reference: str  # the payment it belongs to (our Payment.provider_reference)
    amount: Decimal
    fee: Decimal
    at: datetime


@dataclass(frozen=True)
class Payout:
    reference: str
    amount: Decimal
    arrival: str


@dataclass(frozen=True)
class RefundResult:
    provider_reference: str
    succeeded: bool
    message: str = ""


def _dollars(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


class StripeProvider(StripeProviderV3):
    def __init__(self, api_key, endpoint_secret=None, api_base="", **kwargs) -> None:
        super().__init__(api_key=api_key, endpoint_secret=endpoint_secret, use_token=True, **kwargs)
        if api_base:
            stripe.api_base = api_base  # tests: the local fake server
        stripe.max_network_retries = 2  # safe: every write carries an idempotency key

    def create_session(self, payment):
        if payment.transaction_id:
            raise PaymentError("This payment has already been sent to Stripe.")
        stripe.api_key = self.api_key
        try:
            return stripe.checkout.Session.create(
                mode="payment",
                line_items=[
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": payment.currency.lower(),
                            "unit_amount": _cents(payment.total),
                            "product_data": {"name": payment.description[:250]},
                        },
                    }
                ],
                success_url=payment.get_success_url(),
                cancel_url=payment.get_failure_url(),
                client_reference_id=payment.token,
                customer_email=payment.billing_email or None,
                locale="es" if payment.language == "es" else "en",
                metadata={"token": payment.token, "reference": payment.reference},
                payment_intent_data={"metadata": {"token": payment.token}},
                idempotency_key=str(payment.idempotency_key),
            ).to_dict()  # django-payments keeps it as JSON on the payment
        except stripe.StripeError as error:
            raise PaymentError(str(error)) from error

    def status(self, payment):
        """Ask Stripe where the session stands: paid, expired (abandoned) or still open."""
        if payment.status != PaymentStatus.WAITING or not payment.transaction_id:
            return payment
        stripe.api_key = self.api_key
        try:
            session = stripe.checkout.Session.retrieve(payment.transaction_id).to_dict()
        except stripe.StripeError as error:
            raise PaymentError(str(error)) from error
        self.apply_session(payment, session)
        return payment

    def apply_session(self, payment, session) -> None:
        """Move a waiting payment by what its Checkout Session says. A payment already
        confirmed, refunded or rejected is never moved back by a late or replayed event."""
        if payment.status != PaymentStatus.WAITING:
            return
        if session.get("payment_status") == "paid":
            if _cents(payment.total) != session.get("amount_total", _cents(payment.total)):
                payment.change_status(PaymentStatus.ERROR, "Stripe charged a different amount.")
                return
            payment.captured_amount = payment.total
            payment.provider_reference = session.get("payment_intent") or ""
            payment.save(update_fields=["captured_amount", "provider_reference"])
            payment.change_status(PaymentStatus.CONFIRMED)
        elif session.get("status") == "expired":
            payment.change_status(PaymentStatus.REJECTED, "The payment page expired.")

    def event(self, request) -> dict:
        """The webhook's event, its signature verified (and its age: a replay beyond Stripe's
        five-minute tolerance is refused)."""
        try:
            event = self.return_event_payload(request)
        except (ValueError, stripe.SignatureVerificationError) as error:
            raise PaymentError("The webhook's signature does not verify.", code=400) from error
        return event.to_dict() if hasattr(event, "to_dict") else event

    def event_token(self, event) -> str:
        obj = event.get("data", {}).get("object", {})
        return obj.get("client_reference_id") or ""

    def apply_event(self, payment, event) -> None:
        if event.get("type") in (
            "checkout.session.completed",
            "checkout.session.async_payment_succeeded",
            "checkout.session.async_payment_failed",
            "checkout.session.expired",
        ):
            session = event["data"]["object"]
            if event["type"] == "checkout.session.async_payment_failed":
                if payment.status == PaymentStatus.WAITING:
                    payment.change_status(PaymentStatus.REJECTED, "The payment failed.")
                return
            self.apply_session(payment, session)

    def refund_with_key(self, payment, amount: Decimal, key: str) -> RefundResult:
        stripe.api_key = self.api_key
        try:
            refund = stripe.Refund.create(
                payment_intent=payment.provider_reference,
                amount=_cents(amount),
                reason="requested_by_customer",
                metadata={"token": payment.token},
                idempotency_key=key,
            ).to_dict()
        except stripe.StripeError as error:
            raise PaymentError(str(error)) from error
        return RefundResult(
            refund.get("id", ""),
            refund.get("status") in ("succeeded", "pending"),
            refund.get("failure_reason") or "",
        )

    def transactions(self, start: datetime, end: datetime) -> list[Transaction]:
        stripe.api_key = self.api_key
        rows = []
        try:
            listing = stripe.BalanceTransaction.list(
                created={"gte": int(start.timestamp()), "lt": int(end.timestamp())},
                limit=100,
                expand=["data.source"],
            )
            for entry in listing.auto_paging_iter():
                item = entry.to_dict()
                source = item.get("source") or {}
                if isinstance(source, str):
                    source = {"id": source}
                kind = "refund" if item["type"] in ("refund", "payment_refund") else "charge"
                if item["type"] not in ("charge", "payment", "refund", "payment_refund"):
                    continue
                rows.append(
                    Transaction(
                        kind=kind,
                        provider_reference=source.get("id", ""),
                        payment_reference=source.get("payment_intent") or "",
                        amount=_dollars(item["amount"]),
                        fee=_dollars(item.get("fee", 0)),
                        at=datetime.fromtimestamp(item["created"], tz=UTC),
                    )
                )
        except stripe.StripeError as error:
            raise PaymentError(str(error)) from error
        return rows

    def payouts(self, start: datetime, end: datetime) -> list[Payout]:
        stripe.api_key = self.api_key
        try:
            listing = stripe.Payout.list(
                arrival_date={"gte": int(start.timestamp()), "lt": int(end.timestamp())},
                limit=100,
            )
            return [
                Payout(
                    p["id"],
                    _dollars(p["amount"]),
                    datetime.fromtimestamp(p["arrival_date"], tz=UTC).date().isoformat(),
                )
                for p in listing.auto_paging_iter()
            ]
        except stripe.StripeError as error:
            raise PaymentError(str(error)) from error


class DemoProvider(BasicProvider):
    """A provider for `make run` and demos: a page of this site plays the hosted payment page."""

    def get_form(self, payment, data=None):
        if not payment.transaction_id:
            payment.transaction_id = f"demo_{payment.token}"
            payment.save(update_fields=["transaction_id"])
        with translation.override(payment.language):
            raise RedirectNeeded(absolute_url(reverse("billing:demo", args=[payment.token])))

    def status(self, payment):
        from .models import DemoCharge

        if payment.status != PaymentStatus.WAITING:
            return payment
        charge = DemoCharge.objects.filter(token=payment.token).first()
        if charge is None or charge.outcome == DemoCharge.Outcome.NEEDS_AUTHENTICATION:
            if timezone.now() - payment.created > ABANDONED_AFTER:
                payment.change_status(PaymentStatus.REJECTED, "The payment page was abandoned.")
            return payment
        if charge.outcome == DemoCharge.Outcome.DECLINED:
            payment.change_status(PaymentStatus.REJECTED, "The card was declined.")
            return payment
        payment.captured_amount = charge.amount
        payment.provider_reference = f"demo_ch_{charge.pk}"
        payment.save(update_fields=["captured_amount", "provider_reference"])
        payment.change_status(PaymentStatus.CONFIRMED)
        return payment

    def event(self, request) -> dict:
        raise PaymentError("The demo provider sends no webhooks.", code=404)

    def refund_with_key(self, payment, amount: Decimal, key: str) -> RefundResult:
        from .models import DemoCharge

        charge = DemoCharge.objects.select_for_update().get(token=payment.token)
        for done in charge.refunds:
            if done["id"] == f"demo_re_{key}":
                return RefundResult(done["id"], True)
        if charge.refunded + amount > charge.amount:
            raise PaymentError("The refund is more than what is left of the charge.")
        charge.refunded += amount
        refund_id = f"demo_re_{key}"
        charge.refunds = [
            *charge.refunds,
            {"id": refund_id, "amount": str(amount), "at": timezone.now().isoformat()},
        ]
        charge.save(update_fields=["refunded", "refunds", "updated_at"])
        return RefundResult(refund_id, True)

    def transactions(self, start: datetime, end: datetime) -> list[Transaction]:
        from .models import DemoCharge

        rows = []
        charges = DemoCharge.objects.filter(
            outcome=DemoCharge.Outcome.SUCCEEDED, updated_at__gte=start - timedelta(days=90)
        )
        for charge in charges:
            if start <= charge.created_at < end:
                rows.append(
                    Transaction(
                        "charge",
                        f"demo_ch_{charge.pk}",
                        f"demo_ch_{charge.pk}",
                        charge.amount,
                        Decimal(0),
                        charge.created_at,
                    )
                )
            for refund in charge.refunds:
                at = datetime.fromisoformat(refund["at"])
                if start <= at < end:
                    rows.append(
                        Transaction(
                            "refund",
                            refund["id"],
                            f"demo_ch_{charge.pk}",
                            -Decimal(refund["amount"]),
                            Decimal(0),
                            at,
                        )
                    )
        return rows

    def payouts(self, start: datetime, end: datetime) -> list[Payout]:
        net = sum((t.amount for t in self.transactions(start, end)), Decimal(0))
        if not net:
            return []
        return [
            Payout(f"demo_po_{start:%Y%m%d}", net, (start + timedelta(days=2)).date().isoformat())
        ]
