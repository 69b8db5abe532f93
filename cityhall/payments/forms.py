import uuid
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .registry import Due
from .services import check_amount

AMOUNT_ERRORS = {
    "nothing_due": _("Nothing is due."),
    "too_much": _("Enter an amount no more than the balance due."),
    "too_little": _("Enter at least $1.00."),
    "required": _("Enter the amount you want to pay."),
}


class PayForm(forms.Form):
    """What to pay: the whole balance, or a part of it. The balance comes from the ledger; the
    only number taken from the browser is a part the payer typed, checked against it."""

    how_much = forms.ChoiceField(
        label=_("How much do you want to pay?"),
        choices=[("all", _("The full balance")), ("part", _("Part of the balance"))],
        widget=forms.RadioSelect,
        initial="all",
    )
    part = forms.DecimalField(
        label=_("Amount to pay now, in dollars"),
        help_text=_("Only if you pay part of the balance."),
        required=False,
        max_digits=9,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("Email address for the receipt"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, due: Due, ask_email: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.due = due
        self.fields["how_much"].choices = [
            ("all", _("The full balance, %(amount)s") % {"amount": f"${due.balance:,.2f}"}),
            ("part", _("Part of the balance")),
        ]
        self.fields["part"].one_of = True  # needed with "part" only: no "(optional)"
        if not ask_email:
            del self.fields["email"]
        if not self.is_bound:
            self.initial["key"] = uuid.uuid4()

    def clean(self):
        data = super().clean()
        if data.get("how_much") == "part" and not self.has_error("part"):
            try:
                data["amount"] = check_amount(data.get("part"), self.due)
            except ValidationError as error:
                self.add_error("part", AMOUNT_ERRORS.get(error.code, error.messages[0]))
        elif data.get("how_much") == "all":
            data["amount"] = self.due.balance
        return data

    @property
    def amount(self) -> Decimal:
        return self.cleaned_data["amount"]


class FineLookupForm(forms.Form):
    notice = forms.CharField(
        label=_("Notice number"),
        help_text=_("It is on the notice or citation we sent, for example CE-2026-00031."),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    address = forms.CharField(
        label=_("Street address of the property"),
        help_text=_("Only the number and street, for example 120 Oak St."),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )


class DemoCardForm(forms.Form):
    card = forms.ChoiceField(
        label=_("Demo card"),
        choices=[
            ("succeeds", _("A demo card that is accepted")),
            ("declined", _("A demo card that is declined")),
            ("authentication", _("A demo card that asks the bank to confirm it is you")),
        ],
        widget=forms.RadioSelect,
        initial="succeeds",
    )


class RefundForm(forms.Form):
    amount = forms.DecimalField(label="Amount to refund ($)", max_digits=9, decimal_places=2)
    reason = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )
