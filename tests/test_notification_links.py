"""Every message the city sends, in English and Spanish, with every link in it followed.

Each case produces its messages the way the product does: a service, a beat job, or a page
posted through the test client. The queued deliveries are then sent as the worker would
(`delivery_send`: on-commit callbacks never run inside a test's transaction), and the email and
SMS outboxes are read. For every message:

- no program text (template syntax, `None`, reprs) and, for a Spanish reader, no English;
- every absolute link starts with SITE_URL, set to an address no default produces;
- every link answers 200 in the browser of the person it was sent to (signed in when they have
  an account), in their language, and opening it changes nothing: confirmation, unsubscribe,
  password and invitation links act only on a POST.

A notification folder on disk (`<app>/templates/alerts/notifications/<name>/`) or an override
of an allauth email that no case here produces fails `test_every_template_has_a_case`, so a
new template cannot ship without its links being followed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from allauth.account import app_settings as allauth_settings
from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from alerts import delivery as hub
from alerts import services as alerts_services
from alerts import sms
from alerts.constants import DeliveryStatus
from alerts.models import Delivery, Subscription
from alerts.tests.factories import make_alert, make_subscription, make_topic
from cityhall.models import User
from cityhall.roles import Role
from code_enforcement import automation
from code_enforcement import services as ce_services
from code_enforcement.models import CodeCase, Follower, ServiceRequest
from code_enforcement.tests.factories import (
    case_with_notice,
    ensure_city,
    make_category,
    make_request,
    staff,
    submit,
)
from permits import services as permit_services
from permits.constants import PaymentMethod
from permits.models import Application
from permits.tests.factories import (
    factory_staff,
    make_application,
    make_inspection_type,
    make_permit_type,
)
from portal.adapters import ResidentAccountAdapter
from tests.personas import (
    PASSWORD,
    make_resident,
    make_staff,
    signed_in_client,
    verified_client,
)

pytestmark = pytest.mark.django_db

# Not the default (http://127.0.0.1:8000) and not the test client's host: a link built from
# either instead of SITE_URL shows up.
SITE = "http://testserver:8123"
LANGUAGES = ["en", "es"]
PREFIX = {"en": "", "es": "/es"}

# Written by staff for staff: English whatever the person's language (cityhall/staff.py says so
# for the invitation; staff_notice/body.html is lang="en" and untranslated).
STAFF_KINDS = {"staff_notice", "staff_invitation"}

# The allauth emails the project's flows send (sign-up, "send the link again", an address that
# already has an account, password reset for a known and an unknown address). allauth's
# security notifications and codes are off (test_every_template_has_a_case checks).
ACCOUNT_EMAILS = {
    "account:email_confirmation_signup",
    "account:email_confirmation",
    "account:account_already_exists",
    "account:password_reset_key",
    "account:unknown_account",
}

# Links whose redirect is the intended behaviour; everything else must answer 200 itself.
INTENDED_REDIRECTS = [
    (
        re.compile(r"/accounts/password/reset/key/[^/]+/$"),
        "allauth moves the key into the session and redirects to .../set-password/, so the key "
        "leaves the address bar",
    ),
]

PROGRAM_TEXT = [
    (re.compile(r"<QuerySet"), "a QuerySet repr"),
    (re.compile(r"object at 0x"), "an object repr"),
    (re.compile(r"\{\{|\}\}|\{%|%\}"), "template syntax"),
    (re.compile(r"\bNone\b"), "None"),
    (re.compile(r"%\(\w+\)[sd]"), "an unfilled %(name)s placeholder"),
]
# In plain text (subject, text body, SMS) an HTML entity means a value was autoescaped.
ESCAPED = re.compile(r"&(?:amp|lt|gt|quot|#x?[0-9a-fA-F]+);")

# "Cancelled: Cancelled: Heat advisory": a label the template adds to a title that has it.
REPEATED_LABEL = re.compile(r"^([^:]{2,40}:)\s*\1")

ENGLISH = re.compile(
    r"\b(?:Your|your|You|you|View|view|Unsubscribe|unsubscribe|Stop these|stop these|See the"
    r"|See it|Open in|Read the|What to do|In effect|Details|Reminder|Questions|Confirm my"
    r"|Hello|Thank you|Click|Please|please|password|account|the|and|was|has been|expires)\b"
)

URL = re.compile(r"https?://[^\s<>\"']+")

TEXTS = {
    "en": {
        "info": "Send the site plan with the setbacks marked.",
        "answer": "The site plan is attached.",
        "conditions": "Keep the fence under six feet.",
        "deny": "The lot is in a flood zone.",
        "revoke": "Work outside the approved plans.",
        "message": "The inspector will come in the morning.",
        "corrections": "Add a handrail to the stairs.",
        "closed": "Mowed",
        "reopen": "Weeds are back",
        "cancel": "The heat wave is over.",
    },
    "es": {
        "info": "Envíe el plano del sitio con los retiros marcados.",
        "answer": "El plano del sitio está adjunto.",
        "conditions": "La cerca no debe pasar de dos metros.",
        "deny": "El lote está en una zona inundable.",
        "revoke": "Obras fuera de los planos aprobados.",
        "message": "La inspectora vendrá por la mañana.",
        "corrections": "Ponga un pasamanos en la escalera.",
        "closed": "Se cortó la maleza",
        "reopen": "La maleza volvió",
        "cancel": "La ola de calor terminó.",
    },
}


# --- What a case produces -------------------------------------------------------------------------


@dataclass
class Run:
    """One case in one language: who reads what, and what must not reach a Spanish reader."""

    language: str
    readers: dict[str, Client] = field(default_factory=dict)  # address -> their browser
    english_data: set[str] = field(default_factory=set)
    email_kinds: dict[int, str] = field(default_factory=dict)  # outbox index -> kind

    @property
    def prefix(self) -> str:
        return PREFIX[self.language]

    def text(self, key: str) -> str:
        return TEXTS[self.language][key]

    def reader(self, address: str, client: Client) -> Client:
        self.readers[address.lower()] = client
        return client

    def bilingual(self, english: str, spanish: str) -> None:
        """Data entered in both languages: the English must not reach a Spanish reader."""
        if english and english != spanish:
            self.english_data.add(english)

    def tag_last_email(self, kind: str) -> None:
        """Mail sent outside the notification hub carries no delivery header: name it."""
        self.email_kinds[len(mail.outbox) - 1] = kind

    def language_of(self, kind: str) -> str:
        return "en" if kind in STAFF_KINDS else self.language


@dataclass
class Message:
    kind: str
    language: str  # what the reader gets
    channel: str
    to: str
    subject: str = ""
    text: str = ""
    html: str = ""
    sms: str = ""

    @property
    def name(self) -> str:
        about = self.subject or self.sms[:60]
        return f"{self.kind} ({self.channel} to {self.to}, {self.language}, {about!r})"


CASES: dict[str, Callable[[Run], None]] = {}


def case(*covers: str):
    """Register a case and the templates it must produce (checked when it runs)."""

    def register(function):
        function.covers = set(covers)
        CASES[function.__name__] = function
        return function

    return register


def send_pending() -> None:
    """What the worker does once the transaction commits: send every queued delivery."""
    while True:
        pending = list(
            Delivery.objects.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True)
        )
        if not pending:
            return
        for delivery_id in pending:
            status = hub.delivery_send(delivery_id=delivery_id)
            assert status == DeliveryStatus.SENT, f"delivery {delivery_id} was not sent: {status}"


# --- Cases: alerts --------------------------------------------------------------------------------


@case("alert", "unsubscribe_footer")
def alert_published_then_cancelled(run: Run) -> None:
    """A severe alert with instructions, then its cancellation, to an email subscriber, a text
    subscriber and a resident's own subscription."""
    officer = make_staff(Role.COMMUNICATIONS_OFFICER)
    topic = make_topic("weather")
    run.bilingual(topic.name_en, topic.name_es)
    alert = make_alert(
        topic,
        severity="Severe",
        instruction_en="Stay indoors in the afternoon and drink water.",
        instruction_es="Quédese adentro por la tarde y tome agua.",
    )
    for english, spanish in [
        (alert.title_en, alert.title_es),
        (alert.body_en, alert.body_es),
        (alert.instruction_en, alert.instruction_es),
        (alert.event, alert.event_es),
    ]:
        run.bilingual(english, spanish)
    email = f"subscriber.{run.language}@example.com"
    make_subscription([topic], email=email, language=run.language)
    run.reader(email, Client())
    make_subscription([topic], phone="+14082104412", language=run.language)
    run.reader("+14082104412", Client())
    resident = make_resident(f"resident.{run.language}@example.com", language=run.language)
    alerts_services.subscription_save_for_user(
        user=resident,
        topics=[topic],
        citywide=True,
        neighborhoods=[],
        by_email=True,
        by_sms=False,
        language=run.language,
    )
    run.reader(resident.email, signed_in_client(resident))

    alert = alerts_services.alert_publish(alert=alert, actor=officer)
    hub.alert_fan_out(alert_id=alert.pk)
    cancel = alerts_services.alert_cancel(
        alert=alert,
        actor=officer,
        reason_en=TEXTS["en"]["cancel"],
        reason_es=TEXTS["es"]["cancel"],
    )
    hub.alert_fan_out(alert_id=cancel.pk)
    run.bilingual(cancel.title_en, cancel.title_es)


@case("subscription_confirm", "unsubscribe_footer")
def alert_subscription_by_email(run: Run) -> None:
    topic = make_topic("water")
    run.bilingual(topic.name_en, topic.name_es)
    client = run.reader("carmen@example.com", Client())
    response = client.post(
        f"{run.prefix}/alerts/subscribe/",
        {
            "how": "email",
            "email": "carmen@example.com",
            "phone": "",
            "language": run.language,
            "topics": [str(topic.pk)],
            "area": "city",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


@case("subscription_code")
def alert_subscription_by_text(run: Run) -> None:
    topic = make_topic("roads")
    client = run.reader("+14082104412", Client())
    response = client.post(
        f"{run.prefix}/alerts/subscribe/",
        {
            "how": "sms",
            "email": "",
            "phone": "(408) 210-4412",
            "language": run.language,
            "topics": [str(topic.pk)],
            "area": "city",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


# --- Cases: a resident's phone and reports ---------------------------------------------------------


@case("phone_code")
def resident_confirms_a_phone(run: Run) -> None:
    resident = make_resident(f"phone.{run.language}@example.com", language=run.language)
    client = run.reader("+14155552671", signed_in_client(resident))
    response = client.post(
        f"{run.prefix}/me/profile/",
        {
            "first_name": "Ana",
            "last_name": "Reyes",
            "phone": "(415) 555-2671",
            "home_address": "",
            "neighborhood": "",
            "preferred_language": run.language,
            "notify_by_email": "on",
            "notify_by_sms": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def _walk_report(request: ServiceRequest, run: Run, *, reporter=None, secret: str = "") -> None:
    """acknowledged -> case opened -> closed (with a note) -> reopened, through the services."""
    supervisor = staff(Role.CODE_SUPERVISOR)
    ce_services.request_acknowledge(request=request, actor=supervisor)
    opened = ce_services.case_open(
        requests=[ServiceRequest.objects.get(pk=request.pk)], actor=supervisor
    )
    ce_services.case_schedule_inspection(case=opened, actor=supervisor, when=timezone.localdate())
    ce_services.case_no_violation(
        case=CodeCase.objects.get(pk=opened.pk), actor=supervisor, notes=run.text("closed")
    )
    ce_services.request_reopen(
        request=ServiceRequest.objects.get(pk=request.pk),
        reason=run.text("reopen"),
        actor=reporter,
        secret=secret,
    )


@case("request_notice", "phone_code", "unsubscribe_footer")
def report_changes(run: Run) -> None:
    """A signed-in reporter (email and text), an anonymous reporter (email) and a follower who
    typed a number (the code, then the notices by text) are told each step."""
    ensure_city()
    category = make_category("overgrown-lot")
    run.bilingual(category.name_en, category.name_es)
    reporter = make_resident(
        f"reporter.{run.language}@example.com",
        language=run.language,
        phone="+14155550101",
        notify_by_sms=True,
    )
    reporter_client = signed_in_client(reporter)
    run.reader(reporter.email, reporter_client)
    run.reader(reporter.phone, reporter_client)
    reported = make_request(category, reporter=reporter, address="12 Elm Street")

    follower_client = run.reader("+14155552671", Client())
    session = follower_client.session
    session["report"] = {
        "token": "f" * 32,
        "category": category.pk,
        "latitude": reported.latitude,
        "longitude": reported.longitude,
        "description": "Maleza alta" if run.language == "es" else "Tall weeds",
        "contact": {"name": "", "email": "", "phone": "+14155552671"},
    }
    session.save()
    response = follower_client.post(f"{run.prefix}/report/review/", {"follow": reported.public_id})
    assert response.status_code == 302, response.content.decode()[:2000]
    follower = Follower.objects.get(request=reported, phone="+14155552671")
    response = follower_client.post(
        f"{run.prefix}/requests/{reported.public_id}/follow/", {"code": follower.phone_code}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    follower.refresh_from_db()
    assert follower.phone_confirmed_at is not None and follower.language == run.language

    anonymous, secret = submit(
        category,
        lat=36.415,
        address="40 Pine Street",
        contact_email=f"anonymous.{run.language}@example.com",
        language=run.language,
    )
    run.reader(anonymous.contact_email, Client())

    _walk_report(reported, run, reporter=reporter)
    _walk_report(anonymous, run, secret=secret)


@case("owner_reminder")
def owner_reminder(run: Run) -> None:
    owner = f"owner.{run.language}@example.com"
    run.reader(owner, Client())
    noticed = case_with_notice(
        make_request(address="4 Olive Street"),
        owner_name="Rosa Olivo",
        owner_email=owner,
        owner_language=run.language,
    )
    assert automation.owner_reminders(today=noticed.comply_by - timedelta(days=3)) == 1


@case("fine_citation", "payment_receipt")
def fine_citation_paid_without_an_account(run: Run) -> None:
    """The citation emailed to the owner, who pays it online with no account (notice number
    and address, on the page the email links to), and gets the receipt by email."""
    owner = f"owner.{run.language}@example.com"
    browser = run.reader(owner, Client())
    inspector = staff(Role.CODE_INSPECTOR)
    noticed = case_with_notice(
        make_request(address="7 Walnut Street"),
        actor=inspector,
        owner_name="Rosa Olivo",
        owner_email=owner,
        owner_language=run.language,
    )
    ce_services.case_reinspect(case=noticed, today=timezone.localdate())
    ce_services.case_record_reinspection(
        case=CodeCase.objects.get(pk=noticed.pk),
        actor=inspector,
        complied=False,
        fine=Decimal("250.00"),
        notes="Not corrected",
    )
    found = browser.post(
        f"{run.prefix}/pay/fine/", {"notice": noticed.number, "address": "7 walnut st"}
    )
    assert found.status_code == 302, found.content
    form = browser.get(found["Location"])
    key = re.search(r'name="key" value="([^"]+)"', form.content.decode()).group(1)
    sent = browser.post(found["Location"], {"how_much": "all", "email": owner, "key": key})
    demo = urlsplit(sent["Location"]).path
    back = browser.post(demo, {"step": "card", "card": "succeeds"})
    assert browser.get(urlsplit(back["Location"]).path).status_code == 302  # to the receipt


@case("payment_receipt", "refund_receipt", "permit_notice", "unsubscribe_footer")
def permit_fees_paid_online_and_refunded(run: Run) -> None:
    """A resident pays an approved permit's fees online (it is issued at once), and the permit
    office refunds part of it: a receipt for each, in the resident's language."""
    from cityhall.payments import services as payments
    from cityhall.payments.models import DemoCharge

    applicant = make_resident(f"payer.{run.language}@example.com", language=run.language)
    run.reader(applicant.email, signed_in_client(applicant))
    fence = make_permit_type("FEN")
    run.bilingual(fence.name_en, fence.name_es)
    approved = make_application(applicant, fence, status="approved")
    payment = payments.start(
        kind="permit",
        reference=approved.number,
        amount=approved.balance,
        key="6f1d7a52-3c1e-4a8e-9a51-0f5c2d7e9b10",
        payer=applicant,
        language=run.language,
    )
    payments.provider_page(payment)
    DemoCharge.objects.create(
        token=payment.token, amount=payment.total, outcome=DemoCharge.Outcome.SUCCEEDED
    )
    assert payments.refresh(payment.pk).is_paid
    manager = make_staff(Role.MANAGER, f"refunds.{run.language}@riverbend.example")
    refund = payments.refund(
        payment=payment, amount=Decimal("25.00"), reason="Fee reduced", actor=manager
    )
    assert refund.status == "succeeded"


@case("kpi_monthly_report", "unsubscribe_footer")
def monthly_performance_report(run: Run) -> None:
    """The monthly report to a manager who asked for it, in the manager's language; the link
    opens the report for the manager (signed in with a second factor)."""
    from kpis import reports
    from kpis.models import ReportOptIn

    manager = make_staff(Role.MANAGER, f"manager.{run.language}@riverbend.example")
    manager.preferred_language = run.language
    manager.save()
    ReportOptIn.objects.create(user=manager)
    run.reader(manager.email, verified_client(manager))
    assert reports.send(reports.build(reports.previous_month())) == 1


@case("staff_notice", "unsubscribe_footer")
def staff_notices(run: Run) -> None:
    """A late triage (supervisors) and the morning digest (inspectors); a staff member's
    preferred language changes nothing: staff notices are English."""
    ensure_city()
    supervisor = staff(Role.CODE_SUPERVISOR)
    inspector = staff(Role.CODE_INSPECTOR)
    for person in (supervisor, inspector):
        person.preferred_language = run.language
        person.save()
        run.reader(person.email, verified_client(person))
    late = make_request(address="9 Birch Street")
    ServiceRequest.objects.filter(pk=late.pk).update(
        triage_due=timezone.localdate() - timedelta(days=2)
    )
    assert automation.triage_breaches() == 1
    today = timezone.localdate()
    opened = ce_services.case_open(
        requests=[make_request(address="15 Cedar Street", lat=36.415)], actor=supervisor
    )
    ce_services.case_schedule_inspection(
        case=opened, actor=supervisor, when=today, inspector=inspector
    )
    assert automation.inspector_digests(today=today) == 1


# --- Cases: permits -------------------------------------------------------------------------------


def _application(pk: int) -> Application:
    return Application.objects.select_related("permit_type", "applicant").get(pk=pk)


@case("permit_notice", "unsubscribe_footer")
def permit_changes(run: Run) -> None:
    """Every event of a permit notice, by email and text, to the applicant."""
    applicant = make_resident(
        f"applicant.{run.language}@example.com",
        language=run.language,
        phone="+14155550102",
        notify_by_sms=True,
        first_name="Lucía",
        last_name="Flores",
    )
    client = signed_in_client(applicant)
    run.reader(applicant.email, client)
    run.reader(applicant.phone, client)
    technician = factory_staff(Role.PERMIT_TECHNICIAN)
    reviewer = factory_staff(Role.PLAN_REVIEWER)
    final = make_inspection_type("final", name_en="Final inspection", name_es="Inspección final")
    building = make_permit_type("BLD", inspection_types=[final])
    fence = make_permit_type("FEN")
    business = make_permit_type(
        "BUS",
        renewable=True,
        auto_renew=True,
        reminder_offsets=[60, 30, 7],
        validity_days=365,
        renewal_window_days=60,
        grace_days=0,
    )
    for item in (final, building, fence, business):
        run.bilingual(item.name_en, item.name_es)

    # submitted, in_review, info_requested, approved, issued, message, inspections, finaled
    application = make_application(applicant, building, status="in_review")
    permit_services.application_request_info(
        application=_application(application.pk), actor=technician, message=run.text("info")
    )
    permit_services.info_answer(
        application=_application(application.pk), actor=applicant, answer=run.text("answer")
    )
    permit_services.application_approve(
        application=_application(application.pk),
        actor=reviewer,
        conditions=run.text("conditions"),
    )
    application = _application(application.pk)
    assert application.balance > Decimal("0")
    permit_services.payment_record(
        application=application,
        actor=technician,
        amount=application.balance,
        method=PaymentMethod.CASH,
        reference="R-1",
    )
    permit_services.application_issue(application=_application(application.pk), actor=technician)
    permit_services.application_message(
        application=_application(application.pk), actor=technician, text=run.text("message")
    )
    application = _application(application.pk)
    for result in ("failed", "passed"):
        inspection = permit_services.inspection_request(
            application=_application(application.pk),
            actor=applicant,
            inspection_type=final,
            preferred_dates="—",
        )
        permit_services.inspection_schedule(
            inspection=inspection,
            actor=technician,
            when=application.issued_at.date() + timedelta(days=3),
            inspector=technician,
        )
        inspection.refresh_from_db()
        permit_services.inspection_record(
            inspection=inspection,
            actor=technician,
            result=result,
            corrections=run.text("corrections") if result == "failed" else "",
        )

    # denied; revoked
    denied = make_application(applicant, fence, status="in_review")
    permit_services.application_deny(
        application=_application(denied.pk), actor=reviewer, reason=run.text("deny")
    )
    revoked = make_application(applicant, fence, status="issued")
    permit_services.application_revoke(
        application=_application(revoked.pk), actor=reviewer, reason=run.text("revoke")
    )

    # renewal_reminder, renewal_ready, expired (the beat jobs)
    licence = make_application(applicant, business, status="issued")
    expires = licence.expires_at
    assert permit_services.renewals_due_reminders(today=expires - timedelta(days=45)) == 1
    assert permit_services.renewals_auto_create(today=expires - timedelta(days=30)) == 1
    assert permit_services.permits_expire(today=expires + timedelta(days=1)) == 1


# --- Cases: accounts ------------------------------------------------------------------------------


@case("staff_invitation")
def staff_invitation(run: Run) -> None:
    """`createstaff` without a password emails an invitation (the console's "Send an
    invitation" calls the same `invitation_send`)."""
    email = f"new.technician.{run.language}@riverbend.example"
    call_command("createstaff", email, role=Role.PERMIT_TECHNICIAN.value, stdout=io.StringIO())
    run.tag_last_email("staff_invitation")
    run.reader(email, Client())


@case(
    "account:email_confirmation_signup",
    "account:email_confirmation",
    "account:account_already_exists",
)
def resident_signs_up(run: Run) -> None:
    new = f"new.resident.{run.language}@example.com"
    browser = run.reader(new, Client())
    data = {"email": new, "password1": PASSWORD + "-x", "password2": PASSWORD + "-x"}
    assert browser.post(f"{run.prefix}/accounts/signup/", data).status_code == 302
    cache.clear()  # one confirmation email per address every three minutes
    response = browser.post(f"{run.prefix}/accounts/confirmation/resend/", {"email": new})
    assert response.status_code in (200, 302)
    assert User.objects.get(email=new).preferred_language == run.language

    existing = make_resident(f"existing.{run.language}@example.com", language=run.language)
    other = run.reader(existing.email, Client())
    data = {"email": existing.email, "password1": PASSWORD + "-y", "password2": PASSWORD + "-y"}
    assert other.post(f"{run.prefix}/accounts/signup/", data).status_code == 302


@case("account:password_reset_key", "account:unknown_account")
def resident_resets_a_password(run: Run) -> None:
    resident = make_resident(f"forgetful.{run.language}@example.com", language=run.language)
    browser = run.reader(resident.email, Client())
    response = browser.post(
        f"{run.prefix}/accounts/password/reset/", {"email": resident.email.upper()}
    )
    assert response.status_code == 302
    unknown = f"nobody.{run.language}@example.com"
    stranger = run.reader(unknown, Client())
    assert (
        stranger.post(f"{run.prefix}/accounts/password/reset/", {"email": unknown}).status_code
        == 302
    )


# --- Reading the outboxes -------------------------------------------------------------------------


class _Html(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.lang: str | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "a" and attrs.get("href") is not None:
            self.hrefs.append(attrs["href"])
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _html(content: str) -> _Html:
    parser = _Html()
    parser.feed(content)
    parser.close()
    return parser


def collect(run: Run) -> tuple[list[Message], set[str]]:
    """Every email and text sent, and the templates they came from (the unsubscribe footer is
    part of the email it is appended to)."""
    messages, kinds = [], set()
    for index, email in enumerate(mail.outbox):
        html = next((alt.content for alt in email.alternatives if alt.mimetype == "text/html"), "")
        delivery_id = email.extra_headers.get("X-CityHall-Delivery")
        if delivery_id:
            kind = Delivery.objects.get(pk=delivery_id).notification.template
            if "List-Unsubscribe" in email.extra_headers:
                kinds.add("unsubscribe_footer")
        else:
            kind = run.email_kinds[index]
        kinds.add(kind)
        messages.append(
            Message(
                kind=kind,
                language=run.language_of(kind),
                channel="email",
                to=email.to[0],
                subject=email.subject,
                text=email.body,
                html=html,
            )
        )
    for text in sms.outbox:
        kind = Delivery.objects.get(provider_message_id=text["id"]).notification.template
        kinds.add(kind)
        messages.append(
            Message(
                kind=kind,
                language=run.language_of(kind),
                channel="sms",
                to=text["to"],
                sms=text["body"],
            )
        )
    return messages, kinds


def hub_languages_match(run: Run) -> list[str]:
    """The hub recorded each resident's message in their language."""
    wrong = Delivery.objects.exclude(notification__language=run.language).exclude(
        notification__template__in=STAFF_KINDS
    )
    return [
        f"{row.notification.template} to {row.address or row.notification.user}: recorded in "
        f"{row.notification.language!r}, the reader chose {run.language!r}"
        for row in wrong.select_related("notification__user")
    ]


# --- Checking a message ---------------------------------------------------------------------------


def content_problems(message: Message, run: Run) -> list[str]:
    problems = []
    parsed = _html(message.html) if message.html else None
    plain = {"subject": message.subject, "text body": message.text, "SMS": message.sms}
    everything = {**plain, "HTML body": message.html}
    for part, content in everything.items():
        for pattern, what in PROGRAM_TEXT:
            if found := pattern.search(content):
                problems.append(f"{message.name}: {what} in the {part}: {_around(content, found)}")
    for part, content in plain.items():
        if found := ESCAPED.search(content):
            problems.append(
                f"{message.name}: HTML escaping in the plain {part}: {_around(content, found)}"
            )
    if found := REPEATED_LABEL.match(message.subject):
        problems.append(f"{message.name}: the subject says {found.group(1)!r} twice")
    if parsed is not None and "<html" in message.html and parsed.lang != message.language:
        problems.append(f"{message.name}: <html lang={parsed.lang!r}>")
    if message.language == "es":
        readable = {**plain, "HTML body": " ".join(parsed.text) if parsed else ""}
        for part, content in readable.items():
            content = _without_names(content)
            if found := ENGLISH.search(content):
                problems.append(
                    f"{message.name}: English in the Spanish {part}: {_around(content, found)}"
                )
            for english in sorted(run.english_data):
                if english in content:
                    problems.append(
                        f"{message.name}: the English {english!r} in the Spanish {part}"
                    )
    return problems


def _without_names(content: str) -> str:
    """Links, email addresses and the city's own name and address are not English."""
    content = URL.sub(" ", content)
    content = re.sub(r"\S+@\S+", " ", content)
    for value in settings.CITY.values():
        content = content.replace(value, " ")
    return content


def _around(content: str, found: re.Match) -> str:
    start, end = max(found.start() - 60, 0), found.end() + 60
    return repr(content[start:end])


def links_in(message: Message) -> tuple[list[str], list[str]]:
    """Absolute links in the text, the HTML (hrefs and text) and the SMS; and problems."""
    links, problems = [], []
    for content in (message.text, message.sms):
        links += [url.rstrip(".,;:!?)") for url in URL.findall(content)]
    if message.html:
        parsed = _html(message.html)
        for href in parsed.hrefs:
            if href.startswith(("mailto:", "tel:")):
                continue
            if not href.startswith(("http://", "https://")):
                problems.append(f"{message.name}: a link that is not absolute: {href!r}")
                continue
            links.append(href)
        links += [url.rstrip(".,;:!?)") for url in URL.findall(" ".join(parsed.text))]
    return list(dict.fromkeys(links)), problems


def follow(url: str, message: Message, client: Client) -> list[str]:
    problems = []
    if not url.startswith(SITE + "/"):
        problems.append(f"{message.name}: {url} is not built from SITE_URL ({SITE})")
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    redirect_reason = next(
        (reason for pattern, reason in INTENDED_REDIRECTS if pattern.search(parts.path)), None
    )
    response = client.get(path, follow=redirect_reason is not None)
    if response.status_code != 200:
        where = f" -> {response['Location']}" if response.has_header("Location") else ""
        problems.append(f"{message.name}: GET {path} answered {response.status_code}{where}")
        return problems
    if redirect_reason and not response.redirect_chain:
        problems.append(f"{message.name}: GET {path} did not redirect ({redirect_reason})")
    # Staff read English whatever their profile says; residents land in their own language.
    if message.kind not in STAFF_KINDS and response["Content-Type"].startswith("text/html"):
        page_lang = re.search(r'<html[^>]*\blang="([^"]+)"', response.content.decode())
        if page_lang is None or page_lang.group(1) != message.language:
            problems.append(
                f"{message.name}: {path} opens a page in "
                f"{page_lang.group(1) if page_lang else 'no language'!r}, not "
                f"{message.language!r}"
            )
    return problems


def state() -> tuple:
    """What a link opened by GET must not change (confirm, unsubscribe, reset, invitation)."""
    return (
        list(
            Subscription.objects.order_by("pk").values_list(
                "pk",
                "by_email",
                "by_sms",
                "confirmed_at",
                "email_unsubscribed_at",
                "sms_unsubscribed_at",
            )
        ),
        list(
            User.objects.order_by("pk").values_list(
                "pk", "password", "notify_by_email", "notify_by_sms", "is_active"
            )
        ),
        list(EmailAddress.objects.order_by("pk").values_list("pk", "verified")),
        list(Delivery.objects.order_by("pk").values_list("pk", "status")),
        list(ServiceRequest.objects.order_by("pk").values_list("pk", "status")),
        list(Application.objects.order_by("pk").values_list("pk", "status")),
    )


# --- The tests ------------------------------------------------------------------------------------

# Codes and the owner's reminder carry no link by design; every other message has at least one.
WITHOUT_LINKS = {"subscription_code", "phone_code", "owner_reminder"}


@pytest.fixture(autouse=True)
def _site_and_outboxes(settings, tmp_path):
    settings.SITE_URL = SITE
    settings.SMS_BACKEND = "alerts.sms.LocmemSmsBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def account_email_kinds(monkeypatch):
    """Which allauth template each account email came from (allauth adds no header)."""
    kinds: dict[int, str] = {}
    original = ResidentAccountAdapter.send_mail

    def send_mail(self, template_prefix, email, context):
        original(self, template_prefix, email, context)
        kinds[len(mail.outbox) - 1] = "account:" + template_prefix.rsplit("/", 1)[-1]

    monkeypatch.setattr(ResidentAccountAdapter, "send_mail", send_mail)
    return kinds


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_link_in_every_message_opens_for_its_reader(name, language, account_email_kinds):
    run = Run(language=language)
    produce = CASES[name]
    produce(run)
    send_pending()
    run.email_kinds.update(account_email_kinds)
    messages, produced = collect(run)
    assert produce.covers <= produced, f"{name} produced no {produce.covers - produced}"

    problems = hub_languages_match(run)
    for message in messages:
        problems += content_problems(message, run)

    before = state()
    followed: set[tuple[str, str]] = set()
    for message in messages:
        urls, link_problems = links_in(message)
        problems += link_problems
        if not urls and message.kind not in WITHOUT_LINKS:
            problems.append(f"{message.name}: no link")
        client = run.readers.get(message.to.lower())
        assert client is not None, f"{message.name}: the case names no reader for {message.to}"
        for url in urls:
            if (message.to.lower(), url) not in followed:
                followed.add((message.to.lower(), url))
                problems += follow(url, message, client)
    assert state() == before, "opening the links (GET) changed a subscription, account or record"

    assert not problems, f"{len(problems)} problems in {name} ({language}):\n" + "\n".join(
        dict.fromkeys(problems)
    )


def _notification_folders() -> dict[str, list[Path]]:
    roots = [Path(config.path) / "templates" for config in apps.get_app_configs()]
    for engine in settings.TEMPLATES:
        roots += [Path(directory) for directory in engine.get("DIRS", [])]
    found: dict[str, list[Path]] = {}
    for root in roots:
        for folder in sorted((root / "alerts" / "notifications").glob("*")):
            if folder.is_dir():
                found.setdefault(folder.name, []).append(folder)
    return found


def _project_account_emails() -> set[str]:
    """allauth emails the project overrides in its own templates (none yet: it sends
    allauth's own, listed in ACCOUNT_EMAILS)."""
    base = Path(settings.BASE_DIR)
    roots = [Path(directory) for engine in settings.TEMPLATES for directory in engine["DIRS"]]
    roots += [
        Path(config.path) / "templates"
        for config in apps.get_app_configs()
        if base in Path(config.path).parents and "site-packages" not in Path(config.path).parts
    ]
    return {
        "account:" + path.name.rsplit("_", 1)[0]
        for root in roots
        for path in (root / "account" / "email").glob("*_message.*")
        if path.name != "base_message.txt"  # the frame every account email is written in
    }


def test_every_template_has_a_case():
    covered = set().union(*(function.covers for function in CASES.values()))
    folders = _notification_folders()
    assert {"alert", "permit_notice", "request_notice"} <= set(folders), "discovery is broken"
    uncovered = set(folders) - covered
    assert not uncovered, (
        f"notification templates that no case in this module sends: "
        f"{[str(path) for name in sorted(uncovered) for path in folders[name]]}; add a case "
        "that sends them the way the product does"
    )
    for paths in folders.values():
        for path in paths:
            missing = {"subject.txt", "body.txt", "body.html", "sms.txt"} - {
                p.name for p in path.iterdir()
            }
            assert not missing, f"{path} lacks {sorted(missing)}"

    assert covered >= ACCOUNT_EMAILS
    overridden = _project_account_emails() - covered
    assert not overridden, f"account emails the project overrides but no case sends: {overridden}"
    # allauth's other emails are off; turning one on needs a case here.
    assert not allauth_settings.EMAIL_NOTIFICATIONS
    assert not allauth_settings.LOGIN_BY_CODE_ENABLED
    assert not allauth_settings.EMAIL_VERIFICATION_BY_CODE_ENABLED
    assert not allauth_settings.PASSWORD_RESET_BY_CODE_ENABLED
