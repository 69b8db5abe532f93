"""What can be paid online. Each app registers its payables in its AppConfig.ready, so this
package knows no app: `register(PermitFees())` in permits, `register(Fines())` in
code_enforcement."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Due:
    """What is owed on one thing, as its app says: the only source of an amount to pay."""

    kind: str
    reference: str
    title: str  # in the current language: "Fees for permit BLD-2026-00012"
    address: str
    balance: Decimal
    status_url: str  # where the payer follows it afterwards ("" when it has no page of its own)
    email: str = ""  # where the receipt goes when the payer has no account
    credit: Decimal = Decimal(0)  # paid beyond what is owed (two payments crossed): to refund
    language: str = "en"


class Payable:
    """One kind of thing that can be paid. Subclasses implement every method."""

    kind: str = ""

    def lookup(self, reference: str, *, lock: bool = False) -> Any | None:
        """The record by its number, or None; `lock` takes its row lock (inside a transaction)."""
        raise NotImplementedError

    def due(self, obj) -> Due:
        raise NotImplementedError

    def may_pay(self, request, obj) -> bool:
        """Whether this visitor may see and pay it (its owner; anyone who proved the notice)."""
        raise NotImplementedError

    def settle(self, obj, payment) -> None:
        """Record `payment` in the record's own ledger (called once, inside the transaction
        that marks the payment settled, with `obj` locked)."""
        raise NotImplementedError

    def refunded(self, obj, payment, refund) -> None:
        """Record `refund` in the ledger and on the record's timeline (once, in the
        transaction that marks it succeeded)."""
        raise NotImplementedError

    def prove(self, reference: str, address: str) -> Any | None:
        """For payables anyone may pay (a fine): the record whose number and address match
        what the visitor typed, or None."""
        return None

    def console_url(self, obj) -> str:
        raise NotImplementedError

    def console_list_url(self, reference: str) -> str:
        """The console list searched for this number (no query needed to build it)."""
        raise NotImplementedError


PAYABLES: dict[str, Payable] = {}


def register(payable: Payable) -> None:
    PAYABLES[payable.kind] = payable


def payable(kind: str) -> Payable:
    try:
        return PAYABLES[kind]
    except KeyError:
        raise LookupError(f"Nothing called {kind!r} can be paid online.") from None
