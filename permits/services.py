"""Writes for permits and licenses. Every status change goes through the workflow engine
(`APPLICATIONS.transition`, `INSPECTIONS.transition`); see workflow.py for the tables."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.services import notify
from cityhall.calendar import add_business_days
from cityhall.constants import EventKind
from cityhall.models import audit_as
from cityhall.numbering import next_number, permit_sequence
from cityhall.records.registry import delete_files_on_commit
from cityhall.text import StaffText
from cityhall.timeline import bilingual, both, on, said

from .constants import (
    ALLOWED_UPLOADS,
    INSPECTION_RESULTS,
    MAX_UPLOAD_BYTES,
    InspectionStatus,
    PaymentMethod,
    Status,
)
from .models import (
    Application,
    Document,
    DocumentRequirement,
    InfoRequest,
    Inspection,
    Payment,
    PermitType,
    RenewalReminder,
)
from .workflow import APPLICATIONS, INSPECTIONS, TransitionNotAllowed

# --- Helpers ---------------------------------------------------------------------------------


def _tell_applicant(application: Application, event: str, **context) -> None:
    """Notify the applicant in their language, through the hub. Called inside the transaction:
    the notification row commits with the change, and sending waits for the commit."""
    notify(
        user=application.applicant,
        template="permit_notice",
        context={"event": event, "application": application, **context},
        link=application.get_absolute_url(),
    )


def _telling(event: str, **context):
    return lambda application: _tell_applicant(application, event, **context)


# --- The resident's application ---------------------------------------------------------------


@transaction.atomic
def application_start(
    *, applicant, permit_type: PermitType, renews: Application | None = None
) -> Application:
    if not permit_type.is_active:
        raise ValidationError(_("This permit type is not accepting applications."))
    application = Application(
        permit_type=permit_type,
        applicant=applicant,
        applicant_name=applicant.get_full_name(),
        applicant_phone=applicant.phone,
        address=applicant.home_address,
        neighborhood=applicant.neighborhood,
        renews=renews,
    )
    if renews is not None:
        for field in (
            "applicant_name",
            "applicant_phone",
            "business_name",
            "address",
            "zip_code",
            "neighborhood_id",
            "latitude",
            "longitude",
            "description",
            "valuation",
            "units",
            "answers",
        ):
            setattr(application, field, getattr(renews, field))
    audit_as(application, applicant).save()
    return application


def _editable(application: Application, actor) -> None:
    if not APPLICATIONS.is_owner(application, actor) or application.status != Status.DRAFT:
        raise TransitionNotAllowed("Only the applicant can change a draft.")


@transaction.atomic
def application_update(*, application: Application, actor, fields: dict) -> Application:
    application = Application.objects.select_for_update().get(pk=application.pk)
    _editable(application, actor)
    for name, value in fields.items():
        setattr(application, name, value)
    audit_as(application, actor).save()
    return application


def sniff_content_type(head: bytes) -> str | None:
    """The file's real type from its first bytes, whatever its name claims."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def validate_upload(uploaded) -> str:
    if uploaded.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is too large. Files can be up to %(mb)s MB.")
            % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    if uploaded.size == 0:
        raise ValidationError(_("The file is empty."))
    head = uploaded.read(16)
    uploaded.seek(0)
    content_type = sniff_content_type(head)
    if content_type not in ALLOWED_UPLOADS:
        raise ValidationError(_("The file must be a PDF, JPEG or PNG."))
    return content_type


@transaction.atomic
def document_add(
    *, application: Application, actor, uploaded, requirement: DocumentRequirement | None = None
) -> Document:
    application = Application.objects.select_for_update().get(pk=application.pk)
    allowed = application.status in (
        Status.DRAFT,
        Status.INFO_REQUESTED,
    ) and APPLICATIONS.is_owner(application, actor)
    if not (allowed or (actor.is_staff and actor.has_perm(APPLICATIONS.move("accept").who))):
        raise TransitionNotAllowed("Documents cannot be added now.")
    content_type = validate_upload(uploaded)
    name = uploaded.name.rsplit("/", 1)[-1][:150]
    document = Document(
        application=application,
        requirement=requirement,
        original_name=name,
        content_type=content_type,
        size=uploaded.size,
        uploaded_by=actor,
    )
    stem = (
        "".join(ch for ch in name.rsplit(".", 1)[0] if ch.isalnum() or ch in "-_")[:40]
        or "document"
    )
    document.file.save(f"{stem}{ALLOWED_UPLOADS[content_type]}", uploaded, save=False)
    document.save()
    if application.status != Status.DRAFT:
        APPLICATIONS.record(application, kind=EventKind.DOCUMENT, text=name, actor=actor)
    return document


@transaction.atomic
def document_remove(*, document: Document, actor) -> None:
    application = Application.objects.select_for_update().get(pk=document.application_id)
    _editable(application, actor)
    document.file.delete(save=False)
    document.delete()


def documents_remove_orphans(*, now=None) -> int:
    """Documents of drafts withdrawn before they were ever submitted (never records), once
    ORPHAN_UPLOAD_HOURS have passed (beat, hourly). Their files go too."""
    from django.conf import settings

    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.ORPHAN_UPLOAD_HOURS)
    orphans = Document.objects.filter(
        application__status=Status.WITHDRAWN,
        application__number__isnull=True,
        application__updated_at__lt=cutoff,
    )
    removed = 0
    for document in orphans.iterator():
        document.file.delete(save=False)
        document.delete()
        removed += 1
    return removed


def application_missing(application: Application) -> dict[str, list[str]]:
    """What still stops the application from being submitted, by task-list section."""
    permit_type = application.permit_type
    missing: dict[str, list[str]] = {
        "applicant": [],
        "project": [],
        "questions": [],
        "documents": [],
        "declare": [],
    }
    if not application.applicant_name.strip():
        missing["applicant"].append(str(_("Enter the applicant's name.")))
    if not application.address.strip():
        missing["applicant"].append(str(_("Enter the property or business address.")))
    if not application.description.strip():
        missing["project"].append(str(_("Describe the project or business.")))
    if permit_type.needs_valuation and not application.valuation:
        missing["project"].append(str(_("Enter the project value.")))
    if permit_type.needs_units and not application.units:
        missing["project"].append(str(_("Enter the number of units.")))
    for question in permit_type.questions.all():
        if question.required and application.answers.get(question.key) in (None, ""):
            missing["questions"].append(
                str(_("Answer: %(question)s") % {"question": question.t("label")})
            )
    uploaded = {d.requirement_id for d in application.documents.all()}
    for requirement in permit_type.document_requirements.all():
        if requirement.required and requirement.pk not in uploaded:
            missing["documents"].append(
                str(_("Upload: %(document)s") % {"document": requirement.t("name")})
            )
    if not application.declared_at:
        missing["declare"].append(str(_("Check your answers and confirm the declaration.")))
    return missing


def fee_for(application: Application) -> Decimal:
    permit_type = application.permit_type
    if application.renews_id and permit_type.renewal_fee is not None:
        return permit_type.renewal_fee
    return permit_type.fee_for(units=application.units, valuation=application.valuation)


@transaction.atomic
def application_declare(*, application: Application, actor) -> Application:
    application = Application.objects.select_for_update().get(pk=application.pk)
    _editable(application, actor)
    application.declared_at = timezone.now()
    audit_as(application, actor).save(update_fields=["declared_at", "updated_at"])
    return application


def _next_number(permit_type: PermitType, year: int) -> str:
    return f"{permit_type.code}-{year}-{next_number(permit_sequence(permit_type.code, year)):06d}"


@APPLICATIONS.handler("submit")
@transaction.atomic
def application_submit(*, application: Application, actor) -> Application:
    missing = application_missing(application)
    if any(missing.values()):
        raise ValidationError([message for messages in missing.values() for message in messages])

    def number_it(locked: Application) -> None:
        now = timezone.now()
        locked.number = _next_number(locked.permit_type, timezone.localtime(now).year)
        locked.submitted_at = now
        locked.fee_total = fee_for(locked)
        locked.due_at = add_business_days(
            timezone.localdate(now), locked.permit_type.review_sla_days
        )

    return APPLICATIONS.transition(
        application, "submit", actor=actor, apply=number_it, notify=_telling("submitted")
    )


@APPLICATIONS.handler("withdraw")
def application_withdraw(*, application: Application, actor) -> Application:
    return APPLICATIONS.transition(application, "withdraw", actor=actor)


@APPLICATIONS.handler("answer")
@transaction.atomic
def info_answer(*, application: Application, actor, answer: str) -> Application:
    if not answer.strip():
        raise ValidationError({"answer": _("Write your answer.")})

    def record_answer(locked: Application) -> None:
        request = locked.info_requests.filter(answered_at__isnull=True).last()
        if request is not None:
            request.answer = answer
            request.answered_at = timezone.now()
            request.save()

    return APPLICATIONS.transition(
        application, "answer", actor=actor, text=answer, apply=record_answer
    )


# --- Staff --------------------------------------------------------------------------------------


@APPLICATIONS.handler("assign")
@transaction.atomic
def application_assign(*, application: Application, actor, reviewer) -> Application:
    def assign(locked: Application) -> None:
        locked.assigned_reviewer = reviewer

    return APPLICATIONS.transition(
        application,
        "assign",
        actor=actor,
        apply=assign,
        text=f"Assigned to {reviewer.display_name}" if reviewer else "Unassigned",
    )


@APPLICATIONS.handler("accept")
def application_accept(*, application: Application, actor, reviewer=None) -> Application:
    """Start the review, by `reviewer` (by default whoever has it already, or else the actor)."""

    def take(locked: Application) -> None:
        locked.assigned_reviewer = reviewer or locked.assigned_reviewer or actor

    return APPLICATIONS.transition(
        application, "accept", actor=actor, apply=take, notify=_telling("in_review")
    )


@APPLICATIONS.handler("request_info")
@transaction.atomic
def application_request_info(
    *, application: Application, actor, message: str, message_es: str = ""
) -> Application:
    """Ask the applicant for something; `message_es` is the same in Spanish, if staff write it
    (a Spanish reader otherwise sees the English, marked as such)."""
    if not message.strip():
        raise ValidationError({"message": "Say what the applicant needs to provide."})

    def ask(locked: Application) -> None:
        InfoRequest.objects.create(
            application=locked, message=message, message_es=message_es, requested_by=actor
        )

    return APPLICATIONS.transition(
        application,
        "request_info",
        actor=actor,
        text=message,
        spanish=message_es,
        apply=ask,
        notify=_telling("info_requested", message=StaffText(message, message_es)),
    )


@APPLICATIONS.handler("approve")
def application_approve(
    *, application: Application, actor, conditions: str = "", conditions_es: str = ""
) -> Application:
    def decide(locked: Application) -> None:
        locked.conditions = conditions
        locked.conditions_es = conditions_es if conditions.strip() else ""
        locked.decided_at = timezone.now()

    return APPLICATIONS.transition(
        application,
        "approve",
        actor=actor,
        text=conditions,
        spanish=conditions_es,
        apply=decide,
        notify=_telling("approved", conditions=StaffText(conditions, conditions_es)),
    )


@APPLICATIONS.handler("deny")
def application_deny(
    *, application: Application, actor, reason: str, reason_es: str = ""
) -> Application:
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the denial; the applicant sees it."})

    def decide(locked: Application) -> None:
        locked.decision_reason = reason
        locked.decision_reason_es = reason_es
        locked.decided_at = timezone.now()

    return APPLICATIONS.transition(
        application,
        "deny",
        actor=actor,
        text=reason,
        spanish=reason_es,
        apply=decide,
        notify=_telling("denied", reason=StaffText(reason, reason_es)),
    )


@APPLICATIONS.handler("issue")
def application_issue(*, application: Application, actor) -> Application:
    def issue(locked: Application) -> None:
        if locked.balance > 0:
            raise ValidationError(
                f"Fees of ${locked.balance} are still due: record a payment or a waiver first."
            )
        locked.issued_at = timezone.now()
        locked.expires_at = timezone.localdate() + timedelta(days=locked.permit_type.validity_days)

    return APPLICATIONS.transition(
        application, "issue", actor=actor, apply=issue, notify=_telling("issued")
    )


@APPLICATIONS.handler("final")
def application_final(*, application: Application, actor, text="") -> Application:
    """Final a permit (all work complete). Passing the last inspection does this by itself."""

    def final(locked: Application) -> None:
        locked.finaled_at = timezone.now()

    return APPLICATIONS.transition(
        application, "final", actor=actor, text=text, apply=final, notify=_telling("finaled")
    )


@APPLICATIONS.handler("revoke")
def application_revoke(*, application: Application, actor, reason: str) -> Application:
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for revoking; the holder sees it."})

    def revoke(locked: Application) -> None:
        locked.decision_reason = reason

    return APPLICATIONS.transition(
        application,
        "revoke",
        actor=actor,
        text=reason,
        apply=revoke,
        notify=_telling("revoked", reason=reason),
    )


@APPLICATIONS.handler("message")
def application_message(*, application: Application, actor, text: str) -> Application:
    """A message to the applicant: on their timeline and sent to them."""
    if not text.strip():
        raise ValidationError("Write the message.")
    return APPLICATIONS.transition(
        application, "message", actor=actor, text=text, notify=_telling("message", message=text)
    )


@APPLICATIONS.handler("note")
def application_note(*, application: Application, actor, text: str) -> Application:
    """An internal note only staff see."""
    if not text.strip():
        raise ValidationError("Write the note.")
    return APPLICATIONS.transition(application, "note", actor=actor, text=text)


def _payment(
    application: Application, *, move: str, actor, amount: Decimal, method: str, reference: str
) -> Payment:
    if amount is None or amount <= 0:
        raise ValidationError("The amount must be more than zero.")
    payments: list[Payment] = []

    def pay(locked: Application) -> None:
        if amount > locked.balance:
            raise ValidationError(f"The balance due is ${locked.balance}.")
        payment = Payment(
            application=locked,
            amount=amount,
            method=method,
            reference=reference,
            recorded_by=actor,
        )
        audit_as(payment, actor).save()
        payments.append(payment)

    text = said("payment", method=both(PaymentMethod(method).label), amount=f"${amount:,.2f}")
    APPLICATIONS.transition(application, move, actor=actor, apply=pay, text=text)
    return payments[0]


@APPLICATIONS.handler("payment")
@transaction.atomic
def payment_record(
    *,
    application: Application,
    actor,
    amount: Decimal,
    method: str,
    reference: str = "",
    issue: bool = False,
) -> Payment:
    """A payment taken at the counter (cash, check or card), or a waiver (its own move, which
    needs `permits.waive_fee`). With `issue`, an approved permit whose balance this pays is
    issued in the same step (or, if it cannot be, nothing is recorded)."""
    if method not in PaymentMethod.values:
        raise ValidationError("Choose how it was paid.")
    move = "waive" if method == PaymentMethod.WAIVER else "payment"
    payment = _payment(
        application, move=move, actor=actor, amount=amount, method=method, reference=reference
    )
    if issue:
        paid = Application.objects.get(pk=application.pk)
        if paid.status == Status.APPROVED and paid.balance == 0:
            application_issue(application=paid, actor=actor)
    return payment


@APPLICATIONS.handler("waive")
def fee_waive(*, application: Application, actor, amount: Decimal, reference: str) -> Payment:
    """Waive some or all of the fees (its own permission: `permits.waive_fee`)."""
    return payment_record(
        application=application,
        actor=actor,
        amount=amount,
        method=PaymentMethod.WAIVER,
        reference=reference,
    )


# --- Inspections --------------------------------------------------------------------------------


@transaction.atomic
def inspection_request(
    *, application: Application, actor, inspection_type, preferred_dates: str
) -> Inspection:
    application = Application.objects.select_for_update().get(pk=application.pk)
    if not APPLICATIONS.is_owner(application, actor) and not actor.has_perm(
        INSPECTIONS.move("schedule").who
    ):
        raise TransitionNotAllowed("Only the permit holder can request inspections.")
    if application.status != Status.ISSUED:
        raise ValidationError(_("Inspections can be requested once the permit is issued."))
    if not application.permit_type.inspection_types.filter(pk=inspection_type.pk).exists():
        raise ValidationError(_("This permit does not need that inspection."))
    open_or_passed = application.inspections.filter(
        inspection_type=inspection_type,
        status__in=[
            InspectionStatus.REQUESTED,
            InspectionStatus.SCHEDULED,
            InspectionStatus.PASSED,
        ],
    )
    if open_or_passed.exists():
        raise ValidationError(_("That inspection is already requested or passed."))
    inspection = Inspection(
        application=application, inspection_type=inspection_type, preferred_dates=preferred_dates
    )
    audit_as(inspection, actor).save()
    INSPECTIONS.record(
        inspection,
        kind=EventKind.INSPECTION,
        actor=actor,
        text=said("inspection_requested", inspection=bilingual(inspection_type)),
    )
    return inspection


@INSPECTIONS.handler("schedule")
def inspection_schedule(*, inspection: Inspection, actor, when: date, inspector) -> Inspection:
    def schedule(locked: Inspection) -> None:
        locked.scheduled_for = when
        locked.inspector = inspector

    return INSPECTIONS.transition(
        inspection,
        "schedule",
        actor=actor,
        apply=schedule,
        text=said(
            "inspection_scheduled", inspection=bilingual(inspection.inspection_type), date=on(when)
        ),
        notify=lambda locked: _tell_applicant(
            locked.application, "inspection_scheduled", inspection=locked
        ),
    )


@INSPECTIONS.handler("record")
@transaction.atomic
def inspection_record(
    *, inspection: Inspection, actor, result: str, notes: str = "", corrections: str = ""
) -> Inspection:
    if result not in INSPECTION_RESULTS:
        raise ValidationError("Choose a result.")
    if result == InspectionStatus.FAILED and not corrections.strip():
        raise ValidationError("List the corrections needed.")

    def record(locked: Inspection) -> None:
        locked.notes = notes
        locked.corrections = corrections
        locked.completed_at = timezone.now()

    inspection = INSPECTIONS.transition(
        inspection,
        "record",
        actor=actor,
        target=result,
        apply=record,
        text=said(
            "inspection_result",
            inspection=bilingual(inspection.inspection_type),
            result=both(InspectionStatus(result).label),
        ),
        note=corrections[:2000],
        notify=lambda locked: _tell_applicant(
            locked.application, "inspection_result", inspection=locked
        ),
    )
    application = inspection.application
    required = set(application.permit_type.inspection_types.values_list("pk", flat=True))
    passed = set(
        application.inspections.filter(status=InspectionStatus.PASSED).values_list(
            "inspection_type_id", flat=True
        )
    )
    if required and required <= passed and application.status == Status.ISSUED:
        application_final(application=application, actor=None, text=said("inspections_passed"))
    return inspection


# --- Renewals (beat, daily) ---------------------------------------------------------------------


@transaction.atomic
def renewal_start(*, application: Application, actor) -> Application:
    """A renewal application pre-filled from the permit it renews (or the existing one)."""
    if not APPLICATIONS.is_owner(application, actor):
        raise TransitionNotAllowed("Only the holder can renew.")
    if not application.permit_type.renewable or application.status not in (
        Status.ISSUED,
        Status.EXPIRED,
    ):
        raise ValidationError(_("This permit cannot be renewed."))
    existing = application.renewals.exclude(status__in=[Status.WITHDRAWN, Status.DENIED]).first()
    if existing is not None:
        return existing
    return application_start(
        applicant=application.applicant, permit_type=application.permit_type, renews=application
    )


def renewals_due_reminders(*, today: date | None = None) -> int:
    """Remind holders at each configured offset before expiry; once per permit and offset.

    Only permits inside a reminder window, with no renewal under way and no reminder yet for
    that window, are read: a city's tens of thousands of issued permits are filtered in SQL,
    type by type."""
    today = today or timezone.localdate()
    sent = 0
    renewing = Application.objects.filter(renews=OuterRef("pk")).exclude(
        status__in=[Status.WITHDRAWN, Status.DENIED, Status.DRAFT]
    )
    for permit_type in PermitType.objects.filter(renewable=True):
        offsets = sorted({int(offset) for offset in permit_type.reminder_offsets or []})
        if not offsets:
            continue
        candidates = (
            Application.objects.filter(
                permit_type=permit_type,
                status=Status.ISSUED,
                expires_at__gte=today,
                expires_at__lte=today + timedelta(days=offsets[-1]),
            )
            .exclude(Exists(renewing))
            .select_related("permit_type", "applicant")
        )
        for application in candidates:
            days_left = (application.expires_at - today).days
            # Only the closest offset reached: after missed days, one reminder, not a burst.
            closest = min(offset for offset in offsets if days_left <= offset)
            with transaction.atomic():
                _reminder, created = RenewalReminder.objects.get_or_create(
                    application=application, days_before=closest
                )
                if created:
                    _tell_applicant(application, "renewal_reminder", days_left=days_left)
                    sent += 1
    return sent


def permits_expire(*, today: date | None = None) -> int:
    """Issued permits past expiry plus grace become expired, and the holder is told."""
    today = today or timezone.localdate()
    expired = 0
    for permit_type in PermitType.objects.all():
        due = Application.objects.filter(
            permit_type=permit_type,
            status=Status.ISSUED,
            expires_at__lt=today - timedelta(days=permit_type.grace_days),
        ).select_related("permit_type")
        for application in due.iterator(chunk_size=500):
            APPLICATIONS.transition(application, "expire", actor=None, notify=_tell_expired)
            expired += 1
    return expired


def _tell_expired(application: Application) -> None:
    # A permit already replaced by an issued renewal expires quietly.
    if not application.renewals.filter(status__in=[Status.ISSUED, Status.FINALED]).exists():
        _tell_applicant(application, "expired")


def renewals_auto_create(*, today: date | None = None) -> int:
    """For auto-renewal types, make the renewal application when the window opens."""
    today = today or timezone.localdate()
    created = 0
    for permit_type in PermitType.objects.filter(auto_renew=True, renewable=True):
        candidates = (
            Application.objects.filter(
                permit_type=permit_type,
                status=Status.ISSUED,
                expires_at__lte=today + timedelta(days=permit_type.renewal_window_days),
            )
            .exclude(Exists(Application.objects.filter(renews=OuterRef("pk"))))
            .select_related("permit_type", "applicant")
        )
        for application in candidates.iterator(chunk_size=500):
            with transaction.atomic():
                locked = Application.objects.select_for_update().get(pk=application.pk)
                if locked.renewals.exists():
                    continue
                renewal = application_start(
                    applicant=locked.applicant, permit_type=locked.permit_type, renews=locked
                )
                _tell_applicant(renewal, "renewal_ready")
                created += 1
    return created


# --- A resident deletes their account --------------------------------------------------------------


@transaction.atomic
def person_forget(*, user) -> dict[str, int]:
    """ "Delete my account": drafts (never sent to the city) are deleted with their files;
    submitted applications are city records the law keeps, so they stay, with the applicant's
    name as the permit's, and lose the phone number."""
    drafts = Application.objects.filter(applicant=user, status=Status.DRAFT)
    deleted = 0
    for draft in drafts.prefetch_related("documents"):
        # The files go once the account's deletion commits, never before.
        delete_files_on_commit(document.file for document in draft.documents.all())
        draft.delete()
        deleted += 1
    kept = Application.objects.filter(applicant=user).exclude(status=Status.DRAFT)
    kept.update(applicant_phone="")
    return {"drafts deleted": deleted, "applications kept": kept.count()}
