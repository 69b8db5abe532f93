"""Paying online with Stripe Checkout, end to end against a local fake of Stripe's HTTP API
(fake_stripe.py): real PostgreSQL, real views, services and stripe-python; only Stripe's servers
are replaced. The resident (Rosa, who reads Spanish) pays her approved permit's $100.00 fee."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from payments import PaymentStatus
from payments.core import PROVIDER_CACHE

from alerts.models import Notification
from cityhall.links import absolute_url
from cityhall.payments import services
from cityhall.payments.models import Payment, ProviderEvent, Refund, RefundStatus
from cityhall.payments.tasks import sweep_pending_payments
from cityhall.roles import Role
from permits.constants import PaymentMethod, Status
from permits.models import Application
from permits.models import Payment as LedgerRow
from tests.personas import make_staff
from tests.worker import celery_worker, tasks_done, wait_for

from .fake_stripe import FakeStripe, signed_headers

API_KEY = "sk_test_cityhall"
SECRET = "whsec_test_cityhall"
WEBHOOK = "/payments/webhook/stripe/"

# --- Fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def fake():
    with FakeStripe() as server:
        yield server


@pytest.fixture
def stripe_on(settings, fake, monkeypatch):
    """PAYMENT_PROVIDER=stripe against the fake, for this process and for a worker it starts."""
    saved = (stripe.api_base, stripe.api_key, stripe.max_network_retries)
    settings.PAYMENT_PROVIDER = "stripe"
    settings.PAYMENT_VARIANTS = {
        **settings.PAYMENT_VARIANTS,
        "stripe": (
            "cityhall.payments.providers.StripeProvider",
            {"api_key": API_KEY, "endpoint_secret": SECRET, "api_base": fake.url},
        ),
    }
    for name, value in {
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": API_KEY,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": fake.url,
    }.items():
        monkeypatch.setenv(name, value)
    PROVIDER_CACHE.clear()
    yield fake
    PROVIDER_CACHE.clear()
    stripe.api_base, stripe.api_key, stripe.max_network_retries = saved


def pay_url(application, language="es") -> str:
    return f"{'/es' if language == 'es' else ''}/pay/permit/{application.number}/"


def form_key(client, url) -> str:
    """The pay form's hidden idempotency key, as the browser would send it back."""
    response = client.get(url)
    assert response.status_code == 200
    tag = re.search(r'<input[^>]*name="key"[^>]*>', response.content.decode())
    assert tag, "the pay form has no hidden key"
    return re.search(r'value="([0-9a-f-]{36})"', tag.group(0)).group(1)


def checkout(client, application, *, language="es", **data):
    """GET the pay form, POST it (the full balance unless `data` says otherwise)."""
    url = pay_url(application, language)
    key = form_key(client, url)
    return client.post(url, {"how_much": "all", "key": key, **data})


def deliver(event: dict, *, secret=SECRET, timestamp=None, body=None):
    """Stripe posting `event` to our webhook, signed with the endpoint's secret."""
    body = body if body is not None else json.dumps(event).encode()
    return Client().post(
        WEBHOOK,
        body,
        content_type="application/json",
        headers=signed_headers(body, secret, timestamp),
    )


def online_rows(application):
    return LedgerRow.objects.filter(application=application, method=PaymentMethod.ONLINE)


def balance(application) -> Decimal:
    return Application.objects.get(pk=application.pk).balance


def receipts() -> int:
    return Notification.objects.filter(template="payment_receipt").count()


def nothing_recorded(application) -> bool:
    return (
        not online_rows(application).exists()
        and balance(application) == Decimal("100.00")
        and not Payment.objects.filter(settled_at__isnull=False).exists()
        and receipts() == 0
    )


def paid_through_checkout(client, application, fake) -> Payment:
    """The payer went to Stripe's page and paid there (no news has reached us yet)."""
    response = checkout(client, application)
    assert response.status_code == 302
    payment = Payment.objects.get()
    fake.complete(payment.transaction_id)
    return payment


def sent_to_stripe_directly(application, fake, *, language="es") -> Payment:
    """A payment started by our service and its Checkout Session opened at the fake by our
    provider's own `create_session`, without the pay page. For the tests about what happens
    afterwards (webhook verification, the sweep, refunds), so they do not depend on the page."""
    payment = services.start(
        kind="permit",
        reference=application.number,
        amount=application.balance,
        key="6a3b1f9e-0c1d-4e5f-8a9b-0c1d2e3f4a5b",
        payer=application.applicant,
        language=language,
    )
    session = services.provider(payment).create_session(payment)
    Payment.objects.filter(pk=payment.pk).update(transaction_id=session["id"])
    payment.refresh_from_db()
    return payment


def crashed_after_confirming(payment: Payment, fake) -> Payment:
    """Stripe took the money, our row says so, and the worker died before the ledger write."""
    session = fake.complete(payment.transaction_id)
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.CONFIRMED,
        captured_amount=payment.total,
        provider_reference=session["payment_intent"],
    )
    payment.refresh_from_db()
    assert payment.settled_at is None
    return payment


def settled_without_the_page(application, fake) -> Payment:
    payment = crashed_after_confirming(sent_to_stripe_directly(application, fake), fake)
    return services.refresh(payment.pk)


# --- The fake itself, as stripe-python sees it -------------------------------------------------


def test_the_fake_speaks_stripe(fake):
    """stripe-python creates, replays (same idempotency key), reads and lists through the fake,
    and a webhook signed by the fake verifies with stripe's own code."""
    saved = (stripe.api_base, stripe.api_key)
    stripe.api_base, stripe.api_key = fake.url, API_KEY
    try:
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 12345,
                        "product_data": {"name": "Fees"},
                    },
                }
            ],
            "success_url": "http://example.test/ok",
            "cancel_url": "http://example.test/no",
            "client_reference_id": "tok",
            "metadata": {"token": "tok"},
        }
        first = stripe.checkout.Session.create(**params, idempotency_key="k-1")
        again = stripe.checkout.Session.create(**params, idempotency_key="k-1")
        assert first["id"] == again["id"] and fake.sessions_created == 1
        assert first["amount_total"] == 12345 and first["url"].startswith(fake.url + "/pay/cs_")
        with pytest.raises(stripe.IdempotencyError):
            stripe.checkout.Session.create(**{**params, "locale": "es"}, idempotency_key="k-1")

        fake.complete(first["id"])
        session = stripe.checkout.Session.retrieve(first["id"])
        assert session["payment_status"] == "paid" and session["payment_intent"].startswith("pi_")
        refund = stripe.Refund.create(payment_intent=session["payment_intent"], amount=2345)
        assert refund["status"] == "succeeded"
        with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded"):
            stripe.Refund.create(payment_intent=session["payment_intent"], amount=10001)

        now = int(timezone.now().timestamp())
        listing = stripe.BalanceTransaction.list(
            created={"gte": now - 60, "lt": now + 60}, limit=100, expand=["data.source"]
        )
        moves = {(t["type"], t["amount"], t["source"]["id"][:3]) for t in listing.data}
        assert moves == {("charge", 12345, "ch_"), ("refund", -2345, "re_")}
        assert {t["source"]["payment_intent"] for t in listing.data} == {session["payment_intent"]}

        event = fake.event(first["id"])
        body = json.dumps(event)
        header = signed_headers(body, SECRET)["Stripe-Signature"]
        verified = stripe.Webhook.construct_event(body, header, SECRET)
        assert verified["data"]["object"]["client_reference_id"] == "tok"
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body, header, "whsec_other")
    finally:
        stripe.api_base, stripe.api_key = saved


# --- 1. The happy path ---------------------------------------------------------------------------


def test_happy_path_spanish_payer_pays_and_the_permit_is_issued(
    stripe_on, approved, resident_client
):
    """Rosa pays in Spanish: Stripe's page is in Spanish, for exactly the $100.00 our ledger
    says, and comes back to our pages. The signed webhook records the payment once, issues the
    permit and sends her one receipt."""
    fake = stripe_on
    response = checkout(resident_client, approved)

    payment = Payment.objects.get()
    session = fake.only_session()
    assert response.status_code == 302
    assert response["Location"] == session["url"]
    assert session["amount_total"] == 10000
    assert fake.line_items[session["id"]][0]["price_data"]["unit_amount"] == "10000"
    assert session["client_reference_id"] == payment.token
    assert session["metadata"]["token"] == payment.token
    assert session["locale"] == "es"
    assert session["success_url"] == absolute_url(f"/es/payments/{payment.token}/return/")
    assert session["cancel_url"] == absolute_url(f"/es/payments/{payment.token}/cancelled/")
    assert fake.calls("POST", "/v1/checkout/sessions")[0]["headers"]["idempotency-key"] == str(
        payment.idempotency_key
    )

    fake.complete(session["id"])
    answer = deliver(fake.event(session["id"], "checkout.session.completed"))

    assert answer.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CONFIRMED
    assert payment.receipt_number and payment.receipt_number.startswith("R-")
    assert payment.provider_reference == fake.session(session["id"])["payment_intent"]
    rows = online_rows(approved)
    assert [(r.amount, r.reference) for r in rows] == [(Decimal("100.00"), payment.receipt_number)]
    application = Application.objects.get(pk=approved.pk)
    assert application.status == Status.ISSUED and application.balance == 0
    assert receipts() == 1


# --- 2. The return address first, then the webhook ---------------------------------------------


def test_return_url_settles_by_asking_stripe_and_the_late_webhook_changes_nothing(
    stripe_on, approved, resident_client
):
    """Back from Stripe's page, our return page asks Stripe (it believes nothing in the address)
    and shows the receipt; the webhook that arrives afterwards records nothing more."""
    fake = stripe_on
    payment = paid_through_checkout(resident_client, approved, fake)

    response = resident_client.get(f"/es/payments/{payment.token}/return/")

    assert response.status_code == 302
    assert response["Location"] == f"/es/payments/{payment.token}/receipt/"
    assert fake.calls("GET", f"/v1/checkout/sessions/{payment.transaction_id}")
    assert online_rows(approved).count() == 1 and receipts() == 1

    answer = deliver(fake.event(payment.transaction_id))

    assert answer.status_code == 200
    assert online_rows(approved).count() == 1 and receipts() == 1
    assert Payment.objects.get().receipt_number == online_rows(approved).get().reference


# --- 3. Duplicates, replays and forgeries of the webhook ---------------------------------------


def test_duplicate_and_replayed_completion_events_record_one_payment(
    stripe_on, approved, resident_client
):
    """Stripe retries an event (same id) and may send the news again under a new id: still one
    ledger row and one receipt."""
    fake = stripe_on
    payment = paid_through_checkout(resident_client, approved, fake)
    event = fake.event(payment.transaction_id)

    assert deliver(event).json() == {"status": "ok"}
    assert deliver(event).json() == {"status": "duplicate"}
    assert deliver(fake.event(payment.transaction_id)).status_code == 200

    assert online_rows(approved).count() == 1 and receipts() == 1
    assert ProviderEvent.objects.count() == 2


def test_old_or_badly_signed_webhooks_are_refused_and_record_nothing(
    stripe_on, approved, resident_client
):
    """A completion event replayed after Stripe's five-minute tolerance, signed with another
    secret, tampered with after signing, or unsigned: HTTP 400, nothing recorded."""
    fake = stripe_on
    payment = sent_to_stripe_directly(approved, fake)
    fake.complete(payment.transaction_id)
    event = fake.event(payment.transaction_id)
    body = json.dumps(event).encode()
    old = int(timezone.now().timestamp()) - 301

    assert deliver(event, timestamp=old).status_code == 400
    assert deliver(event, secret="whsec_someone_else").status_code == 400
    tampered = body.replace(b'"amount_total": 10000', b'"amount_total": 100')
    assert tampered != body
    signed = signed_headers(body, SECRET)
    assert (
        Client()
        .post(WEBHOOK, tampered, content_type="application/json", headers=signed)
        .status_code
        == 400
    )
    assert Client().post(WEBHOOK, body, content_type="application/json").status_code == 400

    assert not ProviderEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.WAITING
    assert nothing_recorded(approved)


# --- 4. Events out of order ----------------------------------------------------------------------


def test_a_late_expired_or_failed_event_does_not_unpay_a_completed_payment(
    stripe_on, approved, resident_client
):
    """After the completion is recorded, a stale `expired` or `async_payment_failed` event for
    the same session leaves it paid and recorded once."""
    fake = stripe_on
    payment = paid_through_checkout(resident_client, approved, fake)
    assert deliver(fake.event(payment.transaction_id)).status_code == 200

    stale = fake.event(payment.transaction_id, "checkout.session.expired")
    stale["data"]["object"].update(status="expired", payment_status="unpaid", url=None)
    assert deliver(stale).status_code == 200
    failed = fake.event(payment.transaction_id, "checkout.session.async_payment_failed")
    assert deliver(failed).status_code == 200

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CONFIRMED and payment.is_paid
    assert online_rows(approved).count() == 1 and receipts() == 1
    assert Application.objects.get(pk=approved.pk).status == Status.ISSUED


def test_completed_but_unpaid_then_async_success_settles_once(stripe_on, approved, resident_client):
    """A bank debit: `completed` with payment_status "unpaid" records nothing; the later
    `async_payment_succeeded` records it, once, however often it is delivered."""
    fake = stripe_on
    checkout(resident_client, approved)
    payment = Payment.objects.get()
    fake.complete(payment.transaction_id, async_payment=True)

    assert deliver(fake.event(payment.transaction_id)).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.WAITING and nothing_recorded(approved)

    fake.async_succeeded(payment.transaction_id)
    succeeded = fake.event(payment.transaction_id, "checkout.session.async_payment_succeeded")
    assert deliver(succeeded).status_code == 200
    assert deliver(succeeded).status_code == 200

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CONFIRMED and payment.is_paid
    assert online_rows(approved).count() == 1 and receipts() == 1


# --- 5. Abandoned ----------------------------------------------------------------------------------


def test_abandoned_session_is_closed_by_the_sweep_and_the_payer_can_pay_again(
    stripe_on, approved, resident_client
):
    """The payer closed Stripe's page and the session expired there: the sweep closes our
    payment as rejected, records nothing, and the fee is still due and payable anew."""
    fake = stripe_on
    checkout(resident_client, approved)
    payment = Payment.objects.get()
    fake.expire(payment.transaction_id)

    services.sweep_pending(now=timezone.now() + timedelta(minutes=10))

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REJECTED
    assert nothing_recorded(approved)

    response = checkout(resident_client, approved)
    assert response.status_code == 302
    assert Payment.objects.count() == 2 and fake.sessions_created == 2
    newest = Payment.objects.exclude(pk=payment.pk).get()
    assert response["Location"] == fake.session(newest.transaction_id)["url"]


# --- 6. Declined -----------------------------------------------------------------------------------


def test_declined_card_keeps_the_session_open_and_records_nothing(
    stripe_on, approved, resident_client
):
    """Stripe keeps a declined payer on its page; if she comes back to our return address
    anyway, she is told the payment is not confirmed, and nothing is recorded."""
    fake = stripe_on
    checkout(resident_client, approved)
    payment = Payment.objects.get()
    fake.decline(payment.transaction_id)

    response = resident_client.get(f"/es/payments/{payment.token}/return/")

    assert response.status_code == 200
    assert "Estamos confirmando su pago" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.WAITING
    assert nothing_recorded(approved)


# --- 7. A worker died between Stripe's success and our ledger ---------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_sweep_in_a_real_worker_settles_a_payment_nobody_told_us_about(
    stripe_on, approved, resident_client
):
    """Paid at Stripe, but no webhook came and the payer never returned: the beat task, run
    twice by a real Celery worker, asks Stripe and records the payment exactly once."""
    fake = stripe_on
    payment = paid_through_checkout(resident_client, approved, fake)
    Payment.objects.filter(pk=payment.pk).update(created=timezone.now() - timedelta(minutes=10))

    with celery_worker() as worker:
        sweep_pending_payments.delay()
        assert wait_for(lambda: tasks_done(worker, sweep_pending_payments.name) == 1)
        sweep_pending_payments.delay()
        assert wait_for(lambda: tasks_done(worker, sweep_pending_payments.name) == 2)

    payment.refresh_from_db()
    assert payment.is_paid and payment.status == PaymentStatus.CONFIRMED
    assert online_rows(approved).count() == 1 and receipts() == 1
    assert Application.objects.get(pk=approved.pk).status == Status.ISSUED


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_sweep_in_a_real_worker_settles_a_confirmed_but_unrecorded_payment(stripe_on, approved):
    """Our row says confirmed but the ledger write never happened (settled_at is empty): the
    beat task, run twice by a real Celery worker, records it exactly once."""
    fake = stripe_on
    payment = crashed_after_confirming(sent_to_stripe_directly(approved, fake), fake)

    with celery_worker() as worker:
        sweep_pending_payments.delay()
        assert wait_for(lambda: tasks_done(worker, sweep_pending_payments.name) == 1)
        sweep_pending_payments.delay()
        assert wait_for(lambda: tasks_done(worker, sweep_pending_payments.name) == 2)

    payment.refresh_from_db()
    assert payment.is_paid and payment.receipt_number
    assert [r.amount for r in online_rows(approved)] == [Decimal("100.00")]
    assert receipts() == 1
    assert Application.objects.get(pk=approved.pk).status == Status.ISSUED


# --- 8. Stripe is down ----------------------------------------------------------------------------


def test_provider_down_answers_503_and_charges_nothing(stripe_on, approved, resident_client):
    """Stripe refuses connections: the payer gets "The card payment service is not answering"
    (503), nothing is charged or recorded, the fee is still due."""
    fake = stripe_on
    url = pay_url(approved, "en")
    key = form_key(resident_client, url)
    fake.down()

    response = resident_client.post(url, {"how_much": "all", "key": key})

    assert response.status_code == 503
    assert "The card payment service is not answering" in response.content.decode()
    assert fake.sessions_created == 0
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.ERROR and not payment.transaction_id
    assert nothing_recorded(approved)
    retry_key = re.search(r'name="key" value="([0-9a-f-]{36})"', response.content.decode())
    assert retry_key and retry_key.group(1) != key  # the next try is a new payment


def test_provider_answering_500s_answers_503_and_charges_nothing(
    stripe_on, approved, resident_client
):
    """Stripe answers errors to every try (stripe-python retries twice with the same key):
    the same 503 page, nothing charged or recorded."""
    fake = stripe_on
    url = pay_url(approved, "en")
    key = form_key(resident_client, url)
    fake.fail_next(3)

    response = resident_client.post(url, {"how_much": "all", "key": key})

    assert response.status_code == 503
    assert "The card payment service is not answering" in response.content.decode()
    tries = fake.calls("POST", "/v1/checkout/sessions")
    assert len(tries) == 3 and len({t["headers"]["idempotency-key"] for t in tries}) == 1
    assert fake.sessions_created == 0 and nothing_recorded(approved)


def test_stripe_down_during_the_sweep_leaves_the_payment_waiting(stripe_on, approved):
    """Paid at Stripe, but Stripe cannot be reached when the sweep asks: the payment is neither
    recorded nor closed; it waits for the next sweep."""
    fake = stripe_on
    payment = sent_to_stripe_directly(approved, fake)
    fake.complete(payment.transaction_id)
    fake.down()

    moved = services.sweep_pending(now=timezone.now() + timedelta(minutes=10))

    assert moved == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.WAITING
    assert nothing_recorded(approved)


# --- 9. Double click ------------------------------------------------------------------------------


def test_double_click_makes_one_payment_and_one_stripe_session(
    stripe_on, approved, resident_client
):
    """The pay form posted twice with the same key: one Payment, one Checkout Session, and both
    answers send the payer to the same page."""
    fake = stripe_on
    url = pay_url(approved)
    key = form_key(resident_client, url)

    first = resident_client.post(url, {"how_much": "all", "key": key})
    second = resident_client.post(url, {"how_much": "all", "key": key})

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Payment.objects.count() == 1
    assert fake.sessions_created == 1
    assert len(fake.calls("POST", "/v1/checkout/sessions")) == 1  # the second never asked


# --- 10. Tampering -------------------------------------------------------------------------------


def test_an_amount_above_the_balance_is_refused(stripe_on, approved, resident_client):
    """A part larger than what is owed: the form says so (400), no payment, nothing at Stripe."""
    fake = stripe_on
    response = checkout(resident_client, approved, how_much="part", part="99999")

    assert response.status_code == 400
    assert (
        "Escriba una cantidad que no sea mayor que el saldo pendiente." in response.content.decode()
    )
    assert not Payment.objects.exists() and fake.sessions_created == 0


def test_a_forged_return_address_records_nothing(stripe_on, approved, resident_client):
    """The return address with "paid" in its query string, for a session Stripe says is unpaid:
    nothing is recorded and the payer is told it is not confirmed."""
    fake = stripe_on
    checkout(resident_client, approved)
    payment = Payment.objects.get()

    response = resident_client.get(
        f"/payments/{payment.token}/return/?payment_status=paid&redirect_status=succeeded"
    )

    assert response.status_code == 200
    assert "We are confirming your payment" in response.content.decode()
    assert fake.session(payment.transaction_id)["payment_status"] == "unpaid"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.WAITING and nothing_recorded(approved)


# --- 11. Refunds ----------------------------------------------------------------------------------


@pytest.fixture
def clerk(db):
    return make_staff(Role.CITY_ADMINISTRATOR)


def test_refund_through_stripe_with_our_idempotency_key(
    stripe_on, approved, resident_client, clerk
):
    """Staff refund $40.00: Stripe gets one refund for the payment intent, with the refund row's
    idempotency key; the permit's ledger gets a -$40.00 row."""
    fake = stripe_on
    payment = paid_through_checkout(resident_client, approved, fake)
    deliver(fake.event(payment.transaction_id))
    payment.refresh_from_db()

    row = services.refund(payment=payment, amount=Decimal("40.00"), reason="Fee", actor=clerk)

    assert row.status == RefundStatus.SUCCEEDED
    calls = fake.calls("POST", "/v1/refunds")
    assert len(calls) == 1 and fake.refunds_created == 1
    assert calls[0]["headers"]["idempotency-key"] == str(row.idempotency_key)
    assert calls[0]["params"]["payment_intent"] == payment.provider_reference
    assert calls[0]["params"]["amount"] == "4000"
    (stripe_refund,) = fake.refunds.values()
    assert row.provider_reference == stripe_refund["id"]
    refunds = LedgerRow.objects.filter(application=approved, method=PaymentMethod.REFUND)
    assert [r.amount for r in refunds] == [Decimal("-40.00")]
    payment.refresh_from_db()
    assert payment.refunded == Decimal("40.00")


def test_a_refund_beyond_what_is_left_is_refused_before_stripe(stripe_on, approved, clerk):
    """More than was paid: refused by us (ValidationError); Stripe is not asked."""
    fake = stripe_on
    payment = settled_without_the_page(approved, fake)
    assert payment.is_paid

    with pytest.raises(ValidationError, match=r"At most \$100.00"):
        services.refund(payment=payment, amount=Decimal("100.01"), reason="Too much", actor=clerk)

    assert not Refund.objects.exists() and not fake.calls("POST", "/v1/refunds")


def test_a_second_refund_beyond_what_is_left_is_refused(
    stripe_on, approved, resident_client, clerk
):
    """$40.00 refunded, then $60.01 more asked: refused (ValidationError), ledger unchanged."""
    fake = stripe_on
    payment = paid_through_checkout(resident_client, approved, fake)
    deliver(fake.event(payment.transaction_id))
    payment.refresh_from_db()
    services.refund(payment=payment, amount=Decimal("40.00"), reason="Fee", actor=clerk)
    payment.refresh_from_db()

    with pytest.raises(ValidationError, match=r"At most \$60.00"):
        services.refund(payment=payment, amount=Decimal("60.01"), reason="More", actor=clerk)

    assert fake.refunds_created == 1
    refunds = LedgerRow.objects.filter(application=approved, method=PaymentMethod.REFUND)
    assert [r.amount for r in refunds] == [Decimal("-40.00")]


def test_a_refund_stripe_refuses_is_failed_and_the_ledger_unchanged(stripe_on, approved, clerk):
    """Stripe refuses the refund (the charge was disputed): our refund row is "failed" with
    Stripe's message, and nothing is recorded as refunded."""
    fake = stripe_on
    payment = settled_without_the_page(approved, fake)
    fake.reject_next("/v1/refunds", "Charge ch_1 has been charged back.", code="charge_disputed")

    row = services.refund(payment=payment, amount=Decimal("40.00"), reason="Fee", actor=clerk)

    assert row.status == RefundStatus.FAILED and "charged back" in row.error
    assert fake.refunds_created == 0
    assert not LedgerRow.objects.filter(application=approved, method=PaymentMethod.REFUND)
    payment.refresh_from_db()
    assert payment.refunded == 0 and payment.status == PaymentStatus.CONFIRMED


# --- 12. Reconciliation --------------------------------------------------------------------------


def test_reconciliation_matches_stripe_and_reports_a_charge_we_never_recorded(
    stripe_on, approved, resident_client, clerk
):
    """A day with one payment and one refund agrees with Stripe's balance transactions; a charge
    at Stripe that we never recorded is the one mismatch."""
    fake = stripe_on
    payment = paid_through_checkout(resident_client, approved, fake)
    deliver(fake.event(payment.transaction_id))
    payment.refresh_from_db()
    refund = services.refund(payment=payment, amount=Decimal("40.00"), reason="Fee", actor=clerk)
    day = timezone.localdate()

    report = services.reconcile(day)

    assert report.mismatches == []
    assert sorted((r["type"], r["amount"]) for r in report.rows) == [
        ("payment", "100.00"),
        ("refund", "-40.00"),
    ]
    assert {r["provider_reference"] for r in report.rows} == {
        payment.provider_reference,
        refund.provider_reference,
    }
    assert report.totals["net"] == report.totals["provider_net"] == "60.00"

    stray = fake.add_charge(2500)
    report = services.reconcile(day)

    assert report.mismatches == [
        {
            "reference": report.mismatches[0]["reference"],
            "problem": "At the provider, not recorded by us",
            "ours": "",
            "theirs": "25.00",
        }
    ]
    assert report.mismatches[0]["reference"] in (stray["id"], stray["payment_intent"])
