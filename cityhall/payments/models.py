"""Online payments, their refunds, the provider's events we have seen, and the daily
reconciliation. The fee ledger itself stays with what is paid (a permit's payments, a case's
fine payments): settling a payment writes one row there, exactly once."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from payments import PaymentStatus
from payments.models import BasePayment
from simple_history.models import HistoricalRecords

from cityhall.links import absolute_url


class Payment(BasePayment):
    """One attempt to pay online. Created before the payer leaves for the provider's page, with
    the amount read from our ledger (never from the browser) and an idempotency key that makes a
    double click, a retry or a replayed request the same payment."""

    kind = models.CharField(max_length=20)  # a registered payable: "permit", "fine"
    reference = models.CharField(max_length=40)  # its number: BLD-2026-00012, CE-2026-00031
    amount = models.DecimalField(max_digits=9, decimal_places=2)  # what it pays off the balance
    convenience_fee = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal(0))
    idempotency_key = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="online_payments",
    )
    language = models.CharField(max_length=5, default="en")
    provider_reference = models.CharField(max_length=255, blank=True)  # the charge / intent id
    settled_at = models.DateTimeField(null=True, blank=True)  # when our ledger recorded it
    receipt_number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    overpaid = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal(0))
    refunded = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal(0))
    history = HistoricalRecords(excluded_fields=["extra_data", "modified"])

    class Meta:
        ordering = ["-created"]
        verbose_name = "online payment"
        indexes = [
            models.Index(fields=["kind", "reference"], name="payment_paid_for"),
            models.Index(fields=["-created"], name="payment_created"),  # the console's order
            models.Index(fields=["settled_at"], name="payment_settled_at"),
            models.Index(
                fields=["created"],
                name="payment_pending_created",
                condition=Q(status="waiting"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["token"], name="payment_token_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded__lte=models.F("total")), name="payment_refund_at_most_paid"
            ),
        ]

    def __str__(self) -> str:
        return self.receipt_number or f"{self.kind} {self.reference} ({self.status})"

    # django-payments asks for these when it builds the provider's page.
    def _url(self, name: str) -> str:
        with translation.override(self.language):
            return absolute_url(reverse(name, args=[self.token]))

    def get_success_url(self) -> str:
        return self._url("billing:return")

    def get_failure_url(self) -> str:
        return self._url("billing:cancelled")

    def get_purchased_items(self):
        return []

    @property
    def kind_label(self) -> str:
        """For the console (English): what kind of thing it pays."""
        return {"permit": "Permit fees", "fine": "Fine"}.get(self.kind, self.kind)

    @property
    def is_paid(self) -> bool:
        return self.settled_at is not None

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded if self.is_paid else Decimal(0)

    @property
    def is_final(self) -> bool:
        return self.status in (
            PaymentStatus.CONFIRMED,
            PaymentStatus.REFUNDED,
            PaymentStatus.REJECTED,
            PaymentStatus.CANCELLED,
        )


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Sent to the provider"
    SUCCEEDED = "succeeded", "Refunded"
    FAILED = "failed", "Failed"


class Refund(models.Model):
    """Money given back through the provider, fully or in part, with the reason. The row exists
    before the provider is asked (with its own idempotency key), so a crash between the two
    asks again with the same key instead of refunding twice."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=9, decimal_places=2)
    reason = models.TextField()
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    idempotency_key = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    provider_reference = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")
        ]

    def __str__(self) -> str:
        return f"Refund ${self.amount} of {self.payment}"


class ProviderEvent(models.Model):
    """A webhook event we have processed: a duplicate or replay of it changes nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=80)
    payment = models.ForeignKey(Payment, null=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"


class DemoCharge(models.Model):
    """The demo provider's side of a payment (PAYMENT_PROVIDER=test): what its hosted page
    recorded. Our Payment learns it the way it learns Stripe's, by asking the provider."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded"
        DECLINED = "declined"
        NEEDS_AUTHENTICATION = "authentication"

    token = models.CharField(max_length=36, unique=True)
    amount = models.DecimalField(max_digits=9, decimal_places=2)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    refunded = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal(0))
    refunds = models.JSONField(default=list)  # [{"id", "amount", "at"}]
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"demo {self.token} {self.outcome}"


class Reconciliation(models.Model):
    """One day's payments and refunds, ours against the provider's, made by beat each morning
    (and again on request). Kept as numbers, so the report reads the same later."""

    day = models.DateField(unique=True)
    provider = models.CharField(max_length=20)
    made_at = models.DateTimeField(auto_now=True)
    totals = models.JSONField(default=dict)  # payments, refunds, fees by type, net
    payouts = models.JSONField(default=list)  # [{"reference", "amount", "arrival"}]
    rows = models.JSONField(default=list)  # every payment and refund of the day
    mismatches = models.JSONField(default=list)  # [{"reference", "problem", "ours", "theirs"}]

    class Meta:
        ordering = ["-day"]
        verbose_name = "daily reconciliation"

    def __str__(self) -> str:
        return f"Reconciliation {self.day}"

    def get_absolute_url(self) -> str:
        return reverse("admin:billing_reconciliation_change", args=[self.pk])
