"""Portal forms. Business rules stay in the intake service; these forms collect raw input,
keep it for redisplay and place the service's errors next to the right field."""

import re
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from vuoro.catalog.models import Category, FieldKind, FormField
from vuoro.tickets.attachments import CheckedUpload, check_uploads
from vuoro.tickets.services import SUBJECT_MAX

STOPS_WORK_CHOICES = [
    ("yes", _("Yes, I cannot work")),
    ("partly", _("Partly, I can work around it")),
    ("no", _("No")),
]
AFFECTED_CHOICES = [
    ("me", _("Just me")),
    ("team", _("My team or several people")),
    ("many", _("Many people or the whole organisation")),
]
YES_NO_CHOICES = [("yes", _("Yes")), ("no", _("No"))]
ANSWER_PREFIX = "answer_"
SUBMISSION_KEY = re.compile(r"[0-9a-f]{32}")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files in one input; size and type are checked by the attachment rules."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[CheckedUpload]:
        uploads = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        try:
            return check_uploads(uploads)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get("attachments", exc.messages)) from None


def _required_attrs(required: bool, **attrs: Any) -> dict[str, Any]:
    return {**attrs, "required": True} if required else attrs


def answer_field(field: FormField) -> forms.Field:
    """A form field for one configured question; values stay raw for the intake to validate."""
    attrs = _required_attrs(field.required)
    kind = field.kind
    if kind == FieldKind.LONG_TEXT:
        widget: forms.Widget = forms.Textarea(attrs={**attrs, "rows": 4})
    elif kind == FieldKind.CHOICE:
        options = [("", _("Choose…"))] + field.choice_options()
        widget = forms.Select(attrs=attrs, choices=options)
    elif kind == FieldKind.NUMBER:
        bounds = {
            k: v for k, v in (("min", field.min_value), ("max", field.max_value)) if v is not None
        }
        widget = forms.NumberInput(attrs={**attrs, **bounds, "step": "any"})
    elif kind == FieldKind.DATE:
        widget = forms.DateInput(attrs={**attrs, "type": "date"})
    elif kind == FieldKind.YES_NO:
        widget = forms.RadioSelect(attrs=attrs, choices=YES_NO_CHOICES)
    else:
        widget = forms.TextInput(attrs={**attrs, "maxlength": field.max_length})
    return forms.CharField(
        label=field.label, help_text=field.help, required=False, widget=widget, strip=True
    )


class IntakeErrorsMixin:
    """Places a service's ValidationError on the matching fields, the rest above the form."""

    def field_for_error_key(self, key: str) -> str | None:
        if key.startswith("form_answers."):
            key = ANSWER_PREFIX + key.split(".", 1)[1]
        return key if key in self.fields else None  # type: ignore[attr-defined]

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)  # type: ignore[attr-defined]
            return
        for key, messages in exc.message_dict.items():
            name = self.field_for_error_key(key)
            if name is not None and name in self.errors and set(messages) <= set(self.errors[name]):  # type: ignore[attr-defined]
                continue
            self.add_error(name, messages)  # type: ignore[attr-defined]


class RequestForm(IntakeErrorsMixin, forms.Form):
    """A new request: contact details (when not signed in), the category's own questions,
    the two plain-words questions behind the priority, and attachments."""

    refused_status = 200  # 429 once portal.limits refused the request

    name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("Your email address"), max_length=254)
    subject = forms.CharField(
        label=_("Subject"),
        required=False,
        widget=forms.TextInput(attrs={"required": True, "maxlength": SUBJECT_MAX}),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        strip=True,
        help_text=_("What happened, what did you expect, and since when?"),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    stops_work = forms.CharField(
        label=_("Does this stop your work?"),
        required=False,
        widget=forms.RadioSelect(choices=STOPS_WORK_CHOICES, attrs={"required": True}),
    )
    affected = forms.CharField(
        label=_("How many people are affected?"),
        required=False,
        widget=forms.RadioSelect(choices=AFFECTED_CHOICES, attrs={"required": True}),
    )
    attachments = AttachmentsField(
        label=_("Attachments"),
        required=False,
        help_text=_("Screenshots or documents that help us. You can choose several files."),
    )
    submission = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, category: Category | None, ask_contact: bool, **kwargs: Any):
        kwargs.setdefault("initial", {}).setdefault("submission", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.category = category
        if not ask_contact:
            del self.fields["name"]
            del self.fields["email"]
        self.answer_names: list[str] = []
        for field in category.fields.all() if category is not None else []:
            name = ANSWER_PREFIX + field.key
            self.fields[name] = answer_field(field)
            self.answer_names.append(name)

    @property
    def contact_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("name", "email") if n in self.fields]

    @property
    def answer_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.answer_names]

    def _value(self, name: str) -> str:
        return str(self.cleaned_data.get(name) or "")

    def answers(self) -> dict[str, str]:
        """Answered questions only: an empty answer is no answer."""
        return {
            name[len(ANSWER_PREFIX) :]: self._value(name)
            for name in self.answer_names
            if self._value(name)
        }

    def intake(self) -> dict[str, Any]:
        """The fields the intake service takes, as typed."""
        return {
            "subject": self._value("subject"),
            "description": self._value("description"),
            "stops_work": self._value("stops_work"),
            "affected": self._value("affected"),
            "form_answers": self.answers(),
        }

    def uploads(self) -> list[CheckedUpload]:
        return list(self.cleaned_data.get("attachments") or [])

    def submission_key(self) -> str | None:
        """Makes a double-clicked submit one request; ignored unless it looks like ours."""
        value = self._value("submission")
        return f"portal:{value}" if SUBMISSION_KEY.fullmatch(value) else None


class ReplyForm(IntakeErrorsMixin, forms.Form):
    body = forms.CharField(
        label=_("Your reply"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = AttachmentsField(label=_("Attachments"), required=False)

    def uploads(self) -> list[CheckedUpload]:
        return list(self.cleaned_data.get("attachments") or [])
