"""A resident applies for a permit; staff review, ask, approve and issue; in English and Spanish."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from cityhall.roles import Role
from permits.constants import FeeKind, Status
from permits.models import Application, DocumentRequirement, PermitType
from tests.browser.console import new_staff_page, track
from tests.browser.messages import read_email, sees, worker_sends
from tests.personas import PASSWORD, make_resident, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

WORDS = {
    "en": {
        "prefix": "",
        "apply": "Apply: Fence",
        "start": "Start the application",
        "applicant": "Applicant and property",
        "name": "Full name of the applicant",
        "address": "Address of the property or business",
        "save": "Save and continue",
        "project": "Project details",
        "describe": "Describe the project or business",
        "units": "Number of linear feet",
        "documents": "Documents",
        "site_plan": "Site plan",
        "file": "Choose a file",
        "upload": "Upload: Site plan",
        "uploaded": "plan.pdf was uploaded as: Site plan.",
        "check": "Check your answers",
        "quantity": "80 linear feet",
        "fee_basis": "80 linear feet at $1.50 per linear foot, at least $75.00",
        "change_project": "Change project details",
        "back_to_review": "Back to check your answers",
        "done": "Done with documents",
        "review": "Check your answers and submit",
        "declare": "I declare that",
        "submit": "Submit application",
        "submitted": "Application submitted",
        "see": "See your application",
        "answer": "Your answer",
        "send": "Send my answer",
        "issued": "Issued",
        "sign_in": "Sign in",
        "email": "Email",
        "password": "Password",
        "received": "We received your application {}.",
        "received_says": "We received your application FEN-",
        "reviewing": "Your application {} is being reviewed.",
        "needs_info": "We need more information about your application {}.",
        "approved": "Your application {} was approved.",
        "approved_says": "Conditions: Keep within the property line.",
        "issued_mail": "Your permit {} was issued.",
        "issued_next": "Issued. Keep it for your records.",
        "info_heading": "We need more information",
        "me": "My City Hall",
        "permits": "Permits and licenses",
        "apply_heading": "Apply for a permit or license",
        "fences": "Fences over 6 feet.",
        "task_list": "Your application",
        "complete_each": "Complete each part.",
        "saved": "Saved.",
        "slot_intro": "Upload each document in its own place below",
        "not_yet": "Not uploaded yet.",
        "number_is": "Your application number is",
    },
    "es": {
        "prefix": "/es",
        "apply": "Presentar una solicitud: Cerca",
        "start": "Comenzar la solicitud",
        "applicant": "Solicitante y propiedad",
        "name": "Nombre completo del solicitante",
        "address": "Dirección de la propiedad o del negocio",
        "save": "Guardar y continuar",
        "project": "Detalles del proyecto",
        "describe": "Describa el proyecto o el negocio",
        "units": "Número de pies lineales",
        "documents": "Documentos",
        "site_plan": "Plano del sitio",
        "file": "Elija un archivo",
        "upload": "Subir: Plano del sitio",
        "uploaded": "Se subió plan.pdf como: Plano del sitio.",
        "check": "Revise sus respuestas",
        "quantity": "80 pies lineales",
        "fee_basis": "80 pies lineales a $1.50 por pie lineal, como mínimo $75.00",
        "change_project": "Cambiar detalles del proyecto",
        "back_to_review": "Volver a revisar sus respuestas",
        "done": "Terminé con los documentos",
        "review": "Revise sus respuestas y envíe",
        "declare": "Declaro que",
        "submit": "Enviar solicitud",
        "submitted": "Solicitud enviada",
        "see": "Ver su solicitud",
        "answer": "Su respuesta",
        "send": "Enviar mi respuesta",
        "issued": "Emitido",
        "sign_in": "Iniciar sesión",
        "email": "Correo electrónico",
        "password": "Contraseña",
        "received": "Recibimos su solicitud {}.",
        "received_says": "Recibimos su solicitud FEN-",
        "reviewing": "Su solicitud {} está en revisión.",
        "needs_info": "Necesitamos más información sobre su solicitud {}.",
        "approved": "Se aprobó su solicitud {}.",
        # Staff wrote the conditions in English only: the Spanish email says so.
        "approved_says": "Keep within the property line.\n(El personal de la ciudad escribió esto "
        "en inglés.)",
        "issued_mail": "Se emitió su permiso {}.",
        "issued_next": "Emitido. Guárdelo para sus registros.",
        "info_heading": "Necesitamos más información",
        "me": "Mi Ayuntamiento",
        "permits": "Permisos y licencias",
        "apply_heading": "Solicitar un permiso o una licencia",
        "fences": "Cercas de más de 6 pies.",
        "task_list": "Su solicitud",
        "complete_each": "Complete cada parte.",
        "saved": "Guardado.",
        "slot_intro": "Suba cada documento en su lugar, abajo",
        "not_yet": "Todavía no se ha subido.",
        "number_is": "El número de su solicitud es",
    },
}


@pytest.fixture
def fence(db):
    permit_type = PermitType.objects.create(
        code="FEN",
        name_en="Fence",
        name_es="Cerca",
        description_en="Fences over 6 feet.",
        description_es="Cercas de más de 6 pies.",
        fee_kind=FeeKind.PER_UNIT,
        fee_amount=Decimal("1.50"),
        minimum_fee=Decimal("75.00"),
        unit_en="linear feet",
        unit_es="pies lineales",
        unit_one_en="linear foot",
        unit_one_es="pie lineal",
        review_sla_days=5,
    )
    DocumentRequirement.objects.create(
        permit_type=permit_type, name_en="Site plan", name_es="Plano del sitio"
    )
    return permit_type


@pytest.mark.parametrize("language", ["en", "es"])
def test_apply_review_approve_issue(browser, a11y, live_server, fence, language):
    w = WORDS[language]
    resident = make_resident(f"ana-{language}@example.com", language=language, first_name="Ana")
    reviewer = make_staff(Role.PLAN_REVIEWER, f"reviewer-{language}@riverbend.example")
    technician = make_staff(Role.PERMIT_TECHNICIAN, f"tech-{language}@riverbend.example")

    page = browser.new_context().new_page()
    track(page, a11y)

    page.goto(f"{live_server.url}{w['prefix']}/accounts/login/")
    a11y(page)
    page.get_by_label(w["email"]).fill(resident.email)
    page.get_by_label(w["password"]).fill(PASSWORD)
    page.get_by_role("button", name=w["sign_in"]).click()
    page.wait_for_url(re.compile(r"/me/$"))
    sees(page, a11y, w["me"], "Ana")
    page.goto(f"{live_server.url}{w['prefix']}/permits/")
    sees(page, a11y, w["permits"], w["fences"])
    page.get_by_role("button", name=re.compile(w["apply"].split(":")[1].strip())).first.click()
    page.get_by_role("link", name=w["apply"]).click()
    sees(page, a11y, w["apply_heading"], w["fences"])
    page.get_by_role("button", name=w["start"]).click()
    sees(page, a11y, w["task_list"], w["complete_each"])

    page.get_by_role("link", name=w["applicant"]).click()
    sees(page, a11y, w["applicant"], w["name"])
    page.get_by_label(w["name"]).fill("Ana Torres")
    page.get_by_label(w["address"]).fill("214 Calle Palma")
    page.get_by_role("button", name=w["save"]).click()
    sees(page, a11y, w["task_list"], w["saved"])

    page.get_by_role("link", name=w["project"]).click()
    sees(page, a11y, w["project"], w["describe"])
    page.get_by_label(w["describe"]).fill("Six-foot wooden fence in the back yard")
    page.get_by_label(w["units"]).fill("80")
    page.get_by_role("button", name=w["save"]).click()
    sees(page, a11y, w["task_list"], w["saved"])

    page.get_by_role("link", name=w["documents"], exact=True).click()
    page.wait_for_url(re.compile("/documents/$"))
    sees(page, a11y, w["documents"], w["not_yet"])
    expect(page.locator("main")).to_contain_text(w["slot_intro"])
    # Each document has its own place: the slot says which document the file is.
    slot = page.get_by_role("region", name=w["site_plan"])
    slot.get_by_label(w["file"]).set_input_files(
        {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name=w["upload"]).click()
    a11y(page)
    expect(page.locator(".usa-alert--success")).to_contain_text(w["uploaded"])
    expect(slot.get_by_role("link", name="plan.pdf")).to_be_visible()
    page.get_by_role("link", name=w["done"]).click()
    a11y(page)

    page.get_by_role("link", name=w["review"]).click()
    a11y(page)
    # Everything as given, quantities in the words they were asked in, and a way to change it.
    expect(page.get_by_role("heading", level=1)).to_have_text(w["check"])
    expect(page.locator("main")).to_contain_text(w["quantity"])
    expect(page.locator("main")).to_contain_text(w["fee_basis"])
    expect(page.get_by_role("region", name=w["documents"])).to_contain_text("plan.pdf")
    page.get_by_role("link", name=w["change_project"]).click()
    a11y(page)
    expect(page.get_by_role("link", name=w["back_to_review"])).to_be_visible()
    page.get_by_label(w["describe"]).fill("Six-foot cedar fence in the back yard")
    page.get_by_role("button", name=w["save"]).click()
    a11y(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(w["check"])
    expect(page.locator("main")).to_contain_text("Six-foot cedar fence in the back yard")
    page.get_by_text(re.compile(w["declare"])).click()
    page.get_by_role("button", name=w["submit"]).click()
    sees(page, a11y, w["submitted"], w["number_is"])
    application = Application.objects.get(applicant=resident)
    assert re.fullmatch(r"FEN-\d{4}-000001", application.number)
    assert application.fee_total == Decimal("120.00")
    number = application.number
    worker_sends()
    read_email(live_server, to=resident.email, subject=w["received"].format(number), says=number)

    # A plan reviewer accepts it and asks for more information.
    change = f"/console/permits/application/{application.pk}/change/"
    staff_page = new_staff_page(browser, a11y, live_server, reviewer, change)
    staff_page.get_by_role("button", name="Accept for review").click()
    # The action is made in the background: the page's main area is replaced, with the message.
    expect(staff_page.locator(".messagelist")).to_contain_text("is now In review")
    a11y(staff_page)
    staff_page.get_by_label("What the applicant must provide").fill(
        "Show the fence height on the plan."
    )
    staff_page.get_by_role("button", name="Request information").click()
    expect(staff_page.locator(".messagelist")).to_contain_text("is now Information requested")
    a11y(staff_page)
    application.refresh_from_db()
    assert application.status == Status.INFO_REQUESTED

    # The resident reads the emails and answers from the link in the last one.
    worker_sends()
    read_email(live_server, to=resident.email, subject=w["reviewing"].format(number), says=number)
    link, *_ = read_email(
        live_server,
        to=resident.email,
        subject=w["needs_info"].format(number),
        says="Show the fence height on the plan.",
    )
    page.goto(link)
    sees(page, a11y, number, w["info_heading"])
    expect(page.get_by_role("region", name=re.compile("information|información"))).to_contain_text(
        "Show the fence height on the plan."
    )
    page.get_by_label(w["answer"]).fill("The fence is 6 feet high; see page 2.")
    page.get_by_role("button", name=w["send"]).click()
    a11y(page)
    application.refresh_from_db()
    assert application.status == Status.IN_REVIEW

    # The reviewer approves; the technician records the payment and issues.
    staff_page.goto(f"{live_server.url}{change}")
    a11y(staff_page)
    staff_page.get_by_label("Conditions of approval (optional)").fill(
        "Keep within the property line."
    )
    staff_page.get_by_role("button", name="Approve…").click()
    # Irreversible: a page of its own says what happens, then asks.
    expect(staff_page.locator("#content-main")).to_contain_text("A decision cannot be undone")
    expect(staff_page.locator("#content-main")).to_contain_text("Keep within the property line.")
    a11y(staff_page)
    staff_page.get_by_role("button", name="Yes, approve").click()
    expect(staff_page.locator(".messagelist")).to_contain_text("is now Approved")
    a11y(staff_page)
    tech_page = new_staff_page(browser, a11y, live_server, technician, change)
    # Taking the payment can issue the permit in the same step (the default); here the
    # technician issues it on its own.
    tech_page.get_by_label("Issue the permit once this pays the balance").uncheck()
    tech_page.get_by_role("button", name="Record payment").click()
    expect(tech_page.locator(".messagelist")).to_contain_text("Record payment: done")
    expect(tech_page.locator(".messagelist")).not_to_contain_text("Issued")
    a11y(tech_page)
    tech_page.get_by_role("button", name="Issue").click()
    expect(tech_page.locator(".messagelist")).to_contain_text("is now Issued")
    a11y(tech_page)
    application.refresh_from_db()
    assert application.status == Status.ISSUED

    worker_sends()
    read_email(
        live_server,
        to=resident.email,
        subject=w["approved"].format(number),
        says=w["approved_says"],
    )
    link, *_ = read_email(
        live_server, to=resident.email, subject=w["issued_mail"].format(number), says=number
    )
    page.goto(link)
    sees(page, a11y, number, w["issued_next"])
    expect(page.locator(".usa-tag").first).to_have_text(w["issued"])
    unread = [m.subject for m in mail.outbox if resident.email in m.to]
    assert not unread, unread  # every email the resident was sent has been read
    page.goto(f"{live_server.url}{w['prefix']}/me/")
    a11y(page)
    expect(page.get_by_role("link", name=application.number, exact=True)).to_be_visible()
    unchecked = [
        u for u in dict.fromkeys(a11y.visited) if u not in a11y.checked and u != "about:blank"
    ]
    assert not unchecked or all("/me/" in u for u in unchecked), unchecked


def test_a_bad_upload_says_why_in_its_slot_and_keeps_the_other_files(
    page, a11y, live_server, fence
):
    resident = make_resident("rui@example.com")
    page.goto(f"{live_server.url}/accounts/login/")
    a11y(page)
    page.get_by_label("Email").fill(resident.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/me/$"))
    a11y(page)
    page.goto(f"{live_server.url}/permits/apply/?type=FEN")
    a11y(page)
    page.get_by_role("button", name="Start the application").click()
    a11y(page)
    page.get_by_role("link", name="Documents", exact=True).click()
    a11y(page)
    others = page.get_by_role("region", name="Other documents (optional)")
    others.get_by_label("Choose a file").set_input_files(
        {"name": "porch.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Upload: Other documents").click()
    a11y(page)
    site_plan = page.get_by_role("region", name="Site plan")
    site_plan.get_by_label("Choose a file").set_input_files(
        {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf"}
    )
    page.get_by_role("button", name="Upload: Site plan").click()
    a11y(page)
    expect(page).to_have_title(re.compile("^Error: Documents"))
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(site_plan.locator("[data-error-summary]")).to_contain_text(
        "The file must be a PDF, JPEG or PNG."
    )
    expect(site_plan).to_contain_text("Not uploaded yet.")
    expect(others.get_by_role("link", name="porch.pdf")).to_be_visible()
