from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cityhall.constants import Language
from cityhall.forms import ActionForm
from cityhall.models import Neighborhood
from cityhall.phones import normalize_sms_phone

from .models import Topic


class TopicChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Topic) -> str:
        return obj.name(get_language())


AREA_CHOICES = [
    ("city", _("Anywhere in the city")),
    ("neighborhoods", _("Only the neighborhoods I choose")),
]


class AreaMixin(forms.Form):
    """Topics and area, shared by the public and the resident's subscription forms."""

    topics = TopicChoiceField(
        label=_("Which alerts do you want?"),
        queryset=Topic.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one kind of alert.")},
    )
    area = forms.ChoiceField(
        label=_("Where?"), choices=AREA_CHOICES, widget=forms.RadioSelect, initial="city"
    )
    neighborhoods = forms.ModelMultipleChoiceField(
        label=_("Neighborhoods"),
        queryset=Neighborhood.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Only if you chose “only the neighborhoods I choose”."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("area") == "neighborhoods" and not cleaned.get("neighborhoods"):
            self.add_error(
                "neighborhoods",
                _("Choose at least one neighborhood, or choose anywhere in the city."),
            )
        return cleaned

    @property
    def citywide(self) -> bool:
        return self.cleaned_data["area"] == "city"


class SubscribeForm(AreaMixin):
    """For people without an account: one email address or one mobile number."""

    how = forms.ChoiceField(
        label=_("How should we reach you?"),
        choices=[("email", _("Email")), ("sms", _("Text message"))],
        widget=forms.RadioSelect,
        initial="email",
    )
    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("If you chose email."),
    )
    phone = forms.CharField(
        label=_("Mobile phone number"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        help_text=_("If you chose text message. For example: (408) 555-0142."),
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=Language.choices, widget=forms.RadioSelect
    )

    field_order = ["how", "email", "phone", "language", "topics", "area", "neighborhoods"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = (get_language() or "en")[:2]

    def clean_phone(self):
        return normalize_sms_phone(self.cleaned_data.get("phone", ""))

    def clean(self):
        cleaned = super().clean()
        how = cleaned.get("how")
        if how == "email" and not cleaned.get("email") and "email" not in self.errors:
            self.add_error("email", _("Enter your email address."))
        if how == "sms" and not cleaned.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("Enter your mobile phone number."))
        return cleaned


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("The 6 digits we texted you."),
    )


class MySubscriptionForm(AreaMixin):
    by_email = forms.BooleanField(label=_("Send alerts by email"), required=False)
    by_sms = forms.BooleanField(label=_("Send alerts by text message"), required=False)
    language = forms.ChoiceField(
        label=_("Language of the alerts"), choices=Language.choices, widget=forms.RadioSelect
    )

    field_order = ["topics", "area", "neighborhoods", "by_email", "by_sms", "language"]

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        if not user.phone:
            self.fields["by_sms"].help_text = _("Add a mobile phone number to your profile first.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("by_sms") and not self.user.phone:
            self.add_error(
                "by_sms", _("Add a mobile phone number to your profile to get text messages.")
            )
        if not cleaned.get("by_email") and not cleaned.get("by_sms"):
            self.add_error(
                None,
                _("Choose email, text message or both. To stop all alerts, untick every kind."),
            )
        return cleaned


# --- Console action forms -------------------------------------------------------------------------


class ScheduleForm(ActionForm):
    publish_at = forms.DateTimeField(
        label="Publish at (YYYY-MM-DD HH:MM, city time)",
        input_formats=["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"],
        error_messages={
            "required": "Enter the date and time to publish, like 2026-12-01 08:00.",
            "invalid": "Enter the date and time to publish, like 2026-12-01 08:00.",
        },
    )


class CancelForm(ActionForm):
    reason_en = forms.CharField(
        label="Why (English, sent to subscribers)", required=False, max_length=300
    )
    reason_es = forms.CharField(label="Why (Spanish)", required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.obj is not None and self.obj.status != "published":
            # Nothing was sent yet, so there is nobody to explain the cancellation to.
            for name in ("reason_en", "reason_es"):
                self.fields[name].widget = forms.HiddenInput()
