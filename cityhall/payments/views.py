"""The payer's pages: what is owed and how much to pay, the provider's page (Stripe's, or the
demo's), the way back (paid, still confirming, declined, left), the receipt; the provider's
webhook; and paying a fine with no account, by notice number and address."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from payments import PaymentError, PaymentStatus

from cityhall import ratelimit

from . import services
from .forms import DemoCardForm, FineLookupForm, PayForm
from .models import DemoCharge, Payment
from .registry import PAYABLES, payable

log = logging.getLogger(__name__)

SESSION_KEY = "payable_access"  # "kind:reference" a visitor proved they may pay


def _payable_or_404(request: HttpRequest, kind: str, reference: str):
    if kind not in PAYABLES:
        raise Http404
    thing = payable(kind)
    obj = thing.lookup(reference)
    if obj is None:
        raise Http404
    proved = f"{kind}:{reference}" in request.session.get(SESSION_KEY, [])
    if not (proved or thing.may_pay(request, obj)):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            raise _Redirect(redirect_to_login(request.get_full_path()))
        raise Http404
    return thing, obj


class _Redirect(Exception):
    def __init__(self, response):
        self.response = response


def _own_payment(request: HttpRequest, token: str) -> Payment:
    """A payment's pages: its payer's when it has one (signed in); otherwise the token, which
    only the payer's browser and receipt email hold, is the key."""
    payment = get_object_or_404(Payment, token=str(token))
    if payment.payer_id is not None and request.user.pk != payment.payer_id:
        raise Http404
    return payment


@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, kind: str, reference: str) -> HttpResponse:
    try:
        thing, obj = _payable_or_404(request, kind, reference)
    except _Redirect as redirect_:
        return redirect_.response
    due = thing.due(obj)
    if due.balance <= 0:
        return render(request, "payments/nothing_due.html", {"due": due})
    payer = request.user if request.user.is_authenticated else None
    form = PayForm(request.POST or None, due=due, ask_email=payer is None)
    context = {
        "due": due,
        "form": form,
        "fee_full": services.convenience_fee(due.balance),
        "fee_setting": services.parse_convenience_fee(settings.PAYMENT_CONVENIENCE_FEE),
    }
    if request.method == "POST" and form.is_valid():
        try:
            payment = services.start(
                kind=kind,
                reference=reference,
                amount=form.amount,
                key=form.cleaned_data["key"],
                payer=payer,
                email=form.cleaned_data.get("email", ""),
                language=get_language(),
                ip=ratelimit.client_ip(request),
            )
        except ValidationError as error:
            if error.code == "tampered":
                return render(request, "400.html", status=400)
            form.add_error(None, error.messages[0])
            return render(request, "payments/pay.html", context, status=400)
        if payment.is_paid:
            return redirect("billing:receipt", token=payment.token)
        if payment.payer_id is None:
            _remember(request, payment)
        try:
            return redirect(services.provider_page(payment))
        except services.ProviderUnavailable:
            # Nothing was charged; the form comes back with a new key for the next try.
            retry = PayForm(
                initial={
                    "how_much": form.cleaned_data["how_much"],
                    "part": form.cleaned_data.get("part"),
                    "email": form.cleaned_data.get("email", ""),
                },
                due=due,
                ask_email=payer is None,
            )
            return render(
                request, "payments/provider_down.html", {**context, "form": retry}, status=503
            )
    status = 400 if request.method == "POST" else 200
    return render(request, "payments/pay.html", context, status=status)


def _remember(request: HttpRequest, payment: Payment) -> None:
    tokens = request.session.get("payments", [])
    request.session["payments"] = [*tokens[-9:], payment.token]


@require_safe
def returned(request: HttpRequest, token) -> HttpResponse:
    """The provider sends the payer back here. What the address says is never believed: the
    provider is asked (`services.refresh`), and the payment is settled if it was paid."""
    payment = _own_payment(request, token)
    payment = services.refresh(payment.pk)
    if payment.is_paid:
        return redirect("billing:receipt", token=payment.token)
    return _outcome(request, payment)


@require_safe
def cancelled(request: HttpRequest, token) -> HttpResponse:
    payment = _own_payment(request, token)
    payment = services.refresh(payment.pk)
    if payment.is_paid:
        return redirect("billing:receipt", token=payment.token)
    return _outcome(request, payment, left=True)


def _outcome(request: HttpRequest, payment: Payment, *, left: bool = False) -> HttpResponse:
    thing = payable(payment.kind)
    obj = thing.lookup(payment.reference)
    due = thing.due(obj)
    pay_again = reverse("billing:pay", args=[payment.kind, payment.reference])
    if payment.status == PaymentStatus.WAITING and not left:
        template = "payments/confirming.html"
    elif payment.status == PaymentStatus.WAITING:
        template = "payments/left.html"
    else:
        template = "payments/declined.html"
    return render(request, template, {"payment": payment, "due": due, "pay_again": pay_again})


@require_safe
def receipt(request: HttpRequest, token) -> HttpResponse:
    payment = _own_payment(request, token)
    if not payment.is_paid:
        return redirect("billing:return", token=payment.token)
    thing = payable(payment.kind)
    due = thing.due(thing.lookup(payment.reference))
    return render(
        request,
        "payments/receipt.html",
        {"payment": payment, "due": due, "refunds": payment.refunds.filter(status="succeeded")},
    )


@require_http_methods(["GET", "POST"])
def fine_lookup(request: HttpRequest) -> HttpResponse:
    """Pay a fine with no account: the notice number and the property's address prove it."""
    form = FineLookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ratelimit.check(request, "pay_lookup")
        except ratelimit.Limited as limited:
            minutes = max(1, -(-limited.retry_after // 60))
            form.add_error(
                None,
                ngettext(
                    "Too many tries from this connection. Please try again in %(minutes)s minute.",
                    "Too many tries from this connection. Please try again in %(minutes)s minutes.",
                    minutes,
                )
                % {"minutes": minutes},
            )
            response = render(request, "payments/fine_lookup.html", {"form": form}, status=429)
            response["Retry-After"] = str(limited.retry_after)
            return response
        number = form.cleaned_data["notice"].strip().upper()
        obj = payable("fine").prove(number, form.cleaned_data["address"])
        if obj is None:
            form.add_error(
                None,
                _(
                    "We could not find a fine with that notice number at that address. Check "
                    "both against the notice, or call %(phone)s."
                )
                % {"phone": settings.CITY["phone"]},
            )
        else:
            proved = request.session.get(SESSION_KEY, [])
            request.session[SESSION_KEY] = [*proved[-9:], f"fine:{obj.number}"]
            return redirect("billing:pay", kind="fine", reference=obj.number)
        return render(request, "payments/fine_lookup.html", {"form": form}, status=400)
    return render(request, "payments/fine_lookup.html", {"form": form})


# --- The provider's side ------------------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, variant: str) -> HttpResponse:
    """The provider's notices (Stripe: checkout.session.*), signature-verified."""
    try:
        outcome = services.handle_event(variant, request)
    except PaymentError as error:
        code = error.code if isinstance(error.code, int) else 400
        return JsonResponse({"error": str(error)}, status=code)
    return JsonResponse({"status": outcome})


@require_http_methods(["GET", "POST"])
def demo(request: HttpRequest, token) -> HttpResponse:
    """The demo provider's hosted page (PAYMENT_PROVIDER=test). No card number is typed: the
    payer picks a demo card that succeeds, is declined or needs the bank's confirmation."""
    payment = get_object_or_404(Payment, token=str(token), variant="test")
    if payment.status != PaymentStatus.WAITING:
        return redirect(payment.get_success_url())
    step = request.POST.get("step", "card")
    form = DemoCardForm(request.POST if request.method == "POST" and step == "card" else None)
    if request.method == "POST" and step == "authenticate":
        outcome = (
            DemoCharge.Outcome.SUCCEEDED
            if request.POST.get("answer") == "approve"
            else DemoCharge.Outcome.DECLINED
        )
        _demo_charge(payment, outcome)
        return redirect(payment.get_success_url())
    if request.method == "POST" and form.is_valid():
        card = form.cleaned_data["card"]
        if card == "authentication":
            _demo_charge(payment, DemoCharge.Outcome.NEEDS_AUTHENTICATION)
            return render(request, "payments/demo_authenticate.html", {"payment": payment})
        _demo_charge(
            payment,
            DemoCharge.Outcome.SUCCEEDED if card == "succeeds" else DemoCharge.Outcome.DECLINED,
        )
        return redirect(payment.get_success_url())
    return render(request, "payments/demo.html", {"payment": payment, "form": form})


def _demo_charge(payment: Payment, outcome: str) -> None:
    with transaction.atomic():
        charge, created = DemoCharge.objects.select_for_update().get_or_create(
            token=payment.token, defaults={"amount": payment.total, "outcome": outcome}
        )
        # A decided charge stays decided (the back button and a second click change nothing).
        if not created and charge.outcome == DemoCharge.Outcome.NEEDS_AUTHENTICATION:
            charge.outcome = outcome
            charge.save(update_fields=["outcome", "updated_at"])
