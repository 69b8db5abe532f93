from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cityhall.constants import EventKind  # noqa: F401  (timelines share one kind enum)


class Kind(models.TextChoices):
    PERMIT = "permit", _("Permit")
    LICENSE = "license", _("License")


class FeeKind(models.TextChoices):
    FLAT = "flat", _("Flat fee")
    PER_UNIT = "per_unit", _("Per unit")
    PER_VALUATION = "per_valuation", _("Per $1,000 of project value")


class QuestionKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    YES_NO = "yesno", _("Yes or no")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    INFO_REQUESTED = "info_requested", _("Information requested")
    APPROVED = "approved", _("Approved")
    ISSUED = "issued", _("Issued")
    FINALED = "finaled", _("Finaled")
    EXPIRED = "expired", pgettext_lazy("permit status", "Expired")
    DENIED = "denied", _("Denied")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REVOKED = "revoked", _("Revoked")


# --- BLDS (Building & Land Development Specification, permitdata.org) -----------------------------
# The vocabularies of the mapped fields; standards/blds/vocabularies.json keeps the published
# lists, and a test checks every exported value against them.


class BldsPermitType(models.TextChoices):
    BUILDING = "Building", "Building"
    DEMOLITION = "Demolition", "Demolition"
    ELECTRICAL = "Electrical", "Electrical"
    MECHANICAL = "Mechanical", "Mechanical"
    PLUMBING = "Plumbing", "Plumbing"
    ROOF = "Roof", "Roof"
    FENCE = "Fence", "Fence"
    GRADING = "Grading", "Grading"
    POOL_SPA = "Pool/Spa", "Pool/Spa"


class BldsPermitClass(models.TextChoices):
    RESIDENTIAL = "Residential", "Residential (single family, duplex)"
    NON_RESIDENTIAL = "Non-Residential", "Non-residential (commercial, industrial, institutional)"


class BldsWorkClass(models.TextChoices):
    NEW = "New", "New construction"
    EXISTING = "Existing", "Work on an existing building"


# StatusCurrentMapped: what our statuses mean in BLDS's six values. Approved but not yet issued
# (fees due) is still "In Review"; every ending that is not a final is "Permit Cancelled".
BLDS_STATUS = {
    Status.SUBMITTED: "Application Accepted",
    Status.IN_REVIEW: "In Review",
    Status.INFO_REQUESTED: "In Review",
    Status.APPROVED: "In Review",
    Status.ISSUED: "Permit Issued",
    Status.FINALED: "Permit Finaled",
    Status.EXPIRED: "Permit Cancelled",
    Status.DENIED: "Permit Cancelled",
    Status.WITHDRAWN: "Permit Cancelled",
    Status.REVOKED: "Permit Cancelled",
}
BLDS_INSPECTION_PHASE = "Inspection Phase"  # issued, with inspections requested or done

# ContractorTradeMapped follows the kind of permit.
BLDS_TRADE = {
    BldsPermitType.ELECTRICAL: "Electrical",
    BldsPermitType.MECHANICAL: "Mechanical",
    BldsPermitType.PLUMBING: "Plumbing",
}
BLDS_DEFAULT_TRADE = "General"

OPEN_STATUSES = {Status.SUBMITTED, Status.IN_REVIEW, Status.INFO_REQUESTED}


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CHECK = "check", _("Check")
    CARD = "card", _("Card")
    WAIVER = "waiver", _("Fee waiver")
    ONLINE = "online", _("Paid online")
    REFUND = "refund", _("Refund to card")


# Who may pay online: fees are due from submission until the permit ends.
PAYABLE_STATUSES = {
    Status.SUBMITTED,
    Status.IN_REVIEW,
    Status.INFO_REQUESTED,
    Status.APPROVED,
    Status.ISSUED,
    Status.FINALED,
}


class InspectionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    SCHEDULED = "scheduled", _("Scheduled")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed: corrections needed")
    PARTIAL = "partial", _("Partially approved")
    CANCELLED = "cancelled", _("Cancelled")


INSPECTION_RESULTS = {
    InspectionStatus.PASSED,
    InspectionStatus.FAILED,
    InspectionStatus.PARTIAL,
    InspectionStatus.CANCELLED,
}


MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ALLOWED_UPLOADS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
