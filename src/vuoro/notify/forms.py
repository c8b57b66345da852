"""Forms of the contact-methods page: they parse input; the services decide what is valid."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from vuoro.accounts.models import User
from vuoro.notify.models import ContactKind
from vuoro.notify.selectors import contact_methods_for


class DescribedForm(forms.Form):
    """Inputs point at their help line and, once refused, at their errors (for screen readers)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{self[name].auto_id}-help"

    def add_error(self, field: str | None, error: object) -> None:
        super().add_error(field, error)  # type: ignore[arg-type]
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                described = {*attrs.get("aria-describedby", "").split(), f"{self[name].auto_id}-error"}
                attrs["aria-describedby"] = " ".join(sorted(described))


class ContactMethodForm(DescribedForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=ContactKind.choices)
    label = forms.CharField(label=_("Label"), max_length=80, required=False,
                            help_text=_("Optional, e.g. “Work phone”."))
    address = forms.CharField(
        label=_("Address"), max_length=500,
        help_text=_("Email address; phone number in international form (+358…); or the https "
                    "webhook URL of a Slack channel, a Teams workflow or your own system."))


class NotificationRuleForm(DescribedForm):
    contact_method = forms.ModelChoiceField(label=_("Contact method"), queryset=None)  # type: ignore[arg-type]
    delay_minutes = forms.IntegerField(
        label=_("Minutes after the page starts"), min_value=0, max_value=1440, initial=0,
        help_text=_("0 reaches you at once; e.g. 5 follows up five minutes later if nobody has acknowledged."))

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["contact_method"].queryset = contact_methods_for(user=user)  # type: ignore[attr-defined]


class EmailPreferenceForm(DescribedForm):
    about_my_tickets = forms.BooleanField(
        label=_("Email me about my tickets"), required=False,
        help_text=_("New tickets for your team, tickets assigned to you and requesters' messages."))


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's per-field errors next to the form's fields (others at the top)."""
    for field, messages in error.message_dict.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
