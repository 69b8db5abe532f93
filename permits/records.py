"""Permit and licence records under the retention schedule (cityhall.records), and what a
public-records export holds about them."""

from __future__ import annotations

from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cityhall.models import anonymised_person
from cityhall.payments.services import forget_references
from cityhall.records import registry
from cityhall.records.builtin import personal_history_fields
from cityhall.records.redact import redact_text

from .constants import Status
from .models import Application, Document, InfoRequest, PermitType, TimelineEvent

STATUS_GROUPS = {
    "draft": (_("Drafts never sent to the city"), [Status.DRAFT]),
    "refused": (_("Denied or withdrawn"), [Status.DENIED, Status.WITHDRAWN]),
    "ended": (
        _("Ended: finaled, expired or revoked"),
        [Status.FINALED, Status.EXPIRED, Status.REVOKED],
    ),
}
CLOSED = STATUS_GROUPS["refused"][1] + STATUS_GROUPS["ended"][1]


def _type_kinds() -> list[registry.Group]:
    return [
        registry.Group(code, f"{code}: {name}")
        for code, name in PermitType.objects.order_by("code").values_list("code", "name_en")
    ]


def _held(holds: registry.Holds, prefix: str = "") -> Q:
    query = Q(**{f"{prefix}number__in": holds.refs("permits.application")})
    if holds.addresses:
        query |= registry.address_q(f"{prefix}address", holds.addresses)
    if holds.user_ids:
        query |= Q(**{f"{prefix}applicant_id__in": holds.user_ids})
    return query


class Applications(registry.RecordType):
    key = "permits.application"
    label = _("Permit and licence applications")
    model = Application
    actions = (registry.DELETE, registry.ANONYMISE)
    counted_from = _("after its last change")
    feeds_kpis = True
    reference_label = _("permit number")

    def statuses(self):
        return [registry.Group(value, label) for value, (label, _s) in STATUS_GROUPS.items()]

    def kinds(self):
        return _type_kinds()

    def expired(self, *, status, kinds, before, action):
        statuses = (
            STATUS_GROUPS[status][1]
            if status
            else [s for g in STATUS_GROUPS.values() for s in g[1]]
        )
        rows = Application.objects.filter(status__in=statuses, updated_at__lt=before)
        if kinds is not None:
            rows = rows.filter(permit_type__code__in=kinds)
        # Anonymised ones are done (a delete rule anonymises what it may not delete, once).
        return rows.exclude(applicant=anonymised_person())

    def held(self, holds):
        return _held(holds)

    def of_person(self, user):
        return Q(applicant=user)

    def find(self, reference):
        return Application.objects.filter(number__iexact=reference).first()

    def dispose(self, rows, action):
        counts = {}
        if action == registry.DELETE:
            # Drafts and refused applications go with their files. One with a ledger or a
            # renewal is a financial or a chain record: it is anonymised instead.
            kept = rows.filter(Q(payments__isnull=False) | Q(renewals__isnull=False)).distinct()
            keep_pks = list(kept.values_list("pk", flat=True))
            doomed = rows.exclude(pk__in=keep_pks)
            registry.delete_files_on_commit(
                document.file for document in Document.objects.filter(application__in=doomed)
            )
            doomed_pks = list(doomed.values_list("pk", flat=True))
            numbers = [n for n in doomed.values_list("number", flat=True) if n]
            counts["deleted"] = len(doomed_pks)
            doomed.delete()
            # Nothing of a deleted application stays: its history rows, its card attempts'
            # payer details.
            Application.history.filter(id__in=doomed_pks).delete()
            forget_references("permit", numbers)
            rows = Application.objects.filter(pk__in=keep_pks)
        counts["anonymised"] = anonymise(rows)
        return counts


def anonymise(rows) -> int:
    """The application stays (its type, address, dates, fees and decisions are the city's
    record); who applied and what they wrote go, in the history rows too."""
    person = anonymised_person()
    pks = list(rows.values_list("pk", flat=True))
    numbers = [n for n in rows.values_list("number", flat=True) if n]
    # What the applicant did on the record stops naming them: their timeline events lose their
    # author and their own words (a system phrase stays: it names no one), the history rows
    # they wrote lose their author; their answers to requests for information go, and the
    # documents' uploader and file names.
    by_applicant = TimelineEvent.objects.filter(
        application_id__in=pks, actor_id=F("application__applicant_id")
    )
    by_applicant.filter(phrase="").update(params={})
    by_applicant.update(text="", note="", actor=None)
    Application.history.filter(id__in=pks, history_user_id=F("applicant_id")).update(
        history_user_id=None
    )
    InfoRequest.objects.filter(application_id__in=pks).exclude(answer="").update(answer="")
    Document.objects.filter(application_id__in=pks).update(
        uploaded_by=person, original_name="document"
    )
    count = Application.objects.filter(pk__in=pks).update(
        applicant=person, applicant_name="", applicant_phone="", answers={}
    )
    Application.history.filter(id__in=pks).update(
        applicant_id=person.pk, applicant_name="", applicant_phone=""
    )
    forget_references("permit", numbers)
    return count


class Documents(registry.UploadedFiles):
    key = "permits.document"
    label = _("Application documents (plans, photos, certificates)")
    model = Document
    file_field = "file"
    counted_from = _("after the application's last change, once it is closed")

    def kinds(self):
        return _type_kinds()

    def expired(self, *, status, kinds, before, action):
        rows = Document.objects.filter(
            application__status__in=CLOSED, application__updated_at__lt=before
        )
        if kinds is not None:
            rows = rows.filter(application__permit_type__code__in=kinds)
        return rows

    def held(self, holds):
        return _held(holds, "application__")


def register() -> None:
    registry.register(Applications())
    registry.register(Documents())
    personal_history_fields("permits.application", applicant_name="", applicant_phone="")
    registry.public_records(public_records)


def public_records(*, address: str | None, reference: str | None):
    """Permits about an address (or one permit): what the city decided, without the people."""
    if reference:
        rows = Application.objects.filter(number__iexact=reference)
    else:
        rows = Application.objects.filter(registry.address_q("address", [address], exact=True))
    rows = (
        rows.exclude(status=Status.DRAFT)
        .select_related("permit_type")
        .prefetch_related("events", "documents", "inspections__inspection_type")
        .order_by("number")
    )
    records, withheld, documents = [], [], 0
    for application in rows:
        documents += len(application.documents.all())
        records.append(
            {
                "number": application.number,
                "type": application.permit_type.name_en,
                "status": application.get_status_display(),
                "address": application.address,
                "parcel_number": application.parcel_number,
                "description": redact_text(application.description),
                "valuation": str(application.valuation) if application.valuation else None,
                "contractor": application.contractor_name,
                "contractor_license": application.contractor_license,
                "business_name": application.business_name,
                "submitted": _day(application.submitted_at),
                "decided": _day(application.decided_at),
                "issued": _day(application.issued_at),
                "expires": application.expires_at.isoformat() if application.expires_at else None,
                "finaled": _day(application.finaled_at),
                "fees": str(application.fee_total),
                "conditions": redact_text(application.conditions),
                "decision_reason": redact_text(application.decision_reason),
                "inspections": [
                    {
                        "inspection": inspection.inspection_type.name_en,
                        "status": inspection.get_status_display(),
                        "completed": _day(inspection.completed_at),
                    }
                    for inspection in application.inspections.all()
                ],
                "timeline": [
                    {
                        "when": event.created_at.isoformat(),
                        "what": event.label,
                        "text": redact_text(event.words),
                    }
                    for event in application.events.all()
                    # (what the system recorded, never words a person wrote: they may name people)
                    if event.public and (event.phrase or not (event.text or event.note))
                ],
            }
        )
    if records:
        withheld.append(
            "Applicants' names, phone numbers, email addresses and answers: personal data "
            "of private persons (Gov. Code §7927.700)."
        )
        withheld.append("Staff-only notes: the deliberative process (Gov. Code §7927.500).")
        withheld.append(
            "Messages between the applicant and staff on the timeline: they name people; "
            "released after a person reviews them."
        )
    if documents:
        withheld.append(
            f"{documents} uploaded documents (plans, photos, certificates): released after a "
            "person reviews them for personal data and copyright, on request."
        )
    yield registry.Section("permits", "Permits and licences", records, withheld)


def _day(moment):
    return moment.date().isoformat() if moment else None
