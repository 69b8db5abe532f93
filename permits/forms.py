from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cityhall.forms import ActionForm, MoneyField, StaffChoiceField, assign_form, suggest
from cityhall.models import Neighborhood
from cityhall.phones import normalize_phone

from .constants import INSPECTION_RESULTS, InspectionStatus, PaymentMethod, QuestionKind, Status
from .models import Application, InspectionType
from .services import validate_upload


class ApplicantForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = [
            "applicant_name",
            "applicant_phone",
            "business_name",
            "address",
            "zip_code",
            "neighborhood",
        ]
        labels = {
            "applicant_name": _("Full name of the applicant"),
            "applicant_phone": _("Phone number"),
            "business_name": _("Business name"),
            "address": _("Address of the property or business"),
            "zip_code": _("ZIP code"),
            "neighborhood": _("Neighborhood"),
        }
        help_texts = {
            "business_name": _("Only for licenses and businesses."),
            "address": _("For example: 120 Oak Street."),
        }
        widgets = {
            "applicant_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "applicant_phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "address": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "zip_code": forms.TextInput(
                attrs={"autocomplete": "postal-code", "inputmode": "numeric"}
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["neighborhood"].queryset = Neighborhood.objects.all()
        self.fields["neighborhood"].empty_label = _("I don't know")
        # What the task list needs is asked for here too: checked on "Save and continue", with
        # the same words, so the section is never "saved" while still incomplete.
        for name, message in (
            ("applicant_name", _("Enter the applicant's name.")),
            ("address", _("Enter the property or business address.")),
        ):
            self.fields[name].required = True
            self.fields[name].error_messages["required"] = message

    def clean_applicant_phone(self):
        return normalize_phone(self.cleaned_data.get("applicant_phone", ""))

    def clean_zip_code(self):
        value = self.cleaned_data.get("zip_code", "").strip()
        if value and not (len(value) == 5 and value.isdigit()):
            raise forms.ValidationError(_("Enter a 5-digit ZIP code."))
        return value


# What building permits also ask for (published in the BLDS open data; all optional).
BUILDING_FIELDS = [
    "total_sq_ft",
    "housing_units",
    "parcel_number",
    "contractor_name",
    "contractor_license",
]


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = [
            "description",
            "valuation",
            "units",
            *BUILDING_FIELDS,
        ]
        labels = {
            "description": _("Describe the project or business"),
            "valuation": _("Project value in dollars"),
            "units": _("Number of units"),
            "total_sq_ft": _("Square feet of the work"),
            "housing_units": _("Homes or apartments in the building"),
            "parcel_number": _("Assessor's parcel number"),
            "contractor_name": _("Contractor's company name"),
            "contractor_license": _("Contractor's state license number"),
        }
        help_texts = {
            "valuation": _("What the work will cost, labor and materials."),
            "parcel_number": _("On your property tax bill, for example 012-345-067."),
            "contractor_name": _("Leave empty if you are doing the work yourself."),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        permit_type = self.instance.permit_type
        self.fields["description"].required = True
        self.fields["description"].error_messages["required"] = _(
            "Describe the project or business."
        )
        if not permit_type.needs_valuation:
            del self.fields["valuation"]
        else:
            self.fields["valuation"].required = True
            self.fields["valuation"].min_value = Decimal("1")
        if not permit_type.needs_units:
            del self.fields["units"]
        else:
            self.fields["units"].required = True
            unit = permit_type.t("unit")
            if unit:
                self.fields["units"].label = _("Number of %(unit)s") % {"unit": unit}
        if not permit_type.blds_type:
            for name in BUILDING_FIELDS:
                del self.fields[name]
        self.fields["description"].required = True


class QuestionsForm(forms.Form):
    """The type's own questions, built from its configuration."""

    def __init__(self, *args, application: Application, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(application.permit_type.questions.all())
        language = get_language()
        for question in self.questions:
            label = question.t("label", language)
            initial = application.answers.get(question.key)
            common = {"label": label, "required": question.required, "initial": initial}
            if question.kind == QuestionKind.NUMBER:
                field = forms.DecimalField(**common)
            elif question.kind == QuestionKind.DATE:
                field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
            elif question.kind == QuestionKind.CHOICE:
                choices = [
                    (c["value"], c["es"] if language.startswith("es") else c["en"])
                    for c in question.choices
                ]
                field = forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
            elif question.kind == QuestionKind.YES_NO:
                field = forms.ChoiceField(
                    choices=[("yes", _("Yes")), ("no", _("No"))], widget=forms.RadioSelect, **common
                )
            else:
                field = forms.CharField(max_length=500, **common)
            self.fields[question.key] = field

    def answers(self) -> dict:
        result = {}
        for key, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            result[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return result


class DocumentForm(forms.Form):
    """One upload slot of the documents page: the slot, not the resident, says which document
    the file is (a required document, or "other documents")."""

    file = forms.FileField(
        label=_("Choose a file"),
        help_text=_("PDF, JPEG or PNG, up to 10 MB."),
        error_messages={"required": _("Choose a file to upload.")},
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        validate_upload(uploaded)
        return uploaded


class DeclareForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I declare that the information in this application is true and complete."),
        error_messages={"required": _("Confirm the declaration to submit.")},
    )


class InfoAnswerForm(forms.Form):
    answer = forms.CharField(label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 4}))
    file = forms.FileField(
        label=_("Add a file"),  # the form marks it "(optional)"
        required=False,
        help_text=_("PDF, JPEG or PNG, up to 10 MB."),
    )

    def clean_file(self):
        uploaded = self.cleaned_data.get("file")
        if uploaded:
            validate_upload(uploaded)
        return uploaded


class InspectionRequestForm(forms.Form):
    inspection_type = forms.ModelChoiceField(
        label=_("Inspection"),
        queryset=InspectionType.objects.none(),
        empty_label=_("Choose an inspection"),
    )
    preferred_dates = forms.CharField(
        label=_("Which days work for you?"),
        max_length=200,
        help_text=_("For example: Tuesday or Wednesday morning."),
    )

    def __init__(self, *args, application: Application, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspection_type"].queryset = application.permit_type.inspection_types.all()
        self.fields["inspection_type"].label_from_instance = lambda kind: kind.t("name")


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Permit number or address"),
        max_length=100,
        required=False,
        help_text=_("For example: BLD-2026-000123 or Oak Street."),
    )


# --- Console action forms (one per workflow move that takes input) ------------------------------


def in_spanish(label: str) -> forms.CharField:
    """The Spanish of a text the applicant reads, if staff choose to write it."""
    return forms.CharField(
        label=f"{label} in Spanish (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        help_text="Applicants who read Spanish see this; without it they see the English, marked "
        "as written in English.",
    )


class RequestInfoForm(ActionForm):
    message = forms.CharField(
        label="What the applicant must provide",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        error_messages={"required": "Say what the applicant needs to provide."},
    )
    message_es = in_spanish("The same")


class ApproveForm(ActionForm):
    conditions = forms.CharField(
        label="Conditions of approval (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
    )
    conditions_es = in_spanish("Conditions")


class DenyForm(ActionForm):
    reason = forms.CharField(
        label="Reason for denial (the applicant sees it)",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        error_messages={"required": "Give the reason for the denial; the applicant sees it."},
    )
    reason_es = in_spanish("Reason")


class RevokeForm(ActionForm):
    reason = forms.CharField(
        label="Reason for revoking",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        error_messages={"required": "Give the reason for revoking; the holder sees it."},
    )


class MessageForm(ActionForm):
    text = forms.CharField(
        label="Message to the applicant",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        error_messages={"required": "Write the message."},
    )


class NoteForm(ActionForm):
    text = forms.CharField(
        label="Internal note (staff only)",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        error_messages={"required": "Write the note."},
    )


class AcceptForm(ActionForm):
    """Accepting an application hands it to a reviewer in the same step: the least loaded one is
    suggested."""

    reviewer = StaffChoiceField(work="permit_review", label="Review by", empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = getattr(self.obj, "assigned_reviewer_id", None)
        self.fields["reviewer"].set_work("permit_review", keep=current)
        suggest(self.fields["reviewer"], "permit_review", current)


class PaymentForm(ActionForm):
    amount = MoneyField(label="Amount")
    method = forms.ChoiceField(
        label="Method",
        choices=[(m.value, m.label) for m in PaymentMethod if m != PaymentMethod.WAIVER],
    )
    reference = forms.CharField(label="Receipt or check number", required=False, max_length=100)
    # Offered on an approved application: the payment at the counter is usually the last thing
    # before the permit is handed over.
    issue = forms.BooleanField(
        label="Issue the permit once this pays the balance", required=False, initial=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.obj is not None:
            self.fields["amount"].initial = self.obj.balance
        if self.obj is None or self.obj.status != Status.APPROVED:
            del self.fields["issue"]


class WaiverForm(ActionForm):
    amount = MoneyField(label="Amount to waive")
    reference = forms.CharField(label="Reason or approval reference", max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.obj is not None:
            self.fields["amount"].initial = self.obj.balance


class InspectionScheduleForm(ActionForm):
    date = forms.DateField(
        label="Date (YYYY-MM-DD)",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )
    inspector = StaffChoiceField(work="permit_inspection", label="Inspector", empty_label=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        obj = self.obj
        self.fields["date"].initial = obj.scheduled_for if obj is not None else None
        if obj is not None:
            self.fields["inspector"].set_work("permit_inspection", keep=obj.inspector_id)
            self.fields["inspector"].initial = obj.inspector_id or getattr(self.actor, "pk", None)

    def inputs(self) -> dict:
        return {"when": self.cleaned_data["date"], "inspector": self.cleaned_data["inspector"]}


class InspectionResultForm(ActionForm):
    result = forms.ChoiceField(
        label="Result",
        choices=[(s.value, s.label) for s in InspectionStatus if s in INSPECTION_RESULTS],
    )
    notes = forms.CharField(
        label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 40})
    )
    corrections = forms.CharField(
        label="Corrections needed (if failed)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
    )


AssignReviewerForm = assign_form("permit_review", "reviewer", "Assign to reviewer")
