"""Sent inside the transaction that records the money, so a receiver's rows (the receipt
notification) commit with it. `alerts` listens and sends the receipt in the payer's language."""

from django.dispatch import Signal

payment_settled = Signal()  # sender=Payment, payment=, due=
refund_succeeded = Signal()  # sender=Refund, refund=, payment=, due=
