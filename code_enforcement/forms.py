from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cityhall.constants import Language
from cityhall.forms import (
    ActionForm,
    LabelledFileInput,
    MoneyField,
    StaffChoiceField,
    assign_form,
    suggest,
)
from cityhall.phones import normalize_sms_phone

from .constants import MAX_DESCRIPTION, Datatype, Resolution, Severity
from .models import RequestPhoto, ServiceCategory, ServiceRequest, ViolationType


class CategoryForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("What is the problem?"),
        queryset=ServiceCategory.objects.filter(is_active=True),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": _("Choose the kind of problem.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = get_language()
        self.fields["category"].label_from_instance = lambda c: (
            f"{c.t('name', language)} — {c.t('description', language)}"
        )


class LocationForm(forms.Form):
    address = forms.CharField(
        label=_("Address or nearest address"),
        max_length=200,
        required=False,
        help_text=_("For example: 120 Oak Street. Or choose the place on the map."),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    latitude = forms.CharField(required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Not optional: the address or a point on the map is needed (the view checks which).
        self.fields["address"].one_of = True

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("address", "").strip() and not (
            cleaned.get("latitude") and cleaned.get("longitude")
        ):
            self.add_error("address", _("Enter an address, or choose the place on the map."))
        return cleaned


class DetailsForm(forms.Form):
    description = forms.CharField(
        label=_("Describe the problem"),
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": MAX_DESCRIPTION}),
        help_text=_("What, where exactly, and since when. Up to 4,000 characters."),
    )

    def clean_description(self):
        # The rule is the service's; the form only shows its answer beside the field.
        from .services import description_clean

        try:
            return description_clean(self.cleaned_data["description"])
        except forms.ValidationError as error:
            raise forms.ValidationError(error.message_dict["description"]) from None

    def __init__(self, *args, category: ServiceCategory, **kwargs):
        super().__init__(*args, **kwargs)
        language = get_language()
        self.attribute_fields = []
        for attribute in category.attributes.all():
            name = f"attr_{attribute.code}"
            label = attribute.t("description", language)
            choices = [
                (v["key"], v.get("es" if language.startswith("es") else "en", v["key"]))
                for v in attribute.values
            ]
            common = {"label": label, "required": attribute.required}
            if attribute.datatype == Datatype.NUMBER:
                field = forms.DecimalField(**common)
            elif attribute.datatype == Datatype.DATETIME:
                field = forms.DateTimeField(
                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), **common
                )
            elif attribute.datatype == Datatype.TEXT:
                field = forms.CharField(
                    widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, **common
                )
            elif attribute.datatype == Datatype.SINGLE:
                field = forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
            elif attribute.datatype == Datatype.MULTI:
                field = forms.MultipleChoiceField(
                    choices=choices, widget=forms.CheckboxSelectMultiple, **common
                )
            else:
                field = forms.CharField(max_length=200, **common)
            self.fields[name] = field
            self.attribute_fields.append((name, attribute.code))

    def attributes(self) -> dict:
        result = {}
        for name, code in self.attribute_fields:
            value = self.cleaned_data.get(name)
            if value in (None, "", []):
                continue
            result[code] = (
                value.isoformat()
                if hasattr(value, "isoformat")
                else (value if isinstance(value, list) else str(value))
            )
        return result


class PhotoForm(forms.Form):
    photo = forms.ImageField(
        label=_("Add a photo"),
        required=False,
        help_text=_(
            "JPEG or PNG, up to 8 MB, up to 5 photos. We remove the camera details before saving."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )
    use_photo_location = forms.BooleanField(
        label=_("Use the location saved in my photo"),
        required=False,
        help_text=_("Only if the photo was taken at the problem."),
    )


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        help_text=_("To get updates. We never show it to the public."),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=30,
        required=False,
        help_text=_("For text updates instead of email."),
    )

    def clean_phone(self):
        return normalize_sms_phone(self.cleaned_data.get("phone", ""))


class FollowCodeForm(forms.Form):
    code = forms.CharField(
        label=_("The 6-digit code we texted you"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class AddInfoForm(forms.Form):
    text = forms.CharField(
        label=_("Add information"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it not fixed?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- Console action forms (one per workflow move that takes input) ------------------------------


class AcknowledgeForm(ActionForm):
    note = forms.CharField(label="Note to the reporter (optional)", required=False, max_length=300)


class StartForm(ActionForm):
    note = forms.CharField(label="Note (optional)", required=False, max_length=300)


class CloseRequestForm(ActionForm):
    resolution = forms.ChoiceField(
        label="Resolution",
        choices=[(r.value, r.label) for r in Resolution if r != Resolution.DUPLICATE],
    )
    note = forms.CharField(label="Note to the reporter", required=False, max_length=300)

    def clean(self):
        cleaned = super().clean()
        # Closed without fixing it: the reporter is owed the reason.
        if (
            cleaned.get("resolution") not in (None, Resolution.RESOLVED)
            and not (cleaned.get("note") or "").strip()
        ):
            self.add_error(
                "note", "Say why it is closed without a fix (the reporter reads this note)."
            )
        return cleaned


class MergeForm(ActionForm):
    original = forms.CharField(label="Duplicate of request number", max_length=12)

    def clean_original(self):
        original = ServiceRequest.objects.filter(
            public_id=self.cleaned_data["original"].strip().upper()
        ).first()
        if original is None:
            raise forms.ValidationError("No request has that number.")
        return original


class PhotoVisibilityForm(ActionForm):
    photo = forms.IntegerField(widget=forms.HiddenInput)
    hidden = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_photo(self):
        photo = RequestPhoto.objects.filter(pk=self.cleaned_data["photo"], request=self.obj).first()
        if photo is None:
            raise forms.ValidationError("That photo is not part of this request.")
        return photo

    def clean_hidden(self):
        return self.data.get("hidden") in ("1", "true", "True", "on")


class PublishEventForm(ActionForm):
    event = forms.IntegerField(widget=forms.HiddenInput)

    def clean_event(self):
        from cityhall.constants import EventKind

        event = self.obj.events.filter(
            pk=self.cleaned_data["event"],
            public=False,
            kind__in=[EventKind.INFO_ADDED, EventKind.REOPENED, EventKind.FOLLOWER_INFO],
        ).first()
        if event is None:
            raise forms.ValidationError("That entry is not the reporter's unpublished text.")
        return event


class OpenCaseForm(ActionForm):
    """Opening a case from a report: the inspector (the least loaded one suggested) and, if a
    date is given, the first inspection, in the same step."""

    inspector = StaffChoiceField(work="code_case", label="Case inspector", required=False)
    date = forms.DateField(
        label="First inspection (YYYY-MM-DD)",
        required=False,
        help_text="Leave empty to schedule it later.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspector"].set_work("code_case")
        suggest(self.fields["inspector"], "code_case")
        self.fields["date"].initial = timezone.localdate()

    def clean_date(self):
        when = self.cleaned_data["date"]
        if when is not None and when < timezone.localdate():
            raise forms.ValidationError("The first inspection cannot be in the past.")
        return when

    def inputs(self) -> dict:
        return {
            "inspector": self.cleaned_data["inspector"],
            "first_inspection": self.cleaned_data["date"],
        }


class CaseScheduleForm(ActionForm):
    date = forms.DateField(
        label="Inspection date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )
    inspector = StaffChoiceField(work="code_case", label="Inspector", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate()
        self.fields["inspector"].set_work("code_case", keep=getattr(self.obj, "inspector_id", None))
        self.fields["inspector"].initial = getattr(self.obj, "inspector_id", None) or getattr(
            self.actor, "pk", None
        )

    def inputs(self) -> dict:
        return {"when": self.cleaned_data["date"], "inspector": self.cleaned_data["inspector"]}


class ViolationForm(ActionForm):
    violation_type = forms.ModelChoiceField(
        label="Violation", queryset=ViolationType.objects.all(), empty_label=None
    )
    severity = forms.ChoiceField(
        label="Severity", choices=Severity.choices, initial=Severity.MEDIUM
    )
    description = forms.CharField(
        label="What was found", widget=forms.Textarea(attrs={"rows": 2, "cols": 40})
    )
    description_es = forms.CharField(
        label="What was found, in Spanish (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        help_text="A notice in Spanish shows this; without it, the English, marked as written in "
        "English.",
    )
    photo = forms.FileField(
        label="Photo of it (optional)",
        required=False,
        widget=LabelledFileInput(attrs={"accept": "image/jpeg,image/png,image/heic,image/webp"}),
        help_text="Kept with the inspection, for staff only; JPEG or PNG up to 8 MB.",
    )


class NoViolationForm(ActionForm):
    notes = forms.CharField(label="Notes", required=False)


class NoticeForm(ActionForm):
    language = forms.ChoiceField(label="Notice language", choices=Language.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.obj is not None:
            self.fields["language"].initial = self.obj.owner_language


class ReinspectionForm(ActionForm):
    result = forms.ChoiceField(
        label="Reinspection result",
        choices=[("complied", "Corrected"), ("not_complied", "Not corrected: issue citation")],
    )
    fine = MoneyField(label="Fine if not corrected ($)", required=False)
    notes = forms.CharField(label="Notes", required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("result") == "not_complied" and not cleaned.get("fine"):
            self.add_error("fine", "Enter the fine for the citation.")
        return cleaned

    def inputs(self) -> dict:
        complied = self.cleaned_data["result"] == "complied"
        return {
            "complied": complied,
            "notes": self.cleaned_data["notes"],
            "fine": None if complied else self.cleaned_data["fine"],
        }


class CloseCaseForm(ActionForm):
    notes = forms.CharField(label="Closing note", required=False)


AssignRequestForm = assign_form("service_request", "assignee", "Assign to")
AssignCaseForm = assign_form("code_case", "inspector", "Assign to inspector")
