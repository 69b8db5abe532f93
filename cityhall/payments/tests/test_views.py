"""Paying online, as the payer and the console see it: the pay page, the demo provider's
hosted page, the way back, the receipt and its email, fines paid with no account, refunds and
the daily reconciliation."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from payments import PaymentError

from alerts.models import Notification
from cityhall.payments import services
from cityhall.payments.models import DemoCharge, Payment, Reconciliation, Refund
from cityhall.payments.providers import DemoProvider
from cityhall.roles import Role
from permits.models import Application, TimelineEvent
from permits.tests.factories import make_application
from tests.personas import make_staff, verified_client

pytestmark = pytest.mark.django_db

KEY = re.compile(r'name="key" value="([0-9a-f-]{36})"')


# --- Helpers --------------------------------------------------------------------------------------


def _text(response) -> str:
    """The page as a person reads it: tags dropped, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&#x27;", "'")


def _key(response) -> str:
    match = KEY.search(response.content.decode())
    assert match, "the pay form has its hidden key"
    return match.group(1)


def _path(url: str) -> str:
    """The path (and query) of an absolute or relative address."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _start(client: Client, url: str, **data):
    """GET the pay page, POST its form (the whole balance unless told): the response."""
    page = client.get(url)
    assert page.status_code == 200, page
    return client.post(url, {"how_much": "all", "key": _key(page), **data})


def _to_demo(client: Client, url: str, **data) -> str:
    """Start paying: the path of the demo provider's page the payer is sent to."""
    response = _start(client, url, **data)
    assert response.status_code == 302, _text(response)
    demo = _path(response["Location"])
    assert re.fullmatch(r"(/es)?/payments/[0-9a-f-]{36}/demo/", demo), demo
    return demo


def _card(client: Client, demo: str, card: str):
    return client.post(demo, {"step": "card", "card": card})


def _back(client: Client, response):
    """Follow the provider's redirect back to City Hall (the return or cancel address)."""
    assert response.status_code == 302, response
    return client.get(_path(response["Location"]))


def _pay(client: Client, url: str, card: str = "succeeds", **data):
    """The whole trip: pay page, demo page, card, back. The last response (before the
    receipt redirect is followed)."""
    demo = _to_demo(client, url, **data)
    return _back(client, _card(client, demo, card))


def _token(demo_or_receipt: str) -> str:
    return re.search(r"/payments/([0-9a-f-]{36})/", demo_or_receipt).group(1)


def _permit_url(application: Application, prefix: str = "") -> str:
    return f"{prefix}/pay/permit/{application.number}/"


# --- 1. The permit's page ---------------------------------------------------------------------


def test_permit_page_shows_the_balance_and_a_pay_link(resident_client, approved):
    page = resident_client.get(f"/permits/{approved.number}/")
    text = _text(page)
    assert "Total $100.00 · paid $0.00 · due $100.00" in text
    assert "Pay $100.00 online" in text
    assert f'href="/pay/permit/{approved.number}/"' in page.content.decode()

    spanish = resident_client.get(f"/es/permits/{approved.number}/")
    html = spanish.content.decode()
    assert spanish.status_code == 200
    assert '<html lang="es"' in html
    assert f'href="/es/pay/permit/{approved.number}/"' in html
    assert "$100.00" in _text(spanish)


@pytest.mark.parametrize("status", ["issued", "denied", "withdrawn"])
def test_no_pay_link_once_paid_or_when_it_ended(resident, resident_client, status):
    application = make_application(resident, status=status)
    page = resident_client.get(f"/permits/{application.number}/")
    assert page.status_code == 200
    assert not re.search(r"Pay \$[\d,.]+ online", _text(page))
    assert "/pay/permit/" not in page.content.decode()
    # Typing the address gives nothing to pay, not a form.
    direct = resident_client.get(_permit_url(application))
    assert direct.status_code == 200
    assert "Nothing to pay" in _text(direct)
    assert 'name="key"' not in direct.content.decode()


# --- 2. The whole trip ----------------------------------------------------------------------------


def test_paying_in_full_issues_the_permit_and_emails_a_receipt(resident, resident_client, approved):
    url = _permit_url(approved)
    page = resident_client.get(url)
    text = _text(page)
    assert "Pay online" in text
    assert "Balance due $100.00" in text
    assert "The full balance, $100.00" in text

    response = resident_client.post(url, {"how_much": "all", "key": _key(page)})
    assert response.status_code == 302
    demo = _path(response["Location"])
    assert demo == f"/payments/{_token(demo)}/demo/"

    card_page = resident_client.get(demo)
    assert "Demo card payment page" in _text(card_page)
    assert "Total to pay: $100.00" in _text(card_page)

    back = _card(resident_client, demo, "succeeds")
    assert _path(back["Location"]) == f"/payments/{_token(demo)}/return/"
    returned = resident_client.get(_path(back["Location"]))
    assert returned.status_code == 302
    receipt_path = _path(returned["Location"])
    assert receipt_path == f"/payments/{_token(demo)}/receipt/"

    payment = Payment.objects.get()
    year = payment.settled_at.year
    assert re.fullmatch(rf"R-{year}-\d{{6}}", payment.receipt_number)
    receipt = resident_client.get(receipt_path)
    text = _text(receipt)
    assert "Payment received" in text
    assert f"Receipt {payment.receipt_number}" in text
    assert "Amount applied $100.00" in text
    assert "Total charged to your card $100.00" in text
    assert "Balance still due $0.00" in text
    assert "We sent this receipt to rosa@example.com." in text

    approved.refresh_from_db()
    assert approved.status == "issued"
    assert approved.balance == 0
    ledger = list(approved.payments.values_list("amount", "method", "reference"))
    assert ledger == [(Decimal("100.00"), "online", payment.receipt_number)]

    status_page = resident_client.get(f"/permits/{approved.number}/")
    text = _text(status_page)
    assert "Total $100.00 · paid $100.00 · due $0.00" in text
    assert "Paid online" in text
    assert "Pay $" not in text
    assert f'href="/payments/{payment.token}/receipt/">{payment.receipt_number}</a>' in (
        status_page.content.decode()
    )

    # One receipt, by email, in the resident's language (Spanish), linking the Spanish receipt.
    (notification,) = Notification.objects.filter(template="payment_receipt")
    assert notification.user == resident
    assert notification.language == "es"
    assert payment.receipt_number in notification.subject
    assert payment.receipt_number in notification.body_text
    assert "$100.00" in notification.body_text
    assert [(d.channel, d.address) for d in notification.deliveries.exclude(channel="portal")] == [
        ("email", "rosa@example.com")
    ]
    links = re.findall(r"https?://\S+", notification.body_text)
    receipt_link = f"/es/payments/{payment.token}/receipt/"
    assert [link for link in links if link.endswith(receipt_link)], links
    (absolute,) = [link for link in links if link.endswith(receipt_link)]
    assert absolute.startswith(("http://", "https://"))
    opened = resident_client.get(_path(absolute))
    assert opened.status_code == 200
    assert '<html lang="es"' in opened.content.decode()
    assert payment.receipt_number in _text(opened)
    assert "$100.00" in _text(opened)


def test_paying_in_spanish_stays_in_spanish(resident_client, approved):
    url = _permit_url(approved, "/es")
    page = resident_client.get(url)
    assert '<html lang="es"' in page.content.decode()
    assert "$100.00" in _text(page)
    demo = _to_demo(resident_client, url)
    assert demo == f"/es/payments/{_token(demo)}/demo/"
    back = _card(resident_client, demo, "succeeds")
    assert _path(back["Location"]) == f"/es/payments/{_token(demo)}/return/"
    receipt = _back(resident_client, back)
    assert _path(receipt["Location"]) == f"/es/payments/{_token(demo)}/receipt/"
    page = resident_client.get(_path(receipt["Location"]))
    assert '<html lang="es"' in page.content.decode()
    payment = Payment.objects.get()
    assert payment.language == "es"
    assert payment.receipt_number in _text(page)
    assert "$100.00" in _text(page)
    assert f'href="/es/permits/{approved.number}/"' in page.content.decode()


# --- 3. Declined, and the bank's confirmation ----------------------------------------------------


def test_a_declined_card_charges_nothing(resident_client, approved):
    outcome = _pay(resident_client, _permit_url(approved), card="declined")
    assert outcome.status_code == 200
    text = _text(outcome)
    assert "Your payment did not go through" in text
    assert "The card was declined or the payment could not be completed. Nothing was charged." in (
        text
    )
    assert "The balance due is still $100.00." in text
    assert f'href="/pay/permit/{approved.number}/"' in outcome.content.decode()  # Try again

    payment = Payment.objects.get()
    assert payment.status == "rejected"
    assert payment.settled_at is None and payment.receipt_number is None
    approved.refresh_from_db()
    assert approved.status == "approved"
    assert approved.balance == Decimal("100.00")
    assert not approved.payments.exists()
    assert not Notification.objects.filter(template="payment_receipt").exists()
    # The receipt address of a declined payment is not a receipt.
    receipt = resident_client.get(f"/payments/{payment.token}/receipt/", follow=True)
    assert "Receipt R-" not in _text(receipt)
    assert "did not go through" in _text(receipt)


def test_a_card_the_bank_confirms_is_paid(resident_client, approved):
    demo = _to_demo(resident_client, _permit_url(approved))
    asked = _card(resident_client, demo, "authentication")
    assert asked.status_code == 200
    text = _text(asked)
    assert "Confirm it is you" in text
    assert "Your bank asks you to confirm a payment of $100.00." in text
    assert "Do not confirm" in text

    # Back at City Hall before answering: still being confirmed, nothing recorded.
    waiting = resident_client.get(f"/payments/{_token(demo)}/return/")
    assert "We are confirming your payment" in _text(waiting)
    assert not Application.objects.get(pk=approved.pk).payments.exists()

    confirmed = resident_client.post(demo, {"step": "authenticate", "answer": "approve"})
    receipt = _back(resident_client, confirmed)
    assert receipt.status_code == 302
    assert "Receipt R-" in _text(resident_client.get(_path(receipt["Location"])))
    approved.refresh_from_db()
    assert approved.status == "issued"
    assert approved.balance == 0


def test_refusing_the_banks_confirmation_declines(resident_client, approved):
    demo = _to_demo(resident_client, _permit_url(approved))
    _card(resident_client, demo, "authentication")
    refused = resident_client.post(demo, {"step": "authenticate", "answer": "fail"})
    outcome = _back(resident_client, refused)
    assert "Your payment did not go through" in _text(outcome)
    assert "Nothing was charged." in _text(outcome)
    assert Payment.objects.get().status == "rejected"
    approved.refresh_from_db()
    assert approved.status == "approved"
    assert approved.balance == Decimal("100.00")
    assert DemoCharge.objects.get().outcome == "declined"


# --- 4. Leaving the card page ---------------------------------------------------------------------


def test_leaving_the_card_page_then_paying_after_all(resident_client, approved):
    demo = _to_demo(resident_client, _permit_url(approved))
    card_page = resident_client.get(demo)
    cancel = re.search(r'href="([^"]+/cancelled/)"', card_page.content.decode()).group(1)
    assert "Cancel and go back to City Hall" in _text(card_page)

    left = resident_client.get(_path(cancel))
    assert left.status_code == 200
    text = _text(left)
    assert "Payment not made" in text
    assert "You left the card page before paying. Nothing was charged." in text
    assert "The balance due is still $100.00." in text
    assert not Application.objects.get(pk=approved.pk).payments.exists()

    # The payer went back (the browser's back button) and paid: the provider is asked, so the
    # success is found even from the cancel address.
    _card(resident_client, demo, "succeeds")
    found = resident_client.get(_path(cancel))
    assert found.status_code == 302
    assert _path(found["Location"]) == f"/payments/{_token(demo)}/receipt/"
    approved.refresh_from_db()
    assert approved.status == "issued"
    assert approved.payments.get().amount == Decimal("100.00")


def test_the_provider_not_answering_charges_nothing(monkeypatch, resident_client, approved):
    def down(self, payment, data=None):
        raise PaymentError("Connection refused")

    monkeypatch.setattr(DemoProvider, "get_form", down)
    url = _permit_url(approved)
    page = resident_client.get(url)
    key = _key(page)
    response = resident_client.post(url, {"how_much": "part", "part": "40", "key": key})
    assert response.status_code == 503
    text = _text(response)
    assert "The card payment service is not answering" in text
    assert "Nothing was charged and nothing is lost" in text
    # The form comes back as it was typed, with a new key for the next try.
    assert 'name="part" value="40"' in response.content.decode()
    assert _key(response) != key
    assert Payment.objects.get().status == "error"
    approved.refresh_from_db()
    assert approved.balance == Decimal("100.00")

    monkeypatch.undo()
    retry = resident_client.post(url, {"how_much": "part", "part": "40", "key": _key(response)})
    assert retry.status_code == 302
    _back(resident_client, _card(resident_client, _path(retry["Location"]), "succeeds"))
    approved.refresh_from_db()
    assert approved.balance == Decimal("60.00")
    assert Payment.objects.filter(settled_at__isnull=False).count() == 1


# --- 5. Paying part of the balance ---------------------------------------------------------------


def test_paying_part_then_the_rest(resident_client, approved):
    url = _permit_url(approved)
    first = _pay(resident_client, url, how_much="part", part="40")
    receipt = resident_client.get(_path(first["Location"]))
    text = _text(receipt)
    assert "Amount applied $40.00" in text
    assert "Balance still due $60.00" in text
    approved.refresh_from_db()
    assert list(approved.payments.values_list("amount", flat=True)) == [Decimal("40.00")]
    assert approved.balance == Decimal("60.00")
    assert approved.status == "approved"
    status_page = _text(resident_client.get(f"/permits/{approved.number}/"))
    assert "Total $100.00 · paid $40.00 · due $60.00" in status_page
    assert "Pay $60.00 online" in status_page

    page = resident_client.get(url)
    assert "Balance due $60.00" in _text(page)
    assert "The full balance, $60.00" in _text(page)
    _pay(resident_client, url)
    approved.refresh_from_db()
    assert sorted(approved.payments.values_list("amount", flat=True)) == [
        Decimal("40.00"),
        Decimal("60.00"),
    ]
    assert approved.balance == 0
    assert approved.status == "issued"
    assert Payment.objects.filter(settled_at__isnull=False).count() == 2


@pytest.mark.parametrize(
    ("part", "error"),
    [
        ("0", "Enter at least $1.00."),
        ("0.50", "Enter at least $1.00."),
        ("1000", "Enter an amount no more than the balance due."),
        ("abc", "Enter a number."),
        ("", "Enter the amount you want to pay."),
    ],
)
def test_a_bad_part_is_refused_and_kept(resident_client, approved, part, error):
    response = _start(resident_client, _permit_url(approved), how_much="part", part=part)
    assert response.status_code == 400
    text = _text(response)
    assert error in text
    assert "Pay online" in text
    assert re.search(rf'name="part" value="{re.escape(part)}"', response.content.decode()) or (
        part == "" and 'name="part" value=' not in response.content.decode()
    )
    assert re.search(r'name="how_much" value="part"[^>]*checked', response.content.decode())
    assert not Payment.objects.exists()
    assert not DemoCharge.objects.exists()


def test_a_word_for_an_amount_gets_one_error_not_two(resident_client, approved):
    response = _start(resident_client, _permit_url(approved), how_much="part", part="abc")
    assert response.status_code == 400
    errors = re.findall(
        r'<span class="usa-error-message" id="id_part_error">([^<]+)</span>',
        response.content.decode(),
    )
    assert errors == ["Enter a number."]


# --- 6. A double click -------------------------------------------------------------------------


def test_the_same_form_sent_twice_is_one_payment(resident, resident_client, approved):
    url = _permit_url(approved)
    key = _key(resident_client.get(url))
    first = resident_client.post(url, {"how_much": "all", "key": key})
    second = resident_client.post(url, {"how_much": "all", "key": key})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Payment.objects.count() == 1

    # Paid, the same form once more (the back button) says nothing is due and pays nothing.
    _back(resident_client, _card(resident_client, _path(first["Location"]), "succeeds"))
    third = resident_client.post(url, {"how_much": "all", "key": key})
    assert "Nothing to pay" in _text(third)
    assert Payment.objects.count() == 1
    assert Application.objects.get(pk=approved.pk).payments.count() == 1

    # The key of one permit's form, sent for another permit: refused.
    another = make_application(resident, status="approved")
    tampered = resident_client.post(_permit_url(another), {"how_much": "all", "key": key})
    assert tampered.status_code == 400
    assert "Something in the request was wrong" in _text(tampered)
    assert Payment.objects.count() == 1
    assert Application.objects.get(pk=another.pk).balance == Decimal("100.00")


# --- 7. The card processing fee ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "stated", "fee"),
    [
        ("2.5%", "2.5% of the amount you pay ($2.50 on the full balance)", "2.50"),
        ("1.50", "$1.50 ($1.50 on the full balance)", "1.50"),
    ],
)
def test_the_card_fee_is_stated_and_added(
    settings, resident_client, approved, setting, stated, fee
):
    settings.PAYMENT_CONVENIENCE_FEE = setting
    url = _permit_url(approved)
    page = _text(resident_client.get(url))
    assert f"Card processing fee {stated}" in page
    assert "The processing fee is added to what you pay" in page

    total = Decimal("100.00") + Decimal(fee)
    demo = _to_demo(resident_client, url)
    assert f"Total to pay: ${total}" in _text(resident_client.get(demo))
    receipt = _back(resident_client, _card(resident_client, demo, "succeeds"))
    text = _text(resident_client.get(_path(receipt["Location"])))
    assert "Amount applied $100.00" in text
    assert f"Card processing fee ${fee}" in text
    assert f"Total charged to your card ${total}" in text
    assert "Balance still due $0.00" in text

    payment = Payment.objects.get()
    assert (payment.amount, payment.convenience_fee, payment.total) == (
        Decimal("100.00"),
        Decimal(fee),
        total,
    )
    assert payment.captured_amount == total
    approved.refresh_from_db()
    assert list(approved.payments.values_list("amount", flat=True)) == [Decimal("100.00")]
    assert approved.status == "issued"


def test_no_fee_is_not_mentioned(resident_client, approved):
    page = _text(resident_client.get(_permit_url(approved)))
    assert "Card processing fee" not in page
    assert "processing fee is added" not in page


# --- 8. Who may pay, and when -------------------------------------------------------------------


def test_another_resident_sees_nothing_of_it(resident_client, other_resident, approved):
    demo = _to_demo(resident_client, _permit_url(approved))
    token = _token(demo)
    outsider = Client()
    outsider.force_login(other_resident)
    assert outsider.get(_permit_url(approved)).status_code == 404
    key = _key(resident_client.get(_permit_url(approved)))
    assert outsider.post(_permit_url(approved), {"how_much": "all", "key": key}).status_code == 404
    for page in ("return", "cancelled", "receipt"):
        assert outsider.get(f"/payments/{token}/{page}/").status_code == 404, page

    _back(resident_client, _card(resident_client, demo, "succeeds"))
    receipt = outsider.get(f"/payments/{token}/receipt/")
    assert receipt.status_code == 404
    assert Payment.objects.get().receipt_number not in receipt.content.decode()
    assert Payment.objects.count() == 1


def test_a_visitor_is_asked_to_sign_in(approved):
    visitor = Client()
    response = visitor.get(_permit_url(approved))
    assert response.status_code == 302
    assert _path(response["Location"]) == f"/accounts/login/?next=/pay/permit/{approved.number}/"
    assert visitor.post(_permit_url(approved), {"how_much": "all"}).status_code == 302
    assert not Payment.objects.exists()


def test_nothing_due_says_so(resident_client, approved):
    _pay(resident_client, _permit_url(approved))
    again = resident_client.get(_permit_url(approved))
    assert again.status_code == 200
    text = _text(again)
    assert "Nothing to pay" in text
    assert f"{approved.number}: nothing is due now." in text
    assert 'name="key"' not in again.content.decode()


def test_an_unknown_permit_or_kind_is_not_found(resident_client):
    assert resident_client.get("/pay/permit/BLD-2000-99999/").status_code == 404
    assert resident_client.get("/pay/parking/ABC-1/").status_code == 404


# --- 9. A fine, with no account ------------------------------------------------------------------


def _fine_url(case, prefix: str = "") -> str:
    return f"{prefix}/pay/fine/{case.number}/"


def test_finding_a_fine_by_notice_and_address(fined_case):
    visitor = Client()
    lookup = visitor.get("/pay/fine/")
    text = _text(lookup)
    assert "Pay a code enforcement fine" in text
    assert "You do not need an account." in text

    found = visitor.post(
        "/pay/fine/", {"notice": fined_case.number.lower(), "address": "120 oak st"}
    )
    assert found.status_code == 302
    assert found["Location"] == _fine_url(fined_case)
    page = visitor.get(_fine_url(fined_case))
    assert page.status_code == 200
    text = _text(page)
    assert f"Fine for code case {fined_case.number}" in text
    assert "Balance due $250.00" in text
    assert "120 Oak Street" in text
    assert 'name="email"' in page.content.decode()  # no account: where to send the receipt


@pytest.mark.parametrize(
    ("notice", "address"),
    [
        (None, "121 Oak Street"),
        (None, "120 Elm Street"),
        (None, "Oak Street"),
        ("CE-2000-99999", "120 Oak Street"),
    ],
)
def test_a_wrong_notice_or_address_finds_nothing(fined_case, notice, address):
    visitor = Client()
    notice = notice or fined_case.number
    response = visitor.post("/pay/fine/", {"notice": notice, "address": address})
    assert response.status_code == 400
    text = _text(response)
    assert "We could not find a fine with that notice number at that address." in text
    html = response.content.decode()
    assert f'name="notice" value="{notice}"' in html
    assert f'name="address" value="{address}"' in html
    # Nothing was proved: the fine's page is still closed.
    assert visitor.get(_fine_url(fined_case)).status_code == 302


def test_a_fine_is_not_payable_without_the_lookup(fined_case, other_resident):
    visitor = Client()
    response = visitor.get(_fine_url(fined_case))
    assert response.status_code == 302
    assert _path(response["Location"]).startswith("/accounts/login/")
    assert visitor.post(_fine_url(fined_case), {"how_much": "all"}).status_code == 302
    signed_in = Client()
    signed_in.force_login(other_resident)
    assert signed_in.get(_fine_url(fined_case)).status_code == 404
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("prefix", "typed", "to", "language"),
    [
        ("", "payer@example.com", "payer@example.com", "en"),
        ("/es", "", "owner@example.com", "es"),
    ],
)
def test_paying_a_fine_with_no_account(fined_case, prefix, typed, to, language):
    visitor = Client()
    found = visitor.post(
        f"{prefix}/pay/fine/", {"notice": fined_case.number, "address": "120 Oak St."}
    )
    assert found["Location"] == _fine_url(fined_case, prefix)
    receipt = _pay(visitor, _fine_url(fined_case, prefix), email=typed)
    assert receipt.status_code == 302
    receipt_page = visitor.get(_path(receipt["Location"]))
    assert receipt_page.status_code == 200
    payment = Payment.objects.get()
    assert payment.payer is None
    assert payment.billing_email == to
    assert payment.language == language
    html = receipt_page.content.decode()
    assert f'<html lang="{language}"' in html
    assert payment.receipt_number in _text(receipt_page)
    assert "$250.00" in _text(receipt_page)
    assert to in _text(receipt_page)

    fined_case.refresh_from_db()
    assert fined_case.fine_balance == 0
    (row,) = fined_case.fine_payments.all()
    assert (row.amount, row.method, row.reference, row.online_payment_id) == (
        Decimal("250.00"),
        "online",
        payment.receipt_number,
        payment.pk,
    )

    (notification,) = Notification.objects.filter(template="payment_receipt")
    assert notification.user is None
    assert notification.language == language
    assert [(d.channel, d.address) for d in notification.deliveries.all()] == [("email", to)]
    assert payment.receipt_number in notification.body_text
    assert "$250.00" in notification.body_text
    link = re.search(r"https?://\S+/payments/\S+/receipt/", notification.body_text).group(0)
    assert _path(link) == f"{prefix}/payments/{payment.token}/receipt/"
    # The link in the email opens the receipt in any browser (the token is the key).
    opened = Client().get(_path(link))
    assert opened.status_code == 200
    assert payment.receipt_number in _text(opened)

    # Paid: the page says nothing is due.
    assert "Nothing to pay" in _text(visitor.get(_fine_url(fined_case)))


def test_the_fine_lookup_is_rate_limited(settings, fined_case):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "pay_lookup": {"ip": "3/h"}}
    visitor = Client()
    for _n in range(3):
        response = visitor.post("/pay/fine/", {"notice": "CE-2000-00001", "address": "1 Elm St"})
        assert response.status_code == 400
    limited = visitor.post("/pay/fine/", {"notice": fined_case.number, "address": "120 Oak St"})
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    text = _text(limited)
    assert "Too many tries from this connection. Please try again in" in text
    assert f'name="notice" value="{fined_case.number}"' in limited.content.decode()
    # Even the right answer is refused until the window passes: nothing was proved.
    assert visitor.get(_fine_url(fined_case)).status_code == 302


# --- 10. The citation email -----------------------------------------------------------------------


def test_the_citation_email_links_to_paying_online(fined_case):
    (notification,) = Notification.objects.filter(template="fine_citation")
    assert notification.language == "es"
    assert [(d.channel, d.address) for d in notification.deliveries.all()] == [
        ("email", "owner@example.com")
    ]
    assert fined_case.number in notification.subject
    assert fined_case.number in notification.body_text
    assert re.search(r"\$250[.,]00", notification.body_text)  # the format: see the next test
    assert "120 Oak Street" in notification.body_text
    (link,) = re.findall(r"https?://\S+/pay/fine/", notification.body_text)
    assert _path(link) == "/es/pay/fine/"
    assert f'{link}"' in notification.body_html
    opened = Client().get(_path(link))
    assert opened.status_code == 200
    assert '<html lang="es"' in opened.content.decode()


def test_the_citation_states_the_fine_as_the_pay_page_does(fined_case):
    notification = Notification.objects.get(template="fine_citation")
    assert "$250.00" in notification.body_text
    assert "$250.00" in notification.body_html
    assert "$250.00" in notification.sms_text


# --- 11. Refunds in the console -------------------------------------------------------------------


@pytest.fixture
def paid(resident_client, approved) -> Payment:
    """The resident paid the $100.00 online; the permit is issued."""
    _pay(resident_client, _permit_url(approved))
    payment = Payment.objects.get()
    assert payment.is_paid
    return payment


@pytest.fixture
def manager(db):
    return verified_client(make_staff(Role.MANAGER))


@pytest.fixture
def technician(db):
    return verified_client(make_staff(Role.PERMIT_TECHNICIAN))


def _console_payment(pk: int, page: str = "change") -> str:
    return f"/console/billing/payment/{pk}/{page}/"


def test_a_manager_refunds_part_of_a_payment(manager, resident_client, approved, paid):
    page = manager.get(_console_payment(paid.pk))
    assert page.status_code == 200
    text = _text(page)
    assert paid.receipt_number in text
    assert "Refund to the card" in text
    assert "At most $100.00 can be refunded." in text
    assert "No refunds." in text

    response = manager.post(
        _console_payment(paid.pk, "refund"),
        {"amount": "30", "reason": "Fee charged twice at the counter"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == _console_payment(paid.pk)
    text = _text(response)
    assert f"Refunded $30.00 of {paid.receipt_number} to the card." in text
    assert "At most $70.00 can be refunded." in text
    assert "Fee charged twice at the counter" in text

    (refund,) = Refund.objects.all()
    assert (refund.status, refund.amount, refund.payment_id) == (
        "succeeded",
        Decimal("30.00"),
        paid.pk,
    )
    paid.refresh_from_db()
    assert paid.refunded == Decimal("30.00")
    assert paid.status == "confirmed"

    approved.refresh_from_db()
    ledger = list(approved.payments.order_by("created_at").values_list("amount", "method"))
    assert ledger == [(Decimal("100.00"), "online"), (Decimal("-30.00"), "refund")]
    assert approved.balance == Decimal("30.00")
    assert TimelineEvent.objects.filter(application=approved, kind="payment").count() == 2
    status_page = _text(resident_client.get(f"/permits/{approved.number}/"))
    assert "Refund to card: $30.00" in status_page
    assert "Total $100.00 · paid $70.00 · due $30.00" in status_page

    receipt = _text(resident_client.get(f"/payments/{paid.token}/receipt/"))
    assert "Refunded $30.00" in receipt

    (notification,) = Notification.objects.filter(template="refund_receipt")
    assert notification.user.email == "rosa@example.com"
    assert notification.language == "es"
    assert paid.receipt_number in notification.subject
    assert "$30.00" in notification.body_text
    assert f"/es/payments/{paid.token}/receipt/" in notification.body_text


def test_a_refund_above_what_is_left_is_refused(manager, approved, paid):
    response = manager.post(
        _console_payment(paid.pk, "refund"), {"amount": "100.01", "reason": "Too much"}
    )
    assert response.status_code in (200, 400)
    text = _text(response)
    assert "At most $100.00 of this payment can be refunded." in text
    assert 'value="100.01"' in response.content.decode()
    assert "Too much</textarea>" in response.content.decode()
    assert not Refund.objects.exists()
    approved.refresh_from_db()
    assert list(approved.payments.values_list("amount", flat=True)) == [Decimal("100.00")]
    assert not Notification.objects.filter(template="refund_receipt").exists()


def test_a_refused_refund_records_nothing(manager, approved, paid):
    """A refused refund comes back as the payment's page with the error (400): nothing is
    refunded, nothing enters the ledger and nobody is emailed."""
    for data in (
        {"amount": "100.01", "reason": "Too much"},
        {"amount": "-5", "reason": "Negative"},
        {"amount": "", "reason": ""},
    ):
        response = manager.post(_console_payment(paid.pk, "refund"), data)
        assert response.status_code == 400, data
    assert not Refund.objects.exists()
    paid.refresh_from_db()
    assert paid.refunded == 0
    approved.refresh_from_db()
    assert list(approved.payments.values_list("amount", flat=True)) == [Decimal("100.00")]
    assert not Notification.objects.filter(template="refund_receipt").exists()
    assert DemoCharge.objects.get().refunded == 0


def test_a_refund_needs_a_reason_and_an_amount(manager, paid):
    response = manager.post(_console_payment(paid.pk, "refund"), {"amount": "-5", "reason": ""})
    assert response.status_code in (200, 400)
    assert "This field is required." in _text(response)  # the reason
    assert 'value="-5"' in response.content.decode()
    assert not Refund.objects.exists()


def test_a_permit_technician_sees_the_payment_but_cannot_refund(technician, paid):
    page = technician.get(_console_payment(paid.pk))
    assert page.status_code == 200
    text = _text(page)
    assert paid.receipt_number in text
    assert "Refunds need the “refund online payments” permission." in text
    assert 'name="reason"' not in page.content.decode()

    response = technician.post(
        _console_payment(paid.pk, "refund"), {"amount": "30", "reason": "Trying"}
    )
    assert response.status_code == 403
    assert not Refund.objects.exists()
    paid.refresh_from_db()
    assert paid.refunded == 0


def test_the_payment_list_filters_and_searches(manager, resident_client, approved):
    url = _permit_url(approved)
    # Two payments of the full balance crossed (two tabs): the second paid more than was due.
    first_demo = _to_demo(resident_client, url)
    second_demo = _to_demo(resident_client, url)
    assert first_demo != second_demo
    _back(resident_client, _card(resident_client, first_demo, "succeeds"))
    receipt = _back(resident_client, _card(resident_client, second_demo, "succeeds"))
    second_receipt = _text(resident_client.get(_path(receipt["Location"])))
    assert "Paid more than was due" in second_receipt
    first, second = Payment.objects.order_by("settled_at")
    assert (first.overpaid, second.overpaid) == (Decimal("0"), Decimal("100.00"))

    listing = manager.get("/console/billing/payment/")
    assert listing.status_code == 200
    text = _text(listing)
    assert first.receipt_number in text and second.receipt_number in text
    assert "Paid more than was due (refund the rest)" in text

    overpaid = _text(manager.get("/console/billing/payment/?settled=overpaid"))
    assert second.receipt_number in overpaid
    assert first.receipt_number not in overpaid

    found = _text(manager.get(f"/console/billing/payment/?q={first.receipt_number}"))
    assert first.receipt_number in found
    assert second.receipt_number not in found


def test_a_manager_refunds_part_of_a_fine(manager, fined_case):
    visitor = Client()
    visitor.post("/es/pay/fine/", {"notice": fined_case.number, "address": "120 Oak St"})
    _pay(visitor, _fine_url(fined_case, "/es"), email="payer@example.com")
    payment = Payment.objects.get()

    page = _text(manager.get(_console_payment(payment.pk)))
    assert fined_case.number in page
    assert "At most $250.00 can be refunded." in page
    response = manager.post(
        _console_payment(payment.pk, "refund"),
        {"amount": "50", "reason": "Fine reduced on appeal"},
        follow=True,
    )
    assert f"Refunded $50.00 of {payment.receipt_number} to the card." in _text(response)
    fined_case.refresh_from_db()
    assert fined_case.fine_balance == Decimal("50.00")
    assert sorted(fined_case.fine_payments.values_list("amount", "method")) == [
        (Decimal("-50.00"), "refund"),
        (Decimal("250.00"), "online"),
    ]
    (notification,) = Notification.objects.filter(template="refund_receipt")
    assert notification.language == "es"
    assert [(d.channel, d.address) for d in notification.deliveries.all()] == [
        ("email", "payer@example.com")
    ]
    assert "$50.00" in notification.body_text
    assert f"/es/payments/{payment.token}/receipt/" in notification.body_text
    # The case's page in the console shows its fine's ledger, each row linked to its payment.
    supervisor = verified_client(make_staff(Role.CODE_SUPERVISOR))
    case_page = _text(
        supervisor.get(reverse("admin:code_enforcement_codecase_change", args=[fined_case.pk]))
    )
    assert f"Paid online $250.00 — {payment.receipt_number}" in case_page
    assert f"Refund to card -$50.00 — {payment.receipt_number}" in case_page
    assert "Still due: $50.00" in case_page


# --- 12. The daily reconciliation ----------------------------------------------------------------


def _reconcile(client: Client, day) -> str:
    """Run the day; the report page's text."""
    response = client.post("/console/billing/reconciliation/run/", {"day": day.isoformat()})
    assert response.status_code == 302, response
    report = client.get(_path(response["Location"]))
    assert report.status_code == 200
    return _text(report)


def test_reconciling_today(manager, resident_client, approved, paid):
    manager.post(
        _console_payment(paid.pk, "refund"), {"amount": "30", "reason": "Counter double charge"}
    )
    refund = Refund.objects.get()
    today = timezone.localdate()

    text = _reconcile(manager, today)
    assert f"Reconciliation for {today:%A}, {today:%B} {today.day}, {today.year} (test)" in text
    assert "Payments 1 · $100.00 (card processing fees $0.00)" in text
    assert "Refunds 1 · $30.00" in text
    assert "Net, our records $70.00" in text
    assert "Net, the provider's $70.00" in text
    assert "None: every payment and refund of the day agrees with the provider." in text
    assert "Permit and licence fees 70.00" in text
    assert paid.receipt_number in text
    assert f"demo_po_{today:%Y%m%d} 70.00" in text

    report = Reconciliation.objects.get(day=today)
    listing = _text(manager.get("/console/billing/reconciliation/"))
    assert "Reconcile a day now" in listing
    assert "None" in listing

    response = manager.get(f"/console/billing/reconciliation/{report.pk}/csv/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="reconciliation-{today}.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "type",
        "receipt",
        "paid_for",
        "provider_reference",
        "amount",
        "convenience_fee",
        "total",
        "at",
    ]
    paid.refresh_from_db()
    body = [row for row in rows[1:] if row and row[0] in ("payment", "refund")]
    assert [row[:7] for row in body] == [
        [
            "payment",
            paid.receipt_number,
            f"permit {approved.number}",
            paid.provider_reference,
            "100.00",
            "0.00",
            "100.00",
        ],
        [
            "refund",
            paid.receipt_number,
            f"permit {approved.number}",
            refund.provider_reference,
            "-30.00",
            "0.00",
            "-30.00",
        ],
    ]
    mismatch_header = rows.index(["mismatch", "reference", "ours", "theirs"])
    assert rows[mismatch_header + 1] == []  # no mismatch rows

    # The provider charged a card for a payment our ledger never recorded (the payer closed
    # the tab before coming back; the sweep has not run yet): the rerun lists it.
    demo = _to_demo(resident_client, _permit_url(approved))
    _card(resident_client, demo, "succeeds")
    charge = DemoCharge.objects.get(token=_token(demo))
    text = _reconcile(manager, today)
    assert "⚠ 1 mismatch" in text
    assert f"At the provider, not recorded by us demo_ch_{charge.pk} — 30.00" in text
    assert "Net, the provider's $100.00" in text
    assert "Net, our records $70.00" in text
    listing = _text(manager.get("/console/billing/reconciliation/"))
    assert "⚠ 1" in listing
    rows = list(
        csv.reader(
            io.StringIO(
                manager.get(f"/console/billing/reconciliation/{report.pk}/csv/").content.decode()
            )
        )
    )
    mismatch_header = rows.index(["mismatch", "reference", "ours", "theirs"])
    assert rows[mismatch_header + 1] == [
        "At the provider, not recorded by us",
        f"demo_ch_{charge.pk}",
        "",
        "30.00",
    ]

    # Our side altered (a total that is not what the card was charged): a different amount.
    Payment.objects.filter(pk=paid.pk).update(total=Decimal("90.00"))
    text = _reconcile(manager, today)
    assert "⚠ 2 mismatches" in text
    assert f"Different amounts {paid.provider_reference} 90.00 100.00" in text


def test_reconciling_a_day_in_the_future_is_refused(manager):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = manager.post(
        "/console/billing/reconciliation/run/", {"day": tomorrow.isoformat()}, follow=True
    )
    assert "Choose a day in the last 400 days, not in the future." in _text(response)
    response = manager.post(
        "/console/billing/reconciliation/run/", {"day": "yesterday"}, follow=True
    )
    assert "Enter the day as YYYY-MM-DD." in _text(response)
    assert not Reconciliation.objects.exists()


# --- 13. Query counts -----------------------------------------------------------------------------


def _settled(application, amount: str, payer) -> Payment:
    """An online payment of `amount`, settled through the provider (as the return page does)."""
    payment = services.start(
        kind="permit",
        reference=application.number,
        amount=Decimal(amount),
        key=uuid.uuid4(),
        payer=payer,
        language="en",
    )
    services.provider_page(payment)
    DemoCharge.objects.create(token=payment.token, amount=payment.total, outcome="succeeded")
    payment = services.refresh(payment.pk)
    assert payment.is_paid
    return payment


def _queries(client: Client, url: str, django_assert_max_num_queries, ceiling: int) -> int:
    with django_assert_max_num_queries(ceiling) as counted:
        assert client.get(url).status_code == 200
    return len(counted.captured_queries)


def test_the_console_payment_list_does_not_grow(manager, resident, django_assert_max_num_queries):
    url = "/console/billing/payment/"
    for _n in range(2):
        _settled(make_application(resident, status="approved"), "100.00", resident)
    manager.get(url)
    few = _queries(manager, url, django_assert_max_num_queries, 100)
    for _n in range(8):
        _settled(make_application(resident, status="approved"), "100.00", resident)
    assert Payment.objects.count() == 10
    _queries(manager, url, django_assert_max_num_queries, few)


def test_the_permit_page_does_not_grow(
    resident, resident_client, approved, django_assert_max_num_queries
):
    """The user, the application, its open request, the ledger (read once per figure on the
    page: total, paid, due, credit, the list), the timeline, the documents: 12 at any size."""
    url = f"/permits/{approved.number}/"
    for _n in range(2):
        _settled(approved, "1.00", resident)
    resident_client.get(url)
    _queries(resident_client, url, django_assert_max_num_queries, 12)
    for _n in range(10):
        _settled(approved, "1.00", resident)
    page = resident_client.get(url)
    assert "Total $100.00 · paid $12.00 · due $88.00" in _text(page)
    assert page.content.decode().count("/receipt/") == 12
    _queries(resident_client, url, django_assert_max_num_queries, 12)


# --- The notices that carry the "Pay" link --------------------------------------------------------


def test_the_approval_email_links_to_paying_online(approved):
    """The applicant reads the fees due and a link that pays them, in their language."""
    approval = Notification.objects.filter(user=approved.applicant, template="permit_notice")
    body = approval.latest("pk").body_text
    assert "$100.00" in body
    assert f"/es/pay/permit/{approved.number}/" in body
    assert "Páguelas en línea y su permiso se emitirá de inmediato" in body


def test_the_printed_notice_of_a_fined_case_says_how_to_pay_online(fined_case):
    """The letter staff print for a citation: the fine, its due date and where to pay it with
    the notice number, in the notice's language."""
    notice = fined_case.notices.latest("issued_at")
    supervisor = verified_client(make_staff(Role.CODE_SUPERVISOR))
    page = supervisor.get(reverse("admin:code_enforcement_notice", args=[notice.pk]))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.content.decode()))
    assert page.status_code == 200
    assert "$250.00" in text
    assert fined_case.number in text
    assert "/pay/fine/" in text
