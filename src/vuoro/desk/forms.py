"""Input of the desk's pages, parsed into the values the ticket services and selectors take.

These forms check shape only (known choices, whole numbers); the rules about tickets stay in
``tickets.services``.
"""

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from vuoro.accounts.models import User
from vuoro.catalog.models import Category, FormField, Service
from vuoro.core.pagination import decode_cursor
from vuoro.tickets.models import Level, Priority, Status
from vuoro.tickets.selectors import QUEUES, SORTS, TicketFilters

QUEUE_LABELS = {
    "mine": _lazy("Mine"),
    "teams": _lazy("My teams"),
    "unassigned": _lazy("Unassigned"),
    "all": _lazy("All"),
}
SORT_LABELS = {
    "newest": _lazy("Newest"),
    "oldest": _lazy("Oldest"),
    "priority": _lazy("Priority"),
    "updated": _lazy("Recently updated"),
    "due": _lazy("Due soonest"),
}
STOPS_WORK_CHOICES = [("yes", _lazy("Yes")), ("partly", _lazy("Partly")), ("no", _lazy("No"))]
AFFECTED_CHOICES = [("me", _lazy("Only the requester")), ("team", _lazy("Their team")),
                    ("many", _lazy("Many people"))]


class QueueFilterForm(forms.Form):
    """The queue's GET parameters; an unknown value is an error, never silently dropped."""

    queue = forms.ChoiceField(choices=[(q, QUEUE_LABELS[q]) for q in QUEUES], required=False)
    status = forms.MultipleChoiceField(choices=Status.choices, required=False)
    priority = forms.MultipleChoiceField(choices=Priority.choices, required=False)
    service = forms.IntegerField(min_value=1, required=False)
    team = forms.IntegerField(min_value=1, required=False)
    assignee = forms.IntegerField(min_value=1, required=False)
    closed = forms.BooleanField(required=False)
    q = forms.CharField(max_length=200, required=False, strip=True)
    sort = forms.ChoiceField(choices=[(s, SORT_LABELS[s]) for s in SORTS], required=False)
    after = forms.CharField(max_length=2000, required=False)

    def clean_after(self) -> str | None:
        cursor = self.cleaned_data.get("after") or None
        try:
            decode_cursor(cursor)
        except ValueError:
            raise ValidationError(_("This page link is broken or has expired.")) from None
        return cursor

    def ticket_filters(self) -> TicketFilters:
        data = self.cleaned_data
        return TicketFilters(
            queue=data.get("queue") or "all",
            status=list(data.get("status") or []),
            priority=list(data.get("priority") or []),
            service_id=data.get("service"),
            team_id=data.get("team"),
            assignee_id=data.get("assignee"),
            text=data.get("q") or "",
            include_closed=bool(data.get("closed")),
        )

    @property
    def chosen_sort(self) -> str:
        return self.cleaned_data.get("sort") or "newest"

    @property
    def chosen_cursor(self) -> str | None:
        return self.cleaned_data.get("after")


def error_lines(errors: dict[str, list[str]]) -> list[str]:
    """Every message of a form's or service's errors, prefixed by the field it belongs to."""
    lines = []
    for field, messages in errors.items():
        for message in messages:
            lines.append(message if field == "__all__" else f"{field}: {message}")
    return lines


def pick_person(value: str, *, actor: User, allowed: Any) -> tuple[bool, User | None]:
    """An assignee from a picker value: "me", "none" (nobody) or an id among ``allowed``.

    Returns (valid, person); an id outside ``allowed`` is not valid.
    """
    value = (value or "").strip()
    if value == "me":
        return True, actor
    if value == "none":
        return True, None
    if not value.isdigit():
        return False, None
    person = allowed.filter(pk=int(value)).first()
    return person is not None, person


BULK_ACTIONS = ("assign", "status", "priority")


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in BULK_ACTIONS],
                               error_messages={"required": _lazy("Choose an action."),
                                               "invalid_choice": _lazy("Choose an action.")})
    status = forms.ChoiceField(choices=Status.choices, required=False)
    priority = forms.ChoiceField(choices=Priority.choices, required=False)
    assignee = forms.CharField(max_length=20, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        if action == "status" and not data.get("status"):
            self.add_error("status", _("Choose a status."))
        if action == "priority" and not data.get("priority"):
            self.add_error("priority", _("Choose a priority."))
        if action == "assign" and not data.get("assignee"):
            self.add_error("assignee", _("Choose whom to assign."))
        return data


def parse_ticket_change(post: QueryDict, *, actor: User, teams: Any, assignees: Any) -> dict[str, Any]:
    """The changes a side-panel form asks for; raises ValidationError per unknown value."""
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, allowed in (("status", Status.values), ("priority", Priority.values),
                          ("impact", Level.values), ("urgency", Level.values)):
        if name in post:
            value = post.get(name, "")
            if value not in allowed:
                errors[name] = [_("Choose one of the offered values.")]
            else:
                changes[name] = value
    if "team" in post:
        value = post.get("team", "")
        if value == "":
            changes["team"] = None
        elif value.isdigit() and (team := teams.filter(pk=int(value)).first()) is not None:
            changes["team"] = team
        else:
            errors["team"] = [_("Choose one of the offered teams.")]
    if "assignee" in post:
        valid, person = pick_person(post.get("assignee", ""), actor=actor, allowed=assignees)
        if valid:
            changes["assignee"] = person
        else:
            errors["assignee"] = [_("Choose one of the offered people.")]
    if errors:
        raise ValidationError(errors)
    if not changes:
        raise ValidationError({"__all__": [_("Nothing to change.")]})
    return changes


class NewTicketForm(forms.Form):
    """A request logged by the desk on a requester's behalf (a call, a walk-in)."""

    requester = forms.IntegerField(min_value=1, required=False)
    requester_email = forms.EmailField(required=False)
    service = forms.ModelChoiceField(
        queryset=Service.objects.filter(active=True), empty_label=None,
        error_messages={"required": _lazy("Choose a service."),
                        "invalid_choice": _lazy("Choose a service.")})
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(active=True), required=False,
        error_messages={"invalid_choice": _lazy("Choose a category of the chosen service.")})
    subject = forms.CharField(required=False, strip=True, max_length=1000)
    description = forms.CharField(required=False, widget=forms.Textarea)
    stops_work = forms.CharField(required=False, max_length=20)
    affected = forms.CharField(required=False, max_length=20)
    logged_call = forms.BooleanField(required=False)
    idempotency_key = forms.CharField(required=False, max_length=64)

    @staticmethod
    def fresh_key() -> str:
        return uuid.uuid4().hex


def answers_from_post(post: QueryDict, fields: list[FormField]) -> dict[str, str]:
    """Answers to a category's form from ``answer_<key>`` inputs; blank answers are left out."""
    answers = {}
    for field in fields:
        value = post.get(f"answer_{field.key}", "")
        if value.strip() != "":
            answers[field.key] = value
    return answers


def intake_errors_by_input(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Intake error keys renamed to the page's inputs (``form_answers.device`` → ``answer_device``)."""
    renamed = {}
    for key, messages in errors.items():
        if key.startswith("form_answers."):
            key = "answer_" + key.removeprefix("form_answers.")
        renamed[key] = list(messages)
    return renamed
