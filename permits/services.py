"""Writes for permits and licenses. Every status change goes through `_move`."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.services import notify
from cityhall.calendar import add_business_days
from cityhall.models import audit_as, system_user

from .constants import (
    ALLOWED_UPLOADS,
    INSPECTION_RESULTS,
    MAX_UPLOAD_BYTES,
    EventKind,
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
    NumberSequence,
    Payment,
    PermitType,
    RenewalReminder,
    TimelineEvent,
)
from .workflow import TransitionNotAllowed, check_transition

# --- Helpers ---------------------------------------------------------------------------------


def _move(application: Application, target: str, *, actor, text: str = "") -> Application:
    """Lock the row, check the table, set the status and record a public timeline event."""
    locked = Application.objects.select_for_update().get(pk=application.pk)
    check_transition(application=locked, target=target, actor=actor)
    locked.status = target
    TimelineEvent.objects.create(
        application=locked,
        kind=EventKind.STATUS,
        status=target,
        text=text,
        actor=actor,
        public=True,
    )
    return locked


def _tell_applicant(application: Application, event: str, **context) -> None:
    """Notify the applicant after commit, in their language, through the hub."""

    def send():
        notify(
            user=application.applicant,
            template="permit_notice",
            context={"event": event, "application": application, **context},
            link=application.get_absolute_url(),
        )

    transaction.on_commit(send)


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
    if application.applicant_id != actor.pk or application.status != Status.DRAFT:
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
    allowed = (
        application.status in (Status.DRAFT, Status.INFO_REQUESTED)
        and application.applicant_id == actor.pk
    )
    if not (allowed or (actor.is_staff and actor.has_perm("permits.review_application"))):
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
        TimelineEvent.objects.create(
            application=application, kind=EventKind.DOCUMENT, text=name, actor=actor, public=True
        )
    return document


@transaction.atomic
def document_remove(*, document: Document, actor) -> None:
    application = Application.objects.select_for_update().get(pk=document.application_id)
    _editable(application, actor)
    document.file.delete(save=False)
    document.delete()


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
    # The sequence row is locked until the submitting transaction commits: concurrent submits
    # of the same type queue here, so numbers are unique and gap-free (a rollback returns it).
    NumberSequence.objects.bulk_create(
        [NumberSequence(permit_type=permit_type, year=year)], ignore_conflicts=True
    )
    sequence = NumberSequence.objects.select_for_update().get(permit_type=permit_type, year=year)
    sequence.last += 1

    sequence.save(update_fields=["last"])
    return f"{permit_type.code}-{year}-{sequence.last:06d}"


@transaction.atomic
def application_submit(*, application: Application, actor) -> Application:
    missing = application_missing(application)
    if any(missing.values()):
        raise ValidationError([message for messages in missing.values() for message in messages])
    application = _move(application, Status.SUBMITTED, actor=actor)
    now = timezone.now()
    application.number = _next_number(application.permit_type, timezone.localtime(now).year)
    application.submitted_at = now
    application.fee_total = fee_for(application)
    application.due_at = add_business_days(
        timezone.localdate(now), application.permit_type.review_sla_days
    )
    audit_as(application, actor).save()
    _tell_applicant(application, "submitted")
    return application


@transaction.atomic
def application_withdraw(*, application: Application, actor) -> Application:
    application = _move(application, Status.WITHDRAWN, actor=actor)
    audit_as(application, actor).save()
    return application


@transaction.atomic
def info_answer(*, application: Application, actor, answer: str) -> Application:
    if not answer.strip():
        raise ValidationError({"answer": _("Write your answer.")})
    application = _move(application, Status.IN_REVIEW, actor=actor, text=answer)
    request = application.info_requests.filter(answered_at__isnull=True).last()
    if request is not None:
        request.answer = answer
        request.answered_at = timezone.now()
        request.save()
    audit_as(application, actor).save()
    return application


# --- Staff --------------------------------------------------------------------------------------


@transaction.atomic
def application_assign(*, application: Application, actor, reviewer) -> Application:
    if not actor.has_perm("permits.review_application"):
        raise TransitionNotAllowed("You do not have permission to assign applications.")
    application = Application.objects.select_for_update().get(pk=application.pk)
    application.assigned_reviewer = reviewer
    audit_as(application, actor).save(update_fields=["assigned_reviewer", "updated_at"])
    TimelineEvent.objects.create(
        application=application,
        kind=EventKind.NOTE,
        public=False,
        actor=actor,
        text=f"Assigned to {reviewer.display_name}" if reviewer else "Unassigned",
    )
    return application


@transaction.atomic
def application_accept(*, application: Application, actor) -> Application:
    application = _move(application, Status.IN_REVIEW, actor=actor)
    application.assigned_reviewer = application.assigned_reviewer or actor
    audit_as(application, actor).save()
    _tell_applicant(application, "in_review")
    return application


@transaction.atomic
def application_request_info(*, application: Application, actor, message: str) -> Application:
    if not message.strip():
        raise ValidationError({"message": "Say what the applicant needs to provide."})
    application = _move(application, Status.INFO_REQUESTED, actor=actor, text=message)
    InfoRequest.objects.create(application=application, message=message, requested_by=actor)
    audit_as(application, actor).save()
    _tell_applicant(application, "info_requested", message=message)
    return application


@transaction.atomic
def application_approve(*, application: Application, actor, conditions: str = "") -> Application:
    application = _move(application, Status.APPROVED, actor=actor, text=conditions)
    application.conditions = conditions
    application.decided_at = timezone.now()
    audit_as(application, actor).save()
    _tell_applicant(application, "approved", conditions=conditions)
    return application


@transaction.atomic
def application_deny(*, application: Application, actor, reason: str) -> Application:
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the denial; the applicant sees it."})
    application = _move(application, Status.DENIED, actor=actor, text=reason)
    application.decision_reason = reason
    application.decided_at = timezone.now()
    audit_as(application, actor).save()
    _tell_applicant(application, "denied", reason=reason)
    return application


@transaction.atomic
def application_issue(*, application: Application, actor) -> Application:
    application = _move(application, Status.ISSUED, actor=actor)
    if application.balance > 0:
        raise ValidationError(
            f"Fees of ${application.balance} are still due: record a payment or a waiver first."
        )
    application.issued_at = timezone.now()
    application.expires_at = timezone.localdate() + timedelta(
        days=application.permit_type.validity_days
    )
    audit_as(application, actor).save()
    _tell_applicant(application, "issued")
    return application


@transaction.atomic
def application_final(*, application: Application, actor, text: str = "") -> Application:
    """Final a permit (all work complete). Passing the last inspection does this by itself."""
    application = _move(application, Status.FINALED, actor=actor, text=text)
    application.finaled_at = timezone.now()
    audit_as(application, actor).save()
    _tell_applicant(application, "finaled")
    return application


@transaction.atomic
def application_revoke(*, application: Application, actor, reason: str) -> Application:
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for revoking; the holder sees it."})
    application = _move(application, Status.REVOKED, actor=actor, text=reason)
    application.decision_reason = reason
    audit_as(application, actor).save()
    _tell_applicant(application, "revoked", reason=reason)
    return application


@transaction.atomic
def application_note(*, application: Application, actor, text: str, public: bool) -> TimelineEvent:
    """A message to the applicant (public) or an internal note only staff see."""
    if not text.strip():
        raise ValidationError("Write the message.")
    if not actor.is_staff:
        raise TransitionNotAllowed("Only staff write notes.")
    event = TimelineEvent.objects.create(
        application=application,
        kind=EventKind.MESSAGE if public else EventKind.NOTE,
        public=public,
        text=text,
        actor=actor,
    )
    if public:
        _tell_applicant(application, "message", message=text)
    return event


@transaction.atomic
def payment_record(
    *, application: Application, actor, amount: Decimal, method: str, reference: str = ""
) -> Payment:
    application = Application.objects.select_for_update().get(pk=application.pk)
    needed = "permits.waive_fee" if method == PaymentMethod.WAIVER else "permits.issue_permit"
    if not actor.has_perm(needed):
        raise TransitionNotAllowed("You do not have permission to record this.")
    if amount <= 0:
        raise ValidationError("The amount must be more than zero.")
    if amount > application.balance:
        raise ValidationError(f"The balance due is ${application.balance}.")
    payment = Payment(
        application=application,
        amount=amount,
        method=method,
        reference=reference,
        recorded_by=actor,
    )
    audit_as(payment, actor).save()
    TimelineEvent.objects.create(
        application=application,
        kind=EventKind.PAYMENT,
        public=True,
        actor=actor,
        text=f"{payment.get_method_display()}: ${amount}",
    )
    return payment


# --- Inspections --------------------------------------------------------------------------------


@transaction.atomic
def inspection_request(
    *, application: Application, actor, inspection_type, preferred_dates: str
) -> Inspection:
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.applicant_id != actor.pk and not actor.has_perm("permits.inspect"):
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
    TimelineEvent.objects.create(
        application=application,
        kind=EventKind.INSPECTION,
        public=True,
        actor=actor,
        text=f"Inspection requested: {inspection_type.name_en}",
    )
    return inspection


@transaction.atomic
def inspection_schedule(*, inspection: Inspection, actor, when: date, inspector) -> Inspection:
    if not actor.has_perm("permits.inspect"):
        raise TransitionNotAllowed("You do not have permission to schedule inspections.")
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    if inspection.status not in (InspectionStatus.REQUESTED, InspectionStatus.SCHEDULED):
        raise ValidationError("Only requested inspections can be scheduled.")
    inspection.status = InspectionStatus.SCHEDULED
    inspection.scheduled_for = when
    inspection.inspector = inspector
    audit_as(inspection, actor).save()
    TimelineEvent.objects.create(
        application=inspection.application,
        kind=EventKind.INSPECTION,
        public=True,
        actor=actor,
        text=f"Inspection scheduled: {inspection.inspection_type.name_en} on {when:%Y-%m-%d}",
    )
    _tell_applicant(inspection.application, "inspection_scheduled", inspection=inspection)
    return inspection


@transaction.atomic
def inspection_record(
    *, inspection: Inspection, actor, result: str, notes: str = "", corrections: str = ""
) -> Inspection:
    if not actor.has_perm("permits.inspect"):
        raise TransitionNotAllowed("You do not have permission to record inspections.")
    if result not in INSPECTION_RESULTS:
        raise ValidationError("Choose a result.")
    if result == InspectionStatus.FAILED and not corrections.strip():
        raise ValidationError("List the corrections needed.")
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    if inspection.status != InspectionStatus.SCHEDULED:
        raise ValidationError("Only scheduled inspections get a result.")
    inspection.status = result
    inspection.notes = notes
    inspection.corrections = corrections
    inspection.completed_at = timezone.now()
    audit_as(inspection, actor).save()
    application = inspection.application
    TimelineEvent.objects.create(
        application=application,
        kind=EventKind.INSPECTION,
        public=True,
        actor=actor,
        text=f"{inspection.inspection_type}: {inspection.get_status_display()}. {corrections}"[
            :2000
        ],
    )
    _tell_applicant(application, "inspection_result", inspection=inspection)
    required = set(application.permit_type.inspection_types.values_list("pk", flat=True))
    passed = set(
        application.inspections.filter(status=InspectionStatus.PASSED).values_list(
            "inspection_type_id", flat=True
        )
    )
    if required and required <= passed and application.status == Status.ISSUED:
        application_final(
            application=application, actor=None, text="All required inspections passed."
        )
    return inspection


# --- Renewals (beat, daily) ---------------------------------------------------------------------


@transaction.atomic
def renewal_start(*, application: Application, actor) -> Application:
    """A renewal application pre-filled from the permit it renews (or the existing one)."""
    if application.applicant_id != actor.pk:
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
    """Remind holders at each configured offset before expiry; once per permit and offset."""
    today = today or timezone.localdate()
    sent = 0
    candidates = Application.objects.filter(
        status=Status.ISSUED, permit_type__renewable=True, expires_at__gte=today
    ).select_related("permit_type", "applicant")
    for application in candidates:
        days_left = (application.expires_at - today).days
        reached = [
            offset
            for offset in application.permit_type.reminder_offsets or []
            if days_left <= offset
        ]
        if not reached:
            continue
        renewing = application.renewals.exclude(
            status__in=[Status.WITHDRAWN, Status.DENIED, Status.DRAFT]
        )
        if renewing.exists():
            continue
        # Only the closest offset reached: after missed days, one reminder rather than a burst.
        with transaction.atomic():
            _reminder, created = RenewalReminder.objects.get_or_create(
                application=application, days_before=min(reached)
            )
            if created:
                _tell_applicant(application, "renewal_reminder", days_left=days_left)
                sent += 1
    return sent


def permits_expire(*, today: date | None = None) -> int:
    """Issued permits past expiry plus grace become expired, and the holder is told."""
    today = today or timezone.localdate()
    expired = 0
    for application in Application.objects.filter(
        status=Status.ISSUED, expires_at__lt=today
    ).select_related("permit_type"):
        if application.expires_at + timedelta(days=application.permit_type.grace_days) >= today:
            continue
        with transaction.atomic():
            moved = _move(application, Status.EXPIRED, actor=None)
            audit_as(moved, system_user()).save()
            # A permit already replaced by an issued renewal expires quietly.
            if not moved.renewals.filter(status__in=[Status.ISSUED, Status.FINALED]).exists():
                _tell_applicant(moved, "expired")
        expired += 1
    return expired


def renewals_auto_create(*, today: date | None = None) -> int:
    """For auto-renewal types, make the renewal application when the window opens."""
    today = today or timezone.localdate()
    created = 0
    candidates = Application.objects.filter(
        status=Status.ISSUED, permit_type__auto_renew=True, permit_type__renewable=True
    ).select_related("permit_type", "applicant")
    for application in candidates:
        if (
            application.expires_at - timedelta(days=application.permit_type.renewal_window_days)
            > today
        ):
            continue
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
