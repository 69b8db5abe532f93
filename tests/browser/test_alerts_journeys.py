"""Alerts in the browser: residents subscribe, read the emails and texts the city sends them and
follow their links; an officer composes and publishes. Axe on every page."""

import re

import pytest
from playwright.sync_api import expect

from alerts import services, sms
from alerts.models import Alert, Subscription, Topic
from alerts.tests.factories import make_alert, make_subscription
from cityhall.roles import Role
from tests.browser.console import console_sign_in
from tests.browser.messages import (
    choose,
    nothing_else_sent,
    read_email,
    read_text,
    sees,
    worker_sends,
)
from tests.personas import PASSWORD, make_resident, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _texts_of_this_test_only():
    """The in-memory SMS outbox is a module-level list: empty it around each test."""
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def topics(db):
    return [
        Topic.objects.create(slug="weather", name_en="Weather", name_es="Clima", position=1),
        Topic.objects.create(slug="traffic", name_en="Traffic", name_es="Tráfico", position=2),
    ]


def test_resident_subscribes_in_spanish_without_an_account(page, a11y, live_server, topics):
    page.goto(f"{live_server.url}/es/alerts/")
    sees(page, a11y, "Alertas", "No hay alertas vigentes en este momento.")
    page.get_by_role("link", name=re.compile("Recibir alertas por correo")).click()
    sees(page, a11y, "Recibir alertas", "Primero le enviamos una confirmación")

    page.get_by_role("button", name="Suscribirse").click()
    sees(page, a11y, "Recibir alertas", "Escriba su dirección de correo electrónico.")
    expect(page.locator("[data-error-summary]")).to_be_focused()

    page.get_by_label("Dirección de correo electrónico").fill("lupe@example.com")
    choose(page, "Clima")
    page.get_by_role("button", name="Suscribirse").click()
    page.wait_for_url(re.compile("/es/alerts/subscribe/sent/"))
    sees(
        page,
        a11y,
        "Revise su correo electrónico",
        "Le enviamos un correo electrónico con un botón para confirmar su suscripción.",
    )
    assert Subscription.objects.get(email="lupe@example.com").confirmed_at is None

    worker_sends()
    confirm, unsubscribe = read_email(
        live_server,
        to="lupe@example.com",
        subject="Confirme su suscripción a las alertas",
        says="Para empezar a recibir alertas, abra este enlace y oprima el botón",
    )
    page.goto(confirm)
    sees(page, a11y, "Confirme su suscripción", "Sí, envíenme alertas")
    page.get_by_role("button", name=re.compile("envíenme alertas")).click()
    sees(page, a11y, "Ya está suscrito", "Recibirá las alertas que eligió.")
    assert Subscription.objects.get(email="lupe@example.com").confirmed_at is not None

    # The email's other link says what it would stop, and stops nothing until she presses.
    page.goto(unsubscribe)
    sees(
        page,
        a11y,
        "¿Dejar de recibir estos correos?",
        "Alertas de la ciudad sobre Clima, enviadas a l••••@example.com.",
    )
    nothing_else_sent()


def test_officer_publishes_and_a_spanish_subscriber_reads_it_on_her_phone(
    page, phone_page, a11y, live_server, topics
):
    make_subscription(topics[0], email="rosa@example.com", phone="+14082104412", language="es")
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
    sees(page, a11y, "Change alert", "was added successfully")
    preview = page.locator(".alert-preview")
    expect(preview).to_contain_text("Calor extremo este fin de semana")
    expect(preview).to_contain_text("segment")
    expect(preview).to_contain_text("Area: The whole city")
    expect(preview).to_contain_text("Zona: Toda la ciudad")

    page.get_by_role("button", name="Publish now…").click()
    # Publishing cannot be undone: first a page that says how many messages go out.
    sees(page, a11y, "Publish now: are you sure?", "Publishing sends 1 email and 1 text now")
    expect(page.locator("#content-main")).to_contain_text("cannot be unpublished")
    page.get_by_role("button", name="Yes, publish now").click()
    sees(page, a11y, "Change alert", "Published. Deliveries are going out")
    alert = Alert.objects.get(title_en="Heat warning this weekend")
    assert alert.status == "published" and alert.published_by == officer
    cap = page.request.get(f"{live_server.url}/alerts/{alert.pk}/cap.xml").text()
    assert "<event>Advertencia de calor extremo</event>" in cap

    # The Spanish-speaking subscriber gets it in Spanish, by email and by text, on her phone.
    worker_sends(alert)
    alert_page, unsubscribe = read_email(
        live_server,
        to="rosa@example.com",
        subject="Alerta urgente: Calor extremo este fin de semana",
        says="Tome agua y quédese adentro por la tarde.",
    )
    _, [from_the_text] = read_text(
        live_server, to="+14082104412", says="Calor extremo este fin de semana"
    )
    assert from_the_text == alert_page
    phone = phone_page
    phone.goto(alert_page)
    sees(phone, a11y, "Calor extremo este fin de semana", "Temperaturas de hasta 108°F el sábado.")
    expect(phone.locator(".usa-site-alert")).to_contain_text("Calor extremo")
    phone.goto(unsubscribe)
    sees(
        phone,
        a11y,
        "¿Dejar de recibir estos correos?",
        "Alertas de la ciudad sobre Clima, enviadas a r••••@example.com.",
    )
    nothing_else_sent()


def test_resident_manages_alerts_reads_messages_and_unsubscribes(page, a11y, live_server, topics):
    maria = make_resident(
        "maria@example.com", language="es", first_name="María", phone="+14082104412"
    )
    page.goto(f"{live_server.url}/es/accounts/login/")
    sees(page, a11y, "Iniciar sesión", "Si aún no ha creado una cuenta, por favor regístrese")
    page.get_by_label("Correo electrónico").fill(maria.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(re.compile(r"/es/me/$"))
    sees(page, a11y, "Mi Ayuntamiento", "Le damos la bienvenida, María.")

    page.get_by_role("link", name="Elija sus alertas").click()
    sees(page, a11y, "Mis alertas", "Todavía no recibe alertas.")
    choose(page, "Clima")
    choose(page, "Enviar alertas por mensaje de texto")
    page.get_by_role("button", name="Guardar mis opciones de alertas").click()
    sees(page, a11y, "Mis alertas", "Se guardaron sus opciones de alertas.")
    subscription = Subscription.objects.get(user=maria)
    assert subscription.by_sms and subscription.language == "es"

    # The city warns about the weather: an email, a text, and a message in My City Hall.
    alert = make_alert(
        topics[0],
        title_en="Heat advisory",
        title_es="Aviso de calor",
        body_en="Cooling centers are open until 9 p.m.",
        body_es="Los centros de enfriamiento están abiertos hasta las 9 p. m.",
    )
    services.alert_publish(alert=alert, actor=make_staff(Role.COMMUNICATIONS_OFFICER))
    worker_sends(alert)
    alert_page, unsubscribe = read_email(
        live_server,
        to="maria@example.com",
        subject="Aviso de la ciudad: Aviso de calor",
        says="Los centros de enfriamiento están abiertos hasta las 9 p. m.",
    )
    _, [from_the_text] = read_text(live_server, to="+14082104412", says="Aviso de calor")
    assert from_the_text == alert_page
    page.goto(from_the_text)
    sees(page, a11y, "Aviso de calor", "Los centros de enfriamiento están abiertos")

    page.goto(f"{live_server.url}/es/me/")
    sees(page, a11y, "Mi Ayuntamiento", "Aviso de calor")
    page.get_by_role("link", name="Todos los mensajes").click()
    sees(page, a11y, "Mensajes", "Mensajes de la ciudad, del más reciente al más antiguo")
    page.get_by_role("link", name=re.compile("Aviso de calor")).first.click()
    sees(page, a11y, "Aviso de la ciudad: Aviso de calor", "Los centros de enfriamiento")

    page.goto(unsubscribe)
    sees(
        page,
        a11y,
        "¿Dejar de recibir estos correos?",
        "Alertas de la ciudad sobre Clima, enviadas a m••••@example.com.",
    )
    page.get_by_role("button", name="Cancelar la suscripción").click()
    sees(page, a11y, "Se canceló su suscripción", "Ya no le enviaremos estos mensajes.")
    page.goto(f"{live_server.url}/es/alerts/unsubscribe/not-a-real-token/")
    sees(page, a11y, "Este enlace no funciona", "Puede estar incompleto o ser demasiado antiguo.")
    nothing_else_sent()


def test_resident_subscribes_by_text_with_the_code_we_sent(page, a11y, live_server, topics):
    page.goto(f"{live_server.url}/alerts/subscribe/")
    sees(page, a11y, "Get alerts", "We send a confirmation first")
    choose(page, "Text message")
    page.get_by_label("Mobile phone number").fill("(408) 210-4412")
    choose(page, "Weather")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(re.compile("/alerts/subscribe/code/"))
    sees(page, a11y, "Enter the code we texted you", "Alerts start once you enter it.")

    worker_sends()
    text, links = read_text(live_server, to="+14082104412", says="your code is")
    assert links == []
    code = re.search(r"\b(\d{6})\b", text).group(1)

    wrong_code = "000000" if code != "000000" else "111111"
    page.get_by_label("Code").fill(wrong_code)
    page.get_by_role("button", name="Confirm").click()
    sees(page, a11y, "Enter the code we texted you", "That code is not right.")
    expect(page.locator("[data-error-summary]")).to_be_focused()

    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    sees(page, a11y, "You are subscribed", "You will get the alerts you chose.")
    assert Subscription.objects.get(phone="+14082104412").confirmed_at is not None
    nothing_else_sent()
