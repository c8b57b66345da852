"""Plain words for what a requester sees: priority, status and history entries."""

from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vuoro.tickets.models import EventKind, Priority, Status, TicketEvent

register = template.Library()

PRIORITY_WORDS = {
    "P1": gettext_lazy("Critical: we start work on it right away."),
    "P2": gettext_lazy("High: we handle it before routine requests."),
    "P3": gettext_lazy("Normal: we handle it in the order it arrived."),
    "P4": gettext_lazy("Low: we handle it when more urgent work allows."),
    "P5": gettext_lazy("Planned: we schedule it with other planned work."),
}

NEXT_STEPS: dict[str, Any] = {
    Status.NEW: gettext_lazy(
        "The service desk will look at your request and may ask you for more details."
    ),
    Status.OPEN: gettext_lazy("The service desk is working on your request."),
    Status.WAITING: gettext_lazy("The service desk is waiting for your answer. Reply below."),
    Status.ON_HOLD: gettext_lazy("Work is paused for now; we will continue as soon as we can."),
    Status.RESOLVED: gettext_lazy(
        "We think this is solved. If it is not, reply below and we will reopen it."
    ),
    Status.CLOSED: gettext_lazy(
        "This request is closed. If you need more help, please make a new request."
    ),
}


@register.filter
def priority_words(code: str) -> str:
    return str(PRIORITY_WORDS.get(code, ""))


@register.filter
def next_steps(status: str) -> str:
    return str(NEXT_STEPS.get(status, ""))


def _status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else value


def _field_change_text(event: TicketEvent) -> str:
    if event.field == "status":
        return _("Status changed from %(old)s to %(new)s.") % {
            "old": _status_label(event.old_value),
            "new": _status_label(event.new_value),
        }
    if event.field == "priority" and event.new_value in Priority.values:
        return _("Priority changed to %(new)s.") % {"new": Priority(event.new_value).label}
    return _("Request details updated.")


@register.filter
def event_text(event: TicketEvent) -> str:
    """One history entry in the words a requester understands."""
    if event.kind == EventKind.CREATED:
        return _("Request received.")
    if event.kind == EventKind.ATTACHED:
        return _("Attachment added: %(name)s") % {"name": event.new_value}
    if event.kind == EventKind.REOPENED:
        return _("Request reopened.")
    if event.kind == EventKind.CHANGED:
        return _field_change_text(event)
    return str(EventKind(event.kind).label) if event.kind in EventKind.values else event.kind
