from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import registry
from .models import HoldKind, LegalHold, RetentionRule


def _grouped(attribute: str) -> list:
    choices: list = [("", _("Any"))]
    for record_type in registry.RECORD_TYPES.values():
        groups = getattr(record_type, attribute)()
        if groups:
            choices.append(
                (str(record_type.label), [(group.value, str(group.label)) for group in groups])
            )
    return choices


class RetentionRuleForm(forms.ModelForm):
    record_type = forms.ChoiceField(label=_("Record type"))
    status = forms.ChoiceField(
        label=_("Only in status"),
        required=False,
        help_text=_("Leave “Any” for a rule for every status; a rule for one status wins."),
    )
    kind = forms.ChoiceField(
        label=_("Only of kind"),
        required=False,
        help_text=_("A permit type or a report category; a rule for one kind wins over “Any”."),
    )

    class Meta:
        model = RetentionRule
        fields = ["record_type", "status", "kind", "period", "unit", "action", "reason"]
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # (a reader without the change permission gets the fields read-only: absent here)
        if "record_type" in self.fields:
            self.fields["record_type"].choices = [("", "—")] + [
                (key, str(label)) for key, label in registry.choices()
            ]
        if "status" in self.fields:
            self.fields["status"].choices = _grouped("statuses")
        if "kind" in self.fields:
            self.fields["kind"].choices = _grouped("kinds")
        if "period" in self.fields:
            self.fields["period"].help_text = _("Ignored when the records are kept permanently.")


class LegalHoldForm(forms.ModelForm):
    class Meta:
        model = LegalHold
        fields = ["kind", "record_type", "reference", "address", "person_email", "reason"]
        widgets = {
            "kind": forms.RadioSelect,
            "reason": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "reference": _("For a hold on one record: the permit, report or case number."),
            "address": _("For a hold on an address: every record about it, however written."),
            "person_email": _("For a hold on a person: their records and their account."),
            "reason": _("The case, audit or request that needs the records kept."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:  # three choices, no "select an option" among them
            self.fields["kind"].choices = HoldKind.choices
        self.fields["record_type"] = forms.ChoiceField(
            label=_("Record type"),
            required=False,
            choices=[("", "—")]
            + [
                (key, str(record_type.label))
                for key, record_type in registry.RECORD_TYPES.items()
                if record_type.reference_label
            ],
        )

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == HoldKind.RECORD:
            record_type = registry.RECORD_TYPES.get(data.get("record_type") or "")
            reference = (data.get("reference") or "").strip().upper()
            if record_type is None:
                self.add_error("record_type", _("Choose the type of record."))
            elif not reference:
                self.add_error("reference", _("Enter the record's number."))
            elif record_type.find(reference) is None:
                self.add_error(
                    "reference",
                    _("No %(type)s has the number %(number)s.")
                    % {"type": record_type.reference_label, "number": reference},
                )
            data["reference"] = reference
        elif kind == HoldKind.ADDRESS and not (data.get("address") or "").strip():
            self.add_error("address", _("Enter the address."))
        elif kind == HoldKind.PERSON and not data.get("person_email"):
            self.add_error("person_email", _("Enter the person's email address."))
        # Only what the kind needs is kept.
        if kind != HoldKind.RECORD:
            data["record_type"], data["reference"] = "", ""
        if kind != HoldKind.ADDRESS:
            data["address"] = ""
        if kind != HoldKind.PERSON:
            data["person_email"] = ""
        return data


class ReleaseForm(forms.Form):
    release_reason = forms.CharField(
        label=_("Why it is released"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
