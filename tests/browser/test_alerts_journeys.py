"""Alerts in the browser: a resident subscribes in Spanish; an officer composes and publishes."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from alerts.constants import DeliveryStatus
from alerts.delivery import delivery_send
from alerts.models import Alert, Delivery, Subscription, Topic
from cityhall.roles import Role
from tests.browser.console import console_sign_in
from tests.personas import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose(page, label: str) -> None:
    """Tick a USWDS checkbox or radio the way a person does: by its visible label."""
    page.locator("label", has_text=re.compile(f"^{re.escape(label)}$")).click()


def send_pending():
    """What the worker does; the worker itself is tested in alerts/tests/test_fan_out_worker.py."""
    for pk in Delivery.objects.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True):
        delivery_send(delivery_id=pk)


@pytest.fixture
def topics(db):
    return [
        Topic.objects.create(slug="weather", name_en="Weather", name_es="Clima", position=1),
        Topic.objects.create(slug="traffic", name_en="Traffic", name_es="Tráfico", position=2),
    ]


def test_resident_subscribes_in_spanish_without_an_account(page, a11y, live_server, topics):
    page.goto(f"{live_server.url}/es/alerts/")
    a11y(page)
    page.get_by_role("link", name=re.compile("Recibir alertas por correo")).click()
    a11y(page)

    page.get_by_role("button", name="Suscribirse").click()
    a11y(page)
    expect(page.locator("[data-error-summary]")).to_be_focused()

    page.get_by_label("Dirección de correo electrónico").fill("lupe@example.com")
    choose(page, "Clima")
    page.get_by_role("button", name="Suscribirse").click()
    page.wait_for_url(re.compile("/es/alerts/subscribe/sent/"))
    a11y(page)
    assert Subscription.objects.get(email="lupe@example.com").confirmed_at is None

    send_pending()
    message = mail.outbox[-1]
    link = re.search(r"https?://\S+/alerts/subscribe/confirm/\S+/", message.body).group(0)
    page.goto(live_server.url + "/" + link.split("/", 3)[3])
    a11y(page)
    page.get_by_role("button", name=re.compile("envíenme alertas")).click()
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ya está suscrito")
    assert Subscription.objects.get(email="lupe@example.com").confirmed_at is not None


def test_officer_composes_previews_and_publishes(page, a11y, live_server, topics):
    officer = make_staff(Role.COMMUNICATIONS_OFFICER, "carmen@riverbend.example")
    console_sign_in(page, a11y, live_server, officer, "/console/alerts/alert/add/")

    page.get_by_label("Headline (English)").fill("Heat warning this weekend")
    page.get_by_label("Description (English)").fill("Temperatures up to 108°F on Saturday.")
    page.get_by_label("What to do (English)").fill("Drink water and stay inside in the afternoon.")
    page.get_by_label("Headline (Spanish)").fill("Calor extremo este fin de semana")
    page.get_by_label("Description (Spanish)").fill("Temperaturas de hasta 108°F el sábado.")
    page.get_by_label("What to do (Spanish)").fill("Tome agua y quédese adentro por la tarde.")
    page.get_by_label("Topic").select_option(label="Weather")
    page.get_by_label(re.compile(r"^Event:?$")).fill("Excessive heat warning")
    page.get_by_label("Event (Spanish)").fill("Advertencia de calor extremo")
    page.get_by_label("Severity").select_option("Severe")
    page.locator("#id_expires_0").fill("2099-12-31")
    page.locator("#id_expires_1").fill("12:00:00")
    page.locator("label[for=id_citywide_0]").click()  # Where: the whole city
    page.get_by_role("button", name="Save and continue editing").click()
    a11y(page)
    preview = page.locator(".alert-preview")
    expect(preview).to_contain_text("Calor extremo este fin de semana")
    expect(preview).to_contain_text("segment")
    expect(preview).to_contain_text("Area: The whole city")
    expect(preview).to_contain_text("Zona: Toda la ciudad")

    page.get_by_role("button", name="Publish now…").click()
    # Publishing cannot be undone: first a page that says how many messages go out.
    expect(page.locator("#content-main")).to_contain_text("Publishing sends")
    expect(page.locator("#content-main")).to_contain_text("cannot be unpublished")
    a11y(page)
    page.get_by_role("button", name="Yes, publish now").click()
    expect(page.locator(".messagelist")).to_contain_text("Published")
    a11y(page)
    alert = Alert.objects.get(title_en="Heat warning this weekend")
    assert alert.status == "published" and alert.published_by == officer
    cap = page.request.get(f"{live_server.url}/alerts/{alert.pk}/cap.xml").text()
    assert "<event>Advertencia de calor extremo</event>" in cap

    page.goto(f"{live_server.url}/es/alerts/{alert.pk}/")
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Calor extremo este fin de semana")
    expect(page.locator(".usa-site-alert")).to_contain_text("Calor extremo")


def test_resident_manages_alerts_reads_messages_and_unsubscribes(page, a11y, live_server, topics):
    from alerts import services
    from alerts.tokens import unsubscribe_token
    from tests.personas import make_resident

    maria = make_resident(
        "maria@example.com", language="es", first_name="María", phone="+14082104412"
    )
    page.goto(f"{live_server.url}/es/accounts/login/")
    a11y(page)
    page.get_by_label("Correo electrónico").fill(maria.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(re.compile(r"/es/me/$"))
    a11y(page)

    page.get_by_role("link", name="Elija sus alertas").click()
    a11y(page)
    choose(page, "Clima")
    choose(page, "Enviar alertas por mensaje de texto")
    page.get_by_role("button", name="Guardar mis opciones de alertas").click()
    a11y(page)
    subscription = Subscription.objects.get(user=maria)
    assert subscription.by_sms and subscription.language == "es"

    services.notify(user=maria, template="subscription_code", context={"code": "123456"})
    page.goto(f"{live_server.url}/es/me/")
    a11y(page)
    page.get_by_role("link", name="Todos los mensajes").click()
    a11y(page)
    page.get_by_role("link", name=re.compile("código")).first.click()
    a11y(page)

    token = unsubscribe_token(channel="email", subscription_id=subscription.pk)
    page.goto(f"{live_server.url}/es/alerts/unsubscribe/{token}/")
    a11y(page)
    page.get_by_role("button", name="Cancelar la suscripción").click()
    a11y(page)
    page.goto(f"{live_server.url}/es/alerts/unsubscribe/not-a-real-token/")
    a11y(page)


def test_text_message_code_page(page, a11y, live_server, topics):
    page.goto(f"{live_server.url}/alerts/subscribe/")
    a11y(page)
    choose(page, "Text message")
    page.get_by_label("Mobile phone number").fill("(408) 210-4412")
    choose(page, "Weather")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(re.compile("/alerts/subscribe/code/"))
    a11y(page)
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    a11y(page)
    expect(page.locator("[data-error-summary]")).to_be_focused()
