"""Permit and licence fees, payable online (cityhall.payments). Registered in
PermitsConfig.ready."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from cityhall.models import audit_as
from cityhall.payments.registry import Due, Payable
from cityhall.timeline import both, said

from .constants import PAYABLE_STATUSES, PaymentMethod, Status
from .models import Application, Payment
from .workflow import APPLICATIONS


class PermitFees(Payable):
    kind = "permit"

    def lookup(self, reference: str, *, lock: bool = False):
        applications = Application.objects.select_related("permit_type", "applicant")
        if lock:
            applications = applications.select_for_update(of=("self",))
        return applications.filter(number=reference).first()

    def due(self, application: Application) -> Due:
        payable = application.status in PAYABLE_STATUSES
        return Due(
            kind=self.kind,
            reference=application.number,
            title=_("Fees for %(kind)s %(number)s")
            % {"kind": application.permit_type.t("name"), "number": application.number},
            address=application.address,
            balance=application.balance if payable else 0,
            credit=application.credit,
            status_url=application.get_absolute_url(),
            language=application.applicant.preferred_language,
        )

    def may_pay(self, request, application: Application) -> bool:
        return request.user.is_authenticated and application.applicant_id == request.user.pk

    def settle(self, application: Application, payment) -> None:
        amount = f"${payment.amount:,.2f}"

        def record(locked: Application) -> None:
            audit_as(
                Payment(
                    application=locked,
                    amount=payment.amount,
                    method=PaymentMethod.ONLINE,
                    reference=payment.receipt_number,
                    online_payment=payment,
                ),
                None,
            ).save()

        APPLICATIONS.transition(
            application,
            "online_payment",
            actor=None,
            apply=record,
            text=said("payment", method=both(PaymentMethod.ONLINE.label), amount=amount),
        )
        # Approved, and the fees were all that was missing: it is issued now.
        paid = Application.objects.select_related("permit_type").get(pk=application.pk)
        if paid.status == Status.APPROVED and paid.balance == 0:
            from .services import application_issue

            application_issue(application=paid, actor=None)

    def refunded(self, application: Application, payment, refund) -> None:
        amount = f"${refund.amount:,.2f}"

        def record(locked: Application) -> None:
            audit_as(
                Payment(
                    application=locked,
                    amount=-refund.amount,
                    method=PaymentMethod.REFUND,
                    reference=payment.receipt_number,
                    online_payment=payment,
                ),
                None,
            ).save()

        APPLICATIONS.transition(
            application,
            "refund",
            actor=None,
            apply=record,
            text=said("payment", method=both(PaymentMethod.REFUND.label), amount=amount),
        )

    def console_url(self, application: Application) -> str:
        return reverse("admin:permits_application_change", args=[application.pk])

    def console_list_url(self, reference: str) -> str:
        return f"{reverse('admin:permits_application_changelist')}?{urlencode({'q': reference})}"
