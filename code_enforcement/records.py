"""Service requests, their photos and code cases under the retention schedule
(cityhall.records), and what a public-records export holds about them."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from cityhall.payments.services import forget_references
from cityhall.records import registry
from cityhall.records.builtin import personal_history_fields
from cityhall.records.redact import redact_text

from .constants import CaseStatus, RequestStatus
from .models import (
    CaseInspection,
    CodeCase,
    FinePayment,
    Follower,
    RequestEvent,
    RequestPhoto,
    ServiceCategory,
    ServiceRequest,
    Violation,
)


def _category_kinds() -> list[registry.Group]:
    return [
        registry.Group(code, name)
        for code, name in ServiceCategory.objects.order_by("name_en").values_list("code", "name_en")
    ]


def _request_held(holds: registry.Holds, prefix: str = "") -> Q:
    query = Q(**{f"{prefix}public_id__in": holds.refs("code_enforcement.servicerequest")})
    query |= Q(**{f"{prefix}case__number__in": holds.refs("code_enforcement.codecase")})
    if holds.addresses:
        query |= registry.address_q(f"{prefix}address", holds.addresses)
    if holds.user_ids:
        query |= Q(**{f"{prefix}reporter_id__in": holds.user_ids})
    if holds.emails:
        query |= registry.email_q(f"{prefix}contact_email", holds.emails)
    return query


def _has_contact() -> Q:
    followed = Exists(Follower.objects.filter(request=OuterRef("pk")))
    return (
        Q(reporter__isnull=False)
        | ~Q(contact_name="")
        | ~Q(contact_email="")
        | ~Q(contact_phone="")
        | ~Q(reporter_secret="")
        | Q(followed)
    )


class ServiceRequests(registry.RecordType):
    key = "code_enforcement.servicerequest"
    label = _("Service requests (reports of problems)")
    model = ServiceRequest
    actions = (registry.DELETE, registry.ANONYMISE)
    counted_from = _("after it closed")
    feeds_kpis = True
    reference_label = _("report number")

    def kinds(self):
        return _category_kinds()

    def expired(self, *, status, kinds, before, action):
        rows = ServiceRequest.objects.filter(status=RequestStatus.CLOSED, closed_at__lt=before)
        if kinds is not None:
            rows = rows.filter(category__code__in=kinds)
        if action == registry.ANONYMISE:
            rows = rows.filter(_has_contact())
        return rows

    def held(self, holds):
        return _request_held(holds)

    def of_person(self, user):
        return Q(reporter=user)

    def find(self, reference):
        return ServiceRequest.objects.filter(public_id__iexact=reference).first()

    def dispose(self, rows, action):
        if action == registry.DELETE:
            registry.delete_files_on_commit(
                photo.image for photo in RequestPhoto.objects.filter(request__in=rows)
            )
            pks = list(rows.values_list("pk", flat=True))
            rows.delete()
            ServiceRequest.history.filter(id__in=pks).delete()  # nothing of it stays
            return {"deleted": len(pks)}
        return {"anonymised": anonymise_requests(rows)}


def anonymise_requests(rows) -> int:
    """The report stays (what, where, when, how it was fixed); who sent it and how to reach
    them go, with the people following it, in the history rows too."""
    pks = list(rows.values_list("pk", flat=True))
    # The history rows the reporter wrote (sending the report) stop naming them as author;
    # the timeline events they or a follower made lose their author and their own words (a
    # system phrase stays: it names no one).
    ServiceRequest.history.filter(id__in=pks, history_user_id=F("reporter_id")).update(
        history_user_id=None
    )
    people = Q(actor_id=F("request__reporter_id")) | Q(
        actor_id__in=Follower.objects.filter(request_id__in=pks, user__isnull=False).values(
            "user_id"
        )
    )
    by_people = RequestEvent.objects.filter(request_id__in=pks).filter(people)
    by_people.filter(phrase="").update(params={})
    by_people.update(text="", note="", actor=None)
    Follower.objects.filter(request_id__in=pks).delete()
    # (the category's questions may hold personal answers; a media link may name its sender)
    count = ServiceRequest.objects.filter(pk__in=pks).update(
        reporter=None,
        contact_name="",
        contact_email="",
        contact_phone="",
        reporter_secret="",
        attributes={},
        media_url="",
    )
    ServiceRequest.history.filter(id__in=pks).update(
        reporter_id=None, contact_name="", contact_email="", contact_phone=""
    )
    return count


class Photos(registry.UploadedFiles):
    key = "code_enforcement.requestphoto"
    label = _("Photos sent with reports")
    model = RequestPhoto
    file_field = "image"
    counted_from = _("after the report closed")

    def kinds(self):
        return _category_kinds()

    def expired(self, *, status, kinds, before, action):
        rows = RequestPhoto.objects.filter(
            request__status=RequestStatus.CLOSED, request__closed_at__lt=before
        )
        if kinds is not None:
            rows = rows.filter(request__category__code__in=kinds)
        return rows

    def held(self, holds):
        return _request_held(holds, "request__")


def _case_held(holds: registry.Holds) -> Q:
    query = Q(number__in=holds.refs("code_enforcement.codecase"))
    if holds.addresses:
        query |= registry.address_q("address", holds.addresses)
    if holds.emails:
        query |= registry.email_q("owner_email", holds.emails)
    return query


class Cases(registry.RecordType):
    key = "code_enforcement.codecase"
    label = _("Code enforcement cases")
    model = CodeCase
    actions = (registry.DELETE, registry.ANONYMISE)
    counted_from = _("after it closed")
    feeds_kpis = True
    reference_label = _("case number")

    def expired(self, *, status, kinds, before, action):
        rows = CodeCase.objects.filter(status=CaseStatus.CLOSED, closed_at__lt=before)
        has_owner = ~Q(owner_name="") | ~Q(owner_mailing_address="") | ~Q(owner_email="")
        if action == registry.ANONYMISE:
            return rows.filter(has_owner)
        # A case with fines paid is anonymised instead of deleted, once.
        paid = Exists(FinePayment.objects.filter(case=OuterRef("pk")))
        return rows.exclude(Q(paid) & ~has_owner)

    def held(self, holds):
        return _case_held(holds)

    def find(self, reference):
        return CodeCase.objects.filter(number__iexact=reference).first()

    def dispose(self, rows, action):
        counts = {}
        if action == registry.DELETE:
            # A case with fines paid is a financial record: anonymised instead.
            keep_pks = list(rows.filter(fine_payments__isnull=False).values_list("pk", flat=True))
            doomed = rows.exclude(pk__in=keep_pks)
            registry.delete_files_on_commit(
                inspection.photo
                for inspection in CaseInspection.objects.filter(case__in=doomed).exclude(photo="")
            )
            doomed_pks = list(doomed.values_list("pk", flat=True))
            numbers = list(doomed.values_list("number", flat=True))
            counts["deleted"] = len(doomed_pks)
            doomed.delete()
            CodeCase.history.filter(id__in=doomed_pks).delete()
            CaseInspection.history.filter(case_id__in=doomed_pks).delete()
            Violation.history.filter(case_id__in=doomed_pks).delete()
            forget_references("fine", numbers)
            rows = CodeCase.objects.filter(pk__in=keep_pks)
        counts["anonymised"] = anonymise_cases(rows)
        return counts


def anonymise_cases(rows) -> int:
    pks = list(rows.values_list("pk", flat=True))
    numbers = list(rows.values_list("number", flat=True))
    blanks = {"owner_name": "", "owner_mailing_address": "", "owner_email": ""}
    count = CodeCase.objects.filter(pk__in=pks).update(**blanks)
    CodeCase.history.filter(id__in=pks).update(**blanks)
    forget_references("fine", numbers)
    return count


def register() -> None:
    registry.register(ServiceRequests())
    registry.register(Photos())
    registry.register(Cases())
    personal_history_fields(
        "code_enforcement.servicerequest", contact_name="", contact_email="", contact_phone=""
    )
    personal_history_fields(
        "code_enforcement.codecase", owner_name="", owner_mailing_address="", owner_email=""
    )
    registry.public_records(public_records)


COMPLAINANT = (
    "Who reported a problem (name, email, phone, account) and their photos: complainants "
    "in code enforcement are confidential (Evid. Code §1040, Gov. Code §7923.600)."
)


def public_records(*, address: str | None, reference: str | None):
    """Code cases and reports about an address (or one case or report), without complainants:
    the reporter's identity is never in an export, nor the photos they sent."""
    if reference:
        cases = CodeCase.objects.filter(number__iexact=reference)
        requests = ServiceRequest.objects.filter(
            Q(public_id__iexact=reference) | Q(case__number__iexact=reference)
        )
    else:
        cases = CodeCase.objects.filter(registry.address_q("address", [address], exact=True))
        requests = ServiceRequest.objects.filter(
            registry.address_q("address", [address], exact=True)
        )
    # Private categories stay out of public view everywhere else too.
    private = requests.filter(category__sensitive=True).count()
    requests = requests.filter(category__sensitive=False)
    case_records, photo_count = [], 0
    for case in cases.prefetch_related(
        "violations__violation_type", "notices", "inspections"
    ).order_by("number"):
        case_records.append(
            {
                "number": case.number,
                "status": case.get_status_display(),
                "address": case.address,
                "owner": case.owner_name,
                "opened": _day(case.opened_at),
                "comply_by": case.comply_by.isoformat() if case.comply_by else None,
                "fine": str(case.fine_amount) if case.fine_amount else None,
                "closed": _day(case.closed_at),
                "violations": [
                    {
                        "violation": violation.violation_type.title_en,
                        "corrected": _day(violation.corrected_at),
                    }
                    for violation in case.violations.all()
                ],
                "notices": [
                    {"issued": _day(notice.issued_at), "comply_by": notice.comply_by.isoformat()}
                    for notice in case.notices.all()
                ],
                "inspections": [
                    {
                        "scheduled": str(inspection.scheduled_for),
                        "completed": _day(inspection.completed_at),
                    }
                    for inspection in case.inspections.all()
                ],
            }
        )
    request_records = []
    for request in (
        requests.select_related("category", "case")
        .prefetch_related("events", "photos")
        .order_by("created_at")
    ):
        photo_count += len(request.photos.all())
        request_records.append(
            {
                "number": request.public_id,
                "category": request.category.name_en,
                "status": request.get_status_display(),
                "resolution": request.get_resolution_display() if request.resolution else "",
                "address": request.address,
                "received": _day(request.created_at),
                "closed": _day(request.closed_at),
                "case": request.case.number if request.case_id else None,
                "timeline": [
                    {
                        "when": event.created_at.isoformat(),
                        "what": event.label,
                        "text": redact_text(event.words),
                    }
                    for event in request.events.all()
                    # (what the system recorded, never words a person wrote: they may name people)
                    if event.public and (event.phrase or not (event.text or event.note))
                ],
            }
        )
    withheld = []
    if case_records:
        withheld.append(
            "The owner's mailing and email addresses, and the case file's staff notes "
            "(Gov. Code §7927.700, §7927.500)."
        )
    if request_records or case_records:
        withheld.append(COMPLAINANT)
    if request_records:
        withheld.append(
            "What reporters wrote (descriptions, added information) and messages written to "
            "them: they often identify who reported; released after a person reviews them."
        )
    if private:
        withheld.append(f"{private} reports in private categories (kept off every public list).")
    if photo_count:
        withheld.append(f"{photo_count} photos sent with reports (they may identify who reported).")
    yield registry.Section("code_cases", "Code enforcement cases", case_records, withheld)
    yield registry.Section("reports", "Reports of problems (service requests)", request_records, [])


def _day(moment):
    return moment.date().isoformat() if moment else None
