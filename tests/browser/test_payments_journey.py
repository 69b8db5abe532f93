"""Paying online, as a resident does it in a browser: a Spanish resident pays an approved
permit's $100.00 fee (mouse, then keyboard only) and it is issued, with a receipt on screen and by
email; a declined card, a card the bank must confirm, a double click on "Continue"; and a fine
paid on a phone with no account, by notice number and address. Axe on every page; each page is
screenshotted at 390 and 1280 px (test-artifacts/screenshots/test_payments_journey/)."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from cityhall.payments.models import Payment
from cityhall.roles import Role
from code_enforcement import services as ce_services
from code_enforcement.models import CodeCase
from code_enforcement.tests.factories import case_with_notice, make_request, staff
from permits.models import Application
from permits.tests.factories import make_application
from tests.browser.conftest import ARTIFACTS, Accessibility
from tests.browser.messages import choose, read_email, sees, worker_sends
from tests.personas import PASSWORD, make_resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECEIPT = re.compile(r"R-\d{4}-\d{6}")
TOKEN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
DEMO_URL = re.compile(rf"/payments/{TOKEN}/demo/$")
RECEIPT_URL = re.compile(rf"/payments/{TOKEN}/receipt/$")

# What the Spanish resident reads (the msgstr of locale/es/LC_MESSAGES/django.po).
ES = {
    "sign_in": "Iniciar sesión",
    "email": "Correo electrónico",
    "password": "Contraseña",
    "approved": "Aprobado",
    "approved_next": "Aprobado. Pague las tarifas en línea y se emitirá de inmediato.",
    "pay_now": "Pague en línea ahora y su permiso se emitirá en cuanto se complete el pago.",
    "fees_before": "Total $100.00 · pagado $0.00 · pendiente $100.00",
    "fees_after": "Total $100.00 · pagado $100.00 · pendiente $0.00",
    "pay_button": "Pagar $100.00 en línea",
    "pay_heading": "Pagar en línea",
    "balance": "Saldo pendiente",
    "full_balance": "El saldo completo, $100.00",
    "secure": "Pagará en la página segura de nuestro procesador de tarjetas.",
    "continue": "Continuar al pago",
    "demo_heading": "Página de pago con tarjeta de demostración",
    "demo_total": "Total a pagar: $100.00",
    "accepted": "Una tarjeta de demostración que se acepta",
    "declined": "Una tarjeta de demostración que se rechaza",
    "authentication": "Una tarjeta de demostración para la que el banco pide confirmar que es usted",
    "pay_100": "Pagar $100.00",
    "receipt": "Recibo",
    "received": "Pago recibido",
    "sent_to": "Enviamos este recibo a {}.",
    "amount_applied": "Cantidad aplicada",
    "charged": "Total cobrado a su tarjeta",
    "still_due": "Saldo pendiente",
    "see_status": "Ver su estado",
    "issued": "Emitido",
    "issued_next": "Emitido. Guárdelo para sus registros.",
    "payments": "Pagos",
    "paid_online": "Pagado en línea",
    "receipt_subject": "Recibo {}: pago recibido",
    "issued_subject": "Se emitió su permiso {}.",
    "declined_heading": "Su pago no se completó",
    "nothing_charged": "No se cobró nada.",
    "still_100": "El saldo pendiente sigue siendo $100.00.",
    "try_again": "Intentar de nuevo",
    "confirm_heading": "Confirme que es usted",
    "confirm_amount": "Su banco le pide confirmar un pago de $100.00.",
    "confirm": "Confirmar el pago",
}


# --- Fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def a11y(request):
    """The harness's axe check, and a screenshot of every page checked, at 390 and 1280 px."""
    test = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name).strip("-")
    folder = ARTIFACTS / "test_payments_journey" / test
    shutil.rmtree(folder, ignore_errors=True)  # this run's pictures only
    return Accessibility(screenshots=folder)


@pytest.fixture(autouse=True)
def _demo_provider(settings, tmp_path):
    """The demo provider (a page of this site plays the card processor's), no card fee."""
    settings.PAYMENT_PROVIDER = "test"
    settings.PAYMENT_CONVENIENCE_FEE = "0"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rosa(db):
    return make_resident("rosa@example.com", language="es", first_name="Rosa")


@pytest.fixture
def approved(rosa) -> Application:
    """An approved permit: only the $100.00 fee stands between it and issuance."""
    application = make_application(rosa, status="approved")
    assert application.balance == Decimal("100.00")
    return application


@pytest.fixture
def fined_case(db) -> CodeCase:
    """A citation escalated with a $250.00 fine at 120 Oak Street."""
    inspector = staff(Role.CODE_INSPECTOR)
    case = case_with_notice(
        make_request(address="120 Oak Street"),
        actor=inspector,
        owner_email="owner@example.com",
        owner_language="es",
    )
    ce_services.case_reinspect(case=case, today=timezone.localdate())
    case = CodeCase.objects.get(pk=case.pk)
    ce_services.case_record_reinspection(
        case=case, actor=inspector, complied=False, fine=Decimal("250.00"), notes="Not fixed"
    )
    return CodeCase.objects.get(pk=case.pk)


# --- Helpers --------------------------------------------------------------------------------------


def fact(page: Page, term: str) -> Locator:
    """The value (<dd>) of a fact list's term (<dt>)."""
    return page.locator("main dt", has_text=term).first.locator("xpath=following-sibling::dd[1]")


def sign_in_to(page: Page, a11y, live_server, user, path: str) -> None:
    """Open `path` signed out: the sign-in page comes first, then `path` itself (Spanish)."""
    page.goto(f"{live_server.url}{path}")
    page.wait_for_url(re.compile(r"/es/accounts/login/"))
    sees(page, a11y, ES["sign_in"], "Si aún no ha creado una cuenta")
    page.get_by_label(ES["email"]).fill(user.email)
    page.get_by_label(ES["password"]).fill(PASSWORD)
    page.get_by_role("button", name=ES["sign_in"]).click()
    page.wait_for_url(f"{live_server.url}{path}")


def expect_approved_permit(page: Page, a11y, application: Application) -> None:
    sees(page, a11y, application.number, ES["approved_next"])
    expect(page.locator("main .usa-tag").first).to_have_text(ES["approved"])
    expect(page.locator("main")).to_contain_text(ES["fees_before"])
    expect(page.locator("main")).to_contain_text(ES["pay_now"])
    expect(page.get_by_role("link", name=ES["pay_button"], exact=True)).to_be_visible()


def expect_pay_page(page: Page, a11y, application: Application) -> None:
    page.wait_for_url(re.compile(rf"/es/pay/permit/{application.number}/$"))
    sees(page, a11y, ES["pay_heading"], ES["secure"])
    expect(fact(page, ES["balance"])).to_have_text("$100.00")
    expect(page.get_by_role("radio", name=ES["full_balance"])).to_be_checked()
    # Signed in: the receipt goes to the account's email; no address is asked for.
    expect(page.get_by_role("textbox", name=re.compile("recibo"))).to_have_count(0)


def expect_demo_page(page: Page, a11y, *, heading: str, total: str, accepted: str) -> None:
    """The demo provider's card page as it opens: the total, no error yet, the accepted card
    already chosen (its initial)."""
    sees(page, a11y, heading, total)
    expect(page.locator("[data-error-summary]")).to_have_count(0)
    expect(page.get_by_role("radio", name=accepted, exact=True)).to_be_checked()


def expect_spanish_demo_page(page: Page, a11y) -> None:
    page.wait_for_url(re.compile(rf"/es{DEMO_URL.pattern}"))
    expect_demo_page(
        page, a11y, heading=ES["demo_heading"], total=ES["demo_total"], accepted=ES["accepted"]
    )


def expect_receipt(page: Page, a11y, email: str) -> str:
    """The receipt page in Spanish; returns its receipt number."""
    page.wait_for_url(re.compile(rf"/es{RECEIPT_URL.pattern}"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(rf"^{ES['receipt']} {RECEIPT.pattern}$"))
    number = RECEIPT.search(heading.inner_text()).group(0)
    assert number.startswith(f"R-{timezone.localdate().year}-"), number
    sees(page, a11y, f"{ES['receipt']} {number}", ES["sent_to"].format(email))
    expect(page.get_by_role("heading", name=ES["received"])).to_be_visible()
    expect(fact(page, ES["amount_applied"])).to_have_text("$100.00")
    expect(fact(page, ES["charged"])).to_have_text("$100.00")
    expect(fact(page, ES["still_due"])).to_have_text("$0.00")
    return number


def expect_issued_permit(page: Page, a11y, application: Application, number: str) -> None:
    page.wait_for_url(re.compile(rf"/es/permits/{application.number}/$"))
    sees(page, a11y, application.number, ES["issued_next"])
    expect(page.locator("main .usa-tag").first).to_have_text(ES["issued"])
    expect(page.locator("main")).to_contain_text(ES["fees_after"])
    expect(page.get_by_role("link", name=re.compile(r"^Pagar \$"))).to_have_count(0)
    payments = page.get_by_role("table", name=ES["payments"])
    row = payments.get_by_role("row").filter(has_text=number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(ES["paid_online"])
    expect(row).to_contain_text("$100.00")
    expect(row.get_by_role("link", name=number, exact=True)).to_be_visible()


def start_paying(page: Page, a11y, live_server, user, application: Application) -> None:
    """Signed in, from the permit's page to the demo card page."""
    sign_in_to(page, a11y, live_server, user, f"/es/permits/{application.number}/")
    expect_approved_permit(page, a11y, application)
    page.get_by_role("link", name=ES["pay_button"], exact=True).click()
    expect_pay_page(page, a11y, application)
    page.get_by_role("button", name=ES["continue"]).click()
    expect_spanish_demo_page(page, a11y)


# --- 1. The whole trip, in Spanish, with a mouse ----------------------------------------------------


def test_spanish_resident_pays_an_approved_permit_and_it_is_issued(
    page, a11y, live_server, rosa, approved
):
    start_paying(page, a11y, live_server, rosa, approved)
    choose(page, ES["accepted"])
    expect(page.get_by_role("radio", name=ES["accepted"], exact=True)).to_be_checked()
    page.get_by_role("button", name=ES["pay_100"], exact=True).click()

    number = expect_receipt(page, a11y, rosa.email)
    payment = Payment.objects.get()
    assert payment.receipt_number == number
    assert page.url.endswith(f"/es/payments/{payment.token}/receipt/")

    page.get_by_role("link", name=ES["see_status"]).click()
    expect_issued_permit(page, a11y, approved, number)
    approved.refresh_from_db()
    assert approved.status == "issued"
    assert approved.balance == 0

    # The receipt by email, in Spanish; its link opens the receipt.
    worker_sends()
    links = read_email(
        live_server, to=rosa.email, subject=ES["receipt_subject"].format(number), says=number
    )
    (link,) = [link for link in links if link.endswith(f"/es/payments/{payment.token}/receipt/")]
    read_email(
        live_server,
        to=rosa.email,
        subject=ES["issued_subject"].format(approved.number),
        says=approved.number,
    )
    page.goto(link)
    expect_receipt(page, a11y, rosa.email)

    # The receipt link in the permit's payments table opens it too.
    page.goto(f"{live_server.url}/es/permits/{approved.number}/")
    a11y(page)
    page.get_by_role("table", name=ES["payments"]).get_by_role("link", name=number).click()
    expect_receipt(page, a11y, rosa.email)


# --- 2. A declined card ------------------------------------------------------------------------------


def test_a_declined_card_charges_nothing_and_try_again_goes_back(
    page, a11y, live_server, rosa, approved
):
    start_paying(page, a11y, live_server, rosa, approved)
    choose(page, ES["declined"])
    page.get_by_role("button", name=ES["pay_100"], exact=True).click()

    page.wait_for_url(re.compile(rf"/es/payments/{TOKEN}/return/$"))
    sees(page, a11y, ES["declined_heading"], ES["nothing_charged"])
    expect(page.get_by_role("alert")).to_contain_text(ES["nothing_charged"])
    expect(page.locator("main")).to_contain_text(ES["still_100"])
    assert Payment.objects.get().status == "rejected"

    page.get_by_role("link", name=ES["try_again"]).click()
    expect_pay_page(page, a11y, approved)
    approved.refresh_from_db()
    assert approved.status == "approved"
    assert approved.balance == Decimal("100.00")
    assert not approved.payments.exists()


# --- 3. A card the bank must confirm -----------------------------------------------------------------


def test_a_card_the_bank_confirms_ends_on_the_receipt(page, a11y, live_server, rosa, approved):
    start_paying(page, a11y, live_server, rosa, approved)
    choose(page, ES["authentication"])
    page.get_by_role("button", name=ES["pay_100"], exact=True).click()

    sees(page, a11y, ES["confirm_heading"], ES["confirm_amount"])
    page.get_by_role("button", name=ES["confirm"]).click()
    number = expect_receipt(page, a11y, rosa.email)
    assert Payment.objects.get().receipt_number == number
    approved.refresh_from_db()
    assert approved.status == "issued"


# --- 4. A double click on "Continue to payment" -------------------------------------------------------


def test_a_double_click_on_continue_makes_one_payment(page, a11y, live_server, rosa, approved):
    sign_in_to(page, a11y, live_server, rosa, f"/es/pay/permit/{approved.number}/")
    expect_pay_page(page, a11y, approved)
    page.get_by_role("button", name=ES["continue"]).dblclick()
    expect_spanish_demo_page(page, a11y)
    assert Payment.objects.count() == 1
    payment = Payment.objects.get()
    assert page.url.endswith(f"/es/payments/{payment.token}/demo/")
    assert payment.amount == Decimal("100.00")


# --- 5. A fine, paid on a phone with no account --------------------------------------------------------


def test_a_fine_is_paid_on_a_phone_with_no_account(phone_page, a11y, live_server, fined_case):
    page = phone_page
    notice = fined_case.number
    page.goto(f"{live_server.url}/pay/fine/")
    sees(page, a11y, "Pay a code enforcement fine", "You do not need an account.")

    # A wrong address: the error summary, focused, says so; what was typed is kept.
    page.get_by_label("Notice number").fill(notice)
    page.get_by_label("Street address of the property").fill("12 Elm St")
    page.get_by_role("button", name="Find my fine").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    sees(page, a11y, "Pay a code enforcement fine", "We could not find a fine")
    expect(summary).to_contain_text(
        "We could not find a fine with that notice number at that address."
    )
    expect(page).to_have_title(re.compile("Pay a code enforcement fine"))
    expect(page.get_by_label("Notice number")).to_have_value(notice)
    expect(page.get_by_label("Street address of the property")).to_have_value("12 Elm St")

    page.get_by_label("Street address of the property").fill("120 Oak St")
    page.get_by_role("button", name="Find my fine").click()
    page.wait_for_url(re.compile(rf"/pay/fine/{notice}/$"))
    sees(page, a11y, "Pay online", f"Fine for code case {notice}")
    expect(fact(page, "Balance due")).to_have_text("$250.00")
    expect(page.get_by_role("radio", name="The full balance, $250.00")).to_be_checked()
    page.get_by_label("Email address for the receipt").fill("payer@example.com")
    page.get_by_role("button", name="Continue to payment").click()

    page.wait_for_url(re.compile(rf"^{live_server.url}{DEMO_URL.pattern}"))
    expect_demo_page(
        page,
        a11y,
        heading="Demo card payment page",
        total="Total to pay: $250.00",
        accepted="A demo card that is accepted",
    )
    choose(page, "A demo card that is accepted")
    page.get_by_role("button", name="Pay $250.00", exact=True).click()

    page.wait_for_url(re.compile(rf"^{live_server.url}{RECEIPT_URL.pattern}"))
    payment = Payment.objects.get()
    number = payment.receipt_number
    assert RECEIPT.fullmatch(number), number
    sees(page, a11y, f"Receipt {number}", "We sent this receipt to payer@example.com.")
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    expect(fact(page, "Paid for")).to_have_text(f"Fine for code case {notice}")
    expect(fact(page, "Total charged to your card")).to_have_text("$250.00")
    expect(fact(page, "Balance still due")).to_have_text("$0.00")
    assert CodeCase.objects.get(pk=fined_case.pk).fine_balance == 0

    worker_sends()
    (link,) = read_email(
        live_server,
        to="payer@example.com",
        subject=f"Receipt {number}: payment received",
        says=number,
    )
    assert link.endswith(f"/payments/{payment.token}/receipt/"), link
    page.goto(link)
    sees(page, a11y, f"Receipt {number}", "Total charged to your card")


# --- 6. The whole of journey 1 with the keyboard only --------------------------------------------------


def tab_to(page: Page, target: Locator, *, limit: int = 80) -> None:
    """Press Tab, as a keyboard user does, until `target` has the focus."""
    for _press in range(limit):
        if target.evaluate("e => e === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


# A visible focus is an outline (USWDS draws 0.25rem #2491ff): on the element itself, or, for a
# radio button (the input is hidden off-screen), around the circle its label draws (::before).
FOCUS_OUTLINE = """e => {
    const target = (e.type === "radio" || e.type === "checkbox")
        ? getComputedStyle(e.labels[0], "::before") : getComputedStyle(e);
    return target.outlineStyle !== "none" && parseFloat(target.outlineWidth) >= 2;
}"""


def tab_and_see_focus(page: Page, a11y, target: Locator, name: str = "") -> None:
    """Tab to `target`; it has the focus and shows it. With `name`, a picture of the page
    with the focus on it, at the page's width, beside the journey's screenshots."""
    tab_to(page, target)
    expect(target).to_be_focused()
    assert target.evaluate(FOCUS_OUTLINE), f"no visible focus on {target}"
    if name:
        a11y.screenshots.mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"]
        page.screenshot(path=str(a11y.screenshots / f"focus-{name}-{width}.png"))


def test_the_whole_payment_by_keyboard_only(page, a11y, live_server, rosa, approved):
    path = f"/es/permits/{approved.number}/"
    page.goto(f"{live_server.url}{path}")
    page.wait_for_url(re.compile(r"/es/accounts/login/"))
    a11y(page)
    tab_and_see_focus(page, a11y, page.get_by_label(ES["email"]))
    page.keyboard.type(rosa.email)
    tab_and_see_focus(page, a11y, page.get_by_label(ES["password"]))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}{path}")
    expect_approved_permit(page, a11y, approved)

    tab_and_see_focus(page, a11y, page.get_by_role("link", name=ES["pay_button"], exact=True))
    page.keyboard.press("Enter")
    expect_pay_page(page, a11y, approved)
    full = page.get_by_role("radio", name=ES["full_balance"])
    tab_and_see_focus(page, a11y, full, "full-balance")
    page.keyboard.press("Space")
    expect(full).to_be_checked()
    tab_and_see_focus(page, a11y, page.get_by_role("button", name=ES["continue"]), "continue")
    page.keyboard.press("Enter")

    expect_spanish_demo_page(page, a11y)
    # Tab enters the group of cards at the chosen one; the arrow keys move between them.
    accepted = page.get_by_role("radio", name=ES["accepted"], exact=True)
    declined = page.get_by_role("radio", name=ES["declined"], exact=True)
    tab_and_see_focus(page, a11y, accepted, "card")
    page.keyboard.press("ArrowDown")
    expect(declined).to_be_focused()
    expect(declined).to_be_checked()
    page.keyboard.press("ArrowUp")
    expect(accepted).to_be_focused()
    page.keyboard.press("Space")
    expect(accepted).to_be_checked()
    pay = page.get_by_role("button", name=ES["pay_100"], exact=True)
    tab_and_see_focus(page, a11y, pay, "pay")
    page.keyboard.press("Space")

    number = expect_receipt(page, a11y, rosa.email)
    tab_and_see_focus(page, a11y, page.get_by_role("link", name=ES["see_status"]))
    page.keyboard.press("Enter")
    expect_issued_permit(page, a11y, approved, number)
    tab_and_see_focus(page, a11y, page.get_by_role("link", name=number, exact=True))
    page.keyboard.press("Enter")
    expect_receipt(page, a11y, rosa.email)


# --- What a person met that is wrong (see the reasons) -----------------------------------------------


def find_fine(page: Page, a11y, live_server, notice: str, address: str) -> None:
    page.goto(f"{live_server.url}/pay/fine/")
    a11y(page)
    page.get_by_label("Notice number").fill(notice)
    page.get_by_label("Street address of the property").fill(address)
    page.get_by_role("button", name="Find my fine").click()
    page.wait_for_load_state("load")
    a11y(page)


def test_the_fine_lookup_title_says_error_when_nothing_is_found(
    phone_page, a11y, live_server, fined_case
):
    find_fine(phone_page, a11y, live_server, fined_case.number, "12 Elm St")
    expect(phone_page.locator("[data-error-summary]")).to_be_focused()
    expect(phone_page).to_have_title(re.compile(r"^Error: Pay a code enforcement fine"))


def test_after_paying_a_fine_no_link_goes_in_circles(phone_page, a11y, live_server, fined_case):
    """A code case has no public page: the fine's receipt is the record, and coming back to
    the fine shows "Nothing to pay" with a way on to the city's services."""
    page = phone_page
    find_fine(page, a11y, live_server, fined_case.number, "120 Oak St")
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(rf"^{live_server.url}{DEMO_URL.pattern}"))
    a11y(page)
    choose(page, "A demo card that is accepted")
    page.get_by_role("button", name="Pay $250.00", exact=True).click()
    page.wait_for_url(re.compile(rf"^{live_server.url}{RECEIPT_URL.pattern}"))
    a11y(page)
    expect(page.get_by_role("link", name="See its status")).to_have_count(0)
    expect(page.get_by_role("button", name="Print this receipt")).to_be_visible()
    page.goto(f"{live_server.url}/pay/fine/{fined_case.number}/")
    sees(page, a11y, "Nothing to pay", "nothing is due now")
    page.get_by_role("link", name="All services").first.click()
    page.wait_for_load_state("load")
    a11y(page)
    assert urlsplit(page.url).path == "/"
