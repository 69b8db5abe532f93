"""Writes for online payments: start one, settle it exactly once, refund it, sweep what was
left pending, reconcile a day with the provider.

Settling is the one place money enters our ledger. Whoever learns first that the provider took
the money (the payer's return, the webhook, the beat sweep) calls `settle_locked` with the
payment's row locked; `settled_at` makes every later call a no-op, so each payment is recorded
once however many times, and in whatever order, the news arrives.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from payments import PaymentError, PaymentStatus, RedirectNeeded
from payments.core import provider_factory

from cityhall.numbering import next_number

from .models import Payment, ProviderEvent, Reconciliation, Refund, RefundStatus
from .registry import Due, payable
from .signals import payment_settled, refund_succeeded

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
MINIMUM = Decimal("1.00")
PENDING_CHECK_AFTER = timedelta(minutes=5)


class ProviderUnavailable(Exception):
    """The provider did not answer or refused the request: nothing was charged."""


def provider(payment_or_variant):
    variant = getattr(payment_or_variant, "variant", payment_or_variant)
    return provider_factory(variant)


# --- Amounts -----------------------------------------------------------------------------------


def parse_convenience_fee(text: str) -> tuple[Decimal, bool]:
    """PAYMENT_CONVENIENCE_FEE: "" or "0" (none), "2.50" (flat dollars) or "2.5%" (of the
    amount). Returns (value, is_percent)."""
    text = (text or "0").strip()
    percent = text.endswith("%")
    try:
        value = Decimal(text.rstrip("%").strip() or "0")
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0 or (percent and value > 10):
        raise ValueError(
            f"PAYMENT_CONVENIENCE_FEE must be dollars (2.50) or a percent up to 10% (2.5%), "
            f"not {text!r}."
        )
    return value, percent


def convenience_fee(amount: Decimal) -> Decimal:
    value, percent = parse_convenience_fee(settings.PAYMENT_CONVENIENCE_FEE)
    fee = amount * value / 100 if percent else value
    return fee.quantize(CENT, rounding=ROUND_HALF_UP)


def check_amount(amount, due: Due) -> Decimal:
    """An amount the payer chose (a part of the balance) checked against the ledger."""
    if amount is None:
        raise ValidationError("Enter the amount to pay.", code="required")
    amount = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    if due.balance <= 0:
        raise ValidationError("Nothing is due.", code="nothing_due")
    if amount > due.balance:
        raise ValidationError("The amount is more than the balance due.", code="too_much")
    if amount < min(MINIMUM, due.balance):
        raise ValidationError("The amount must be at least $1.00.", code="too_little")
    return amount


# --- Starting ------------------------------------------------------------------------------------


def start(
    *,
    kind: str,
    reference: str,
    amount,
    key,
    payer=None,
    email: str = "",
    language: str = "en",
    ip: str | None = None,
) -> Payment:
    """The Payment row, created before the payer leaves for the provider. The same `key` (a
    double click, the back button and Pay again) gives back the same payment."""
    key = uuid.UUID(str(key))
    existing = Payment.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if (existing.kind, existing.reference) != (kind, reference):
            raise ValidationError("This payment form was for something else.", code="tampered")
        return existing
    thing = payable(kind)
    try:
        with transaction.atomic():
            obj = thing.lookup(reference, lock=True)
            if obj is None:
                raise ValidationError("There is nothing with that number to pay.", code="missing")
            due = thing.due(obj)
            amount = check_amount(amount, due)
            fee = convenience_fee(amount)
            return Payment.objects.create(
                variant=settings.PAYMENT_PROVIDER,
                kind=kind,
                reference=reference,
                amount=amount,
                convenience_fee=fee,
                total=amount + fee,
                currency=settings.PAYMENT_CURRENCY,
                description=f"{settings.CITY['name']}: {due.title}",
                billing_email=email or (payer.email if payer else "") or due.email,
                payer=payer,
                language=language,
                idempotency_key=key,
                customer_ip_address=ip,
            )
    except IntegrityError:
        # The same key from a second request at the same moment: that one won.
        return Payment.objects.get(idempotency_key=key)


def provider_page(payment: Payment) -> str:
    """The provider's hosted page for this payment (created once; asked again, the same)."""
    if payment.status != PaymentStatus.WAITING:
        raise ProviderUnavailable("This payment is no longer open.")
    try:
        payment.get_form()
    except RedirectNeeded as redirect:
        return str(redirect)
    except PaymentError as error:
        log.warning("payment %s: the provider refused or did not answer: %s", payment.pk, error)
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.WAITING).update(
            status=PaymentStatus.ERROR, message=str(error)[:500]
        )
        raise ProviderUnavailable(str(error)) from error
    raise ProviderUnavailable("The provider did not send the payer to its page.")


# --- Settling ------------------------------------------------------------------------------------


def _receipt_number(year: int) -> str:
    return f"R-{year}-{next_number(f'receipt:{year}'):06d}"


def settle_locked(payment: Payment) -> bool:
    """Record a confirmed payment in the ledger, once. `payment` is locked by the caller's
    transaction. Returns True when this call recorded it."""
    if payment.settled_at is not None or payment.status != PaymentStatus.CONFIRMED:
        return False
    thing = payable(payment.kind)
    obj = thing.lookup(payment.reference, lock=True)
    due_before = thing.due(obj)
    payment.overpaid = max(payment.amount - due_before.balance, Decimal(0))
    payment.settled_at = timezone.now()
    payment.receipt_number = _receipt_number(timezone.localdate().year)
    payment.save(update_fields=["overpaid", "settled_at", "receipt_number", "modified"])
    thing.settle(obj, payment)
    payment_settled.send(sender=Payment, payment=payment, due=thing.due(obj))
    return True


def refresh(payment_id: int) -> Payment:
    """Ask the provider where a waiting payment stands, and settle it if it was paid."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == PaymentStatus.WAITING and payment.transaction_id:
            try:
                provider(payment).status(payment)
            except PaymentError as error:
                log.warning("payment %s: status unknown: %s", payment.pk, error)
                return payment
        settle_locked(payment)
        return payment


def handle_event(variant: str, request) -> str:
    """A provider's webhook: verify it, then apply it to its payment under the row lock.
    Duplicates and replays of an event already applied change nothing."""
    try:
        backend = provider(variant)
    except ValueError as error:
        raise PaymentError("No such payment provider.", code=404) from error
    event = backend.event(request)
    event_id = event.get("id") or ""
    token = backend.event_token(event)
    if not token:
        return "ignored"
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(token=token, variant=variant).first()
        if payment is None:
            return "unknown payment"
        _seen, created = ProviderEvent.objects.get_or_create(
            event_id=event_id or f"{token}:{event.get('type')}",
            defaults={"kind": event.get("type", "")[:80], "payment": payment},
        )
        if not created:
            return "duplicate"
        backend.apply_event(payment, event)
        settle_locked(payment)
    return "ok"


def sweep_pending(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: payments still waiting five minutes after the payer left for the provider (the
    payer closed the tab, the webhook was lost, a worker died mid-way) and confirmed payments
    not yet in our ledger. Each is asked about and settled or closed; returns how many moved."""
    now = now or timezone.now()
    waiting = list(
        Payment.objects.filter(
            status=PaymentStatus.WAITING,
            created__lt=now - PENDING_CHECK_AFTER,
        )
        .exclude(transaction_id="")
        .order_by("created")
        .values_list("pk", flat=True)[:limit]
    )
    unsettled = list(
        Payment.objects.filter(status=PaymentStatus.CONFIRMED, settled_at__isnull=True)
        .order_by("created")
        .values_list("pk", flat=True)[:limit]
    )
    moved = 0
    for pk in [*unsettled, *waiting]:
        before = Payment.objects.values_list("status", "settled_at").get(pk=pk)
        try:
            after = refresh(pk)
        except Exception:
            # One payment that cannot be recorded (its transaction rolled back, nothing half
            # done) must not hold up the others: it is logged and tried again next time.
            log.exception("payment %s: could not be settled; the next sweep tries again", pk)
            continue
        moved += (after.status, after.settled_at) != before
    # Never sent to the provider (it was down): nothing was charged; close them after a day.
    Payment.objects.filter(
        status=PaymentStatus.WAITING, transaction_id="", created__lt=now - timedelta(days=1)
    ).update(status=PaymentStatus.CANCELLED, message="Never reached the provider.")
    return moved


# --- Refunds -------------------------------------------------------------------------------------


def refund(*, payment: Payment, amount, reason: str, actor) -> Refund:
    """Give money back through the provider. The Refund row commits first; the provider is then
    asked with the row's idempotency key; the ledger records it when the provider agrees. A
    failure is kept on the row (nothing recorded as refunded) and can be sent again."""
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the refund."})
    amount = Decimal(amount or 0).quantize(CENT, rounding=ROUND_HALF_UP)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.settled_at is None:
            raise ValidationError("Only a payment that went through can be refunded.")
        pending = locked.refunds.filter(status=RefundStatus.PENDING).exists()
        if pending:
            raise ValidationError("A refund of this payment is still being sent; wait for it.")
        if amount <= 0:
            raise ValidationError({"amount": "The amount must be more than zero."})
        if amount > locked.refundable:
            raise ValidationError(
                {"amount": f"At most ${locked.refundable} of this payment can be refunded."}
            )
        row = Refund.objects.create(
            payment=locked, amount=amount, reason=reason.strip(), requested_by=actor
        )
    return send_refund(row.pk)


def send_refund(refund_id: int) -> Refund:
    """Ask the provider for a pending refund (again, after a failure or a crash: the same key)."""
    row = Refund.objects.select_related("payment").get(pk=refund_id)
    if row.status == RefundStatus.SUCCEEDED:
        return row
    try:
        with transaction.atomic():
            result = provider(row.payment).refund_with_key(
                row.payment, row.amount, str(row.idempotency_key)
            )
    except PaymentError as error:
        Refund.objects.filter(pk=row.pk).update(status=RefundStatus.FAILED, error=str(error))
        row.refresh_from_db()
        return row
    if not result.succeeded:
        Refund.objects.filter(pk=row.pk).update(
            status=RefundStatus.FAILED, error=result.message or "The provider refused it."
        )
        row.refresh_from_db()
        return row
    with transaction.atomic():
        row = Refund.objects.select_for_update().get(pk=row.pk)
        if row.status == RefundStatus.SUCCEEDED:
            return row
        payment = Payment.objects.select_for_update().get(pk=row.payment_id)
        row.status = RefundStatus.SUCCEEDED
        row.provider_reference = result.provider_reference
        row.completed_at = timezone.now()
        row.error = ""
        row.save()
        payment.refunded += row.amount
        payment.captured_amount = payment.total - payment.refunded
        if payment.refunded >= payment.amount:
            payment.status = PaymentStatus.REFUNDED
        payment.save(update_fields=["refunded", "captured_amount", "status", "modified"])
        thing = payable(payment.kind)
        obj = thing.lookup(payment.reference, lock=True)
        thing.refunded(obj, payment, row)
        due = thing.due(obj)
        _spread_credit(payment.kind, payment.reference, due.credit)
        payment.refresh_from_db(fields=["overpaid"])
        refund_succeeded.send(sender=Refund, refund=row, payment=payment, due=due)
    return row


def _spread_credit(kind: str, reference: str, credit: Decimal) -> None:
    """What is still owed back (the record's credit, after a refund) is marked on its latest
    payments, each at most what is left of it: refunding either of two crossed payments
    clears the over-payment, and the console's "paid more than was due" list stays true."""
    left = credit
    for payment in (
        Payment.objects.select_for_update()
        .filter(kind=kind, reference=reference, settled_at__isnull=False)
        .order_by("-settled_at", "-pk")
    ):
        share = min(max(payment.amount - payment.refunded, Decimal(0)), left)
        left -= share
        if payment.overpaid != share:
            payment.overpaid = share
            payment.save(update_fields=["overpaid", "modified"])


def retry_refund(*, refund_row: Refund) -> Refund:
    if refund_row.status != RefundStatus.FAILED:
        raise ValidationError("Only a failed refund can be sent again.")
    Refund.objects.filter(pk=refund_row.pk, status=RefundStatus.FAILED).update(
        status=RefundStatus.PENDING
    )
    return send_refund(refund_row.pk)


# --- Reconciliation ------------------------------------------------------------------------------


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def reconcile(day: date, *, variant: str | None = None) -> Reconciliation:
    """One day, ours against the provider's: every payment settled and refund completed that
    day, the provider's charges and refunds, the totals by type, the payouts, and a mismatch
    wherever the two disagree (missing on one side, or a different amount)."""
    variant = variant or settings.PAYMENT_PROVIDER
    start, end = _day_bounds(day)
    backend = provider(variant)
    theirs = backend.transactions(start, end)
    payouts = backend.payouts(start, end)

    payments = list(
        Payment.objects.filter(variant=variant, settled_at__gte=start, settled_at__lt=end)
    )
    refunds = list(
        Refund.objects.filter(
            payment__variant=variant,
            status=RefundStatus.SUCCEEDED,
            completed_at__gte=start,
            completed_at__lt=end,
        ).select_related("payment")
    )
    rows = []
    ours: dict[str, Decimal] = {}
    for p in payments:
        ours[p.provider_reference] = p.total
        rows.append(
            {
                "type": "payment",
                "receipt": p.receipt_number,
                "paid_for": f"{p.kind} {p.reference}",
                "kind": p.kind,
                "provider_reference": p.provider_reference,
                "amount": _money(p.amount),
                "convenience_fee": _money(p.convenience_fee),
                "total": _money(p.total),
                "at": timezone.localtime(p.settled_at).isoformat(timespec="seconds"),
            }
        )
    for r in refunds:
        ours[r.provider_reference] = -r.amount
        rows.append(
            {
                "type": "refund",
                "receipt": r.payment.receipt_number,
                "paid_for": f"{r.payment.kind} {r.payment.reference}",
                "kind": r.payment.kind,
                "provider_reference": r.provider_reference,
                "amount": _money(-r.amount),
                "convenience_fee": "0.00",
                "total": _money(-r.amount),
                "at": timezone.localtime(r.completed_at).isoformat(timespec="seconds"),
            }
        )

    # A charge is ours by its payment (Stripe: the payment intent), a refund by its own id.
    def their_key(t) -> str:
        return t.payment_reference if t.kind == "charge" else t.provider_reference

    provider_amounts = {their_key(t): t.amount for t in theirs}
    mismatches = []
    for ref, amount in sorted(ours.items()):
        if ref not in provider_amounts:
            mismatches.append(
                {
                    "reference": ref,
                    "problem": "Recorded by us, not at the provider",
                    "ours": _money(amount),
                    "theirs": "",
                }
            )
        elif provider_amounts[ref] != amount:
            mismatches.append(
                {
                    "reference": ref,
                    "problem": "Different amounts",
                    "ours": _money(amount),
                    "theirs": _money(provider_amounts[ref]),
                }
            )
    for t in theirs:
        if their_key(t) not in ours:
            mismatches.append(
                {
                    "reference": their_key(t),
                    "problem": "At the provider, not recorded by us",
                    "ours": "",
                    "theirs": _money(t.amount),
                }
            )
    by_kind: dict[str, Decimal] = {}
    for p in payments:
        by_kind[p.kind] = by_kind.get(p.kind, Decimal(0)) + p.amount
    for r in refunds:
        by_kind[r.payment.kind] = by_kind.get(r.payment.kind, Decimal(0)) - r.amount
    paid = sum((p.total for p in payments), Decimal(0))
    refunded = sum((r.amount for r in refunds), Decimal(0))
    totals = {
        "payments": len(payments),
        "paid": _money(paid),
        "convenience_fees": _money(sum((p.convenience_fee for p in payments), Decimal(0))),
        "refunds": len(refunds),
        "refunded": _money(refunded),
        "net": _money(paid - refunded),
        "provider_net": _money(sum((t.amount for t in theirs), Decimal(0))),
        "provider_fees": _money(sum((t.fee for t in theirs), Decimal(0))),
        "by_kind": {kind: _money(v) for kind, v in sorted(by_kind.items())},
    }
    report, _created = Reconciliation.objects.update_or_create(
        day=day,
        defaults={
            "provider": variant,
            "totals": totals,
            "payouts": [
                {"reference": p.reference, "amount": _money(p.amount), "arrival": p.arrival}
                for p in payouts
            ],
            "rows": sorted(rows, key=lambda row: row["at"]),
            "mismatches": mismatches,
        },
    )
    return report


# --- A resident deletes their account ----------------------------------------------------------


def forget_references(kind: str, references: list[str]) -> int:
    """Records anonymised under the retention schedule: their payments stay (financial
    records) without who paid or where the receipt went."""
    if not references:
        return 0
    rows = Payment.objects.filter(kind=kind, reference__in=references)
    Payment.history.filter(kind=kind, reference__in=references).update(
        payer_id=None, billing_email="", customer_ip_address=None
    )
    return rows.update(payer=None, billing_email="", customer_ip_address=None)


def person_forget(*, user) -> dict[str, int]:
    """ "Delete my account": payments are financial records the city keeps; they lose who paid
    and where the receipt went."""
    count = Payment.objects.filter(payer=user).update(payer=None, billing_email="")
    return {"payments kept without your name": count}
