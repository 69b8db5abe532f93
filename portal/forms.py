from django import forms
from django.utils.translation import gettext_lazy as _

from cityhall.constants import Language
from cityhall.models import User
from cityhall.phones import display_phone, normalize_sms_phone


class ProfileForm(forms.ModelForm):
    preferred_language = forms.ChoiceField(
        label=_("Which language should we use with you?"),
        choices=Language.choices,
        widget=forms.RadioSelect,
        help_text=_("We use it on this website, in emails and in text messages."),
    )

    class Meta:
        model = User
        fields = [
            "first_name",
            "last_name",
            "phone",
            "home_address",
            "neighborhood",
            "preferred_language",
            "notify_by_email",
            "notify_by_sms",
        ]
        labels = {
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "phone": _("Mobile phone number"),
            "home_address": _("Home address"),
            "neighborhood": _("Neighborhood"),
            "notify_by_email": _("Send me updates by email"),
            "notify_by_sms": _("Send me updates by text message"),
        }
        help_texts = {
            "phone": _("For text message updates. For example: (555) 010-4400."),
            "home_address": _("Street address in the city. For example: 120 Oak Street."),
            "neighborhood": _("Used for alerts about your area."),
            "notify_by_sms": _("Message and data rates may apply. Reply STOP to stop."),
        }
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "home_address": forms.TextInput(attrs={"autocomplete": "street-address"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["neighborhood"].empty_label = _("I don't know / not in the city")
        if not self.is_bound and self.instance.phone:
            self.initial["phone"] = display_phone(self.instance.phone)

    def clean_phone(self):
        return normalize_sms_phone(self.cleaned_data.get("phone", ""))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("notify_by_sms") and not cleaned.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("Enter a mobile number to get text messages."))
        return cleaned


class PhoneCodeForm(forms.Form):
    code = forms.CharField(
        label=_("The 6-digit code we texted you"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class ResendConfirmationForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Enter the email address you signed up with."),
            "invalid": _("Enter an email address like name@example.com."),
        },
    )


class ConfirmPasswordForm(forms.Form):
    """Asks the person's password again before something that reveals or removes their data."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password. Try again."))
        return password


class DeleteAccountForm(ConfirmPasswordForm):
    understood = forms.BooleanField(
        label=_("I understand that my account and the data listed above are deleted for good."),
        error_messages={"required": _("Tick the box to confirm that you understand.")},
    )
