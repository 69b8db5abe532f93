"""Code-enforcement fines, payable online by anyone who has the citation: its notice number
(the case number) and the property's address prove it. Registered in
CodeEnforcementConfig.ready."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from cityhall.models import audit_as
from cityhall.payments.registry import Due, Payable
from cityhall.timeline import both, said

from .models import CodeCase, FinePayment
from .workflow import CASES


def _words(address: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", address.lower()).split()


def same_street_address(typed: str, recorded: str) -> bool:
    """ "120 oak st" matches "120 Oak Street, Riverbend": the house number and the first word of
    the street name must agree."""
    typed_words, recorded_words = _words(typed), _words(recorded)
    return len(typed_words) >= 2 and typed_words[:2] == recorded_words[:2]


class Fines(Payable):
    kind = "fine"

    def lookup(self, reference: str, *, lock: bool = False):
        cases = CodeCase.objects.filter(fine_amount__isnull=False)
        if lock:
            cases = cases.select_for_update()
        return cases.filter(number=reference).first()

    def prove(self, reference: str, address: str):
        case = self.lookup(reference)
        if case is None or not same_street_address(address, case.address):
            return None
        return case

    def due(self, case: CodeCase) -> Due:
        return Due(
            kind=self.kind,
            reference=case.number,
            title=_("Fine for code case %(number)s") % {"number": case.number},
            address=case.address,
            balance=case.fine_balance,
            credit=max(case.fine_paid - (case.fine_amount or 0), 0),
            status_url="",  # a code case has no public page: the receipt is the record
            email=case.owner_email,
            language=case.owner_language,
        )

    def may_pay(self, request, case: CodeCase) -> bool:
        return False  # only after proving the notice (billing:fine_lookup)

    def _record(self, case: CodeCase, move: str, row: FinePayment, words: str) -> None:
        CASES.transition(
            case,
            move,
            actor=None,
            apply=lambda locked: audit_as(row, None).save(),
            text=words,
        )

    def settle(self, case: CodeCase, payment) -> None:
        row = FinePayment(
            case=case,
            amount=payment.amount,
            method=FinePayment.Method.ONLINE,
            reference=payment.receipt_number,
            online_payment=payment,
        )
        amount = f"${payment.amount:,.2f}"
        self._record(
            case,
            "fine_payment",
            row,
            said("payment", method=both(FinePayment.Method.ONLINE.label), amount=amount),
        )

    def refunded(self, case: CodeCase, payment, refund) -> None:
        row = FinePayment(
            case=case,
            amount=-refund.amount,
            method=FinePayment.Method.REFUND,
            reference=payment.receipt_number,
            online_payment=payment,
        )
        amount = f"${refund.amount:,.2f}"
        self._record(
            case,
            "fine_refund",
            row,
            said("payment", method=both(FinePayment.Method.REFUND.label), amount=amount),
        )

    def console_url(self, case: CodeCase) -> str:
        return reverse("admin:code_enforcement_codecase_change", args=[case.pk])

    def console_list_url(self, reference: str) -> str:
        changelist = reverse("admin:code_enforcement_codecase_changelist")
        return f"{changelist}?{urlencode({'q': reference})}"
