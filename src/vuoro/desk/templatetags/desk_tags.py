"""Template pieces of the desk: history sentences, errors per input and SLA time left."""

from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from vuoro.desk.sla import duration_text, urgency_class
from vuoro.tickets.models import EventKind, Level, Priority, Status, TicketEvent

register = template.Library()

FIELD_LABELS = {
    "status": _lazy("status"),
    "priority": _lazy("priority"),
    "impact": _lazy("impact"),
    "urgency": _lazy("urgency"),
    "team": _lazy("team"),
    "assignee": _lazy("assignee"),
    "attachment": _lazy("attachment"),
}
VALUE_LABELS: dict[str, dict[str, Any]] = {
    "status": dict(Status.choices),
    "priority": dict(Priority.choices),
    "impact": dict(Level.choices),
    "urgency": dict(Level.choices),
}


@register.filter
def errors_for(errors: dict[str, list[str]] | None, key: str) -> list[str]:
    return list((errors or {}).get(key, []))


def _shown(field: str, value: str) -> str:
    if not value:
        return "—"
    return str(VALUE_LABELS.get(field, {}).get(value, value))


OUT_OF_HOURS_KINDS = frozenset({EventKind.CAUGHT, EventKind.DISPATCHED, EventKind.CALL_LOGGED, EventKind.PAGE})


def _out_of_hours_sentence(event: TicketEvent, who: str) -> str:
    """The partner's and the pager's history rows in words."""
    values = {"who": who, "target": event.new_value}
    if event.kind == EventKind.CAUGHT:
        return _("%(who)s caught the ticket") % values
    if event.kind == EventKind.DISPATCHED:
        if event.field == "on_call":
            return _("%(who)s dispatched the ticket to on-call: %(target)s") % values
        return _("%(who)s dispatched the ticket to %(target)s") % values
    if event.kind == EventKind.CALL_LOGGED:
        from vuoro.partner.services import CALL_OUTCOMES  # the partner app knows its outcomes

        values["target"] = str(dict(CALL_OUTCOMES).get(event.new_value, event.new_value))
        return _("%(who)s logged a call: %(target)s") % values
    if event.new_value == "acknowledged":
        return _("%(who)s acknowledged the page") % values
    if event.new_value == "resolved":
        return _("%(who)s resolved the page") % values
    return _("%(who)s paged on-call") % values


@register.simple_tag
def event_sentence(event: TicketEvent) -> SafeString:
    """One history row in words: who changed what from which value to which, and when."""
    who = event.actor.display_name() if event.actor_id and event.actor else _("Vuoro")
    when = date_format(localtime(event.created_at), "SHORT_DATETIME_FORMAT")
    if event.kind == EventKind.CREATED:
        text = _("%(who)s created the ticket") % {"who": who}
    elif event.kind == EventKind.ATTACHED:
        text = _("%(who)s attached %(name)s") % {"who": who, "name": event.new_value}
    elif event.kind in OUT_OF_HOURS_KINDS:
        text = _out_of_hours_sentence(event, who)
    elif event.field == "tracking_link":
        text = _("%(who)s revoked the requester's tracking links") % {"who": who}
    else:
        text = _("%(who)s changed %(field)s from %(old)s → %(new)s") % {
            "who": who,
            "field": FIELD_LABELS.get(event.field, event.field),
            "old": _shown(event.field, event.old_value),
            "new": _shown(event.field, event.new_value),
        }
    return format_html('{} <time datetime="{}">{}</time>', text, event.created_at.isoformat(), when)


@register.filter
def get_value(data: Any, key: str) -> str:
    """A submitted value by name, for re-filling inputs whose names are built from data."""
    if data is None:
        return ""
    value = data.get(key, "")
    return "" if value is None else str(value)


@register.filter
def sla_duration(seconds: float | None) -> str:
    """A business-time length (target, used, left) in hours and minutes."""
    return "—" if seconds is None else duration_text(seconds, days_too=False)


@register.simple_tag
def time_left(ticket: Any, paused_ids: set[int] | None = None) -> SafeString:
    """The queue's "time left" cell: until the earliest running clock's due time, coloured;
    "paused" when every clock waits; a dash when the ticket has no running clock."""
    if ticket.sla_due_at is None:
        if ticket.pk in (paused_ids or set()):
            return format_html('<span class="sla-left sla-paused" data-sla="paused">{}</span>', _("paused"))
        return mark_safe('<span class="sla-left muted" data-sla="none">—</span>')
    seconds = (ticket.sla_due_at - timezone.now()).total_seconds()
    css = urgency_class(seconds)
    return format_html('<time class="sla-left {}" data-sla="{}" datetime="{}" title="{}">{}</time>',
                       css, css.removeprefix("sla-"), ticket.sla_due_at.isoformat(),
                       date_format(localtime(ticket.sla_due_at), "SHORT_DATETIME_FORMAT"),
                       duration_text(seconds))


@register.simple_tag
def unread_notice_count(user: Any) -> int:
    """Unread desk notices of the signed-in person, for the navigation badge (one query)."""
    from vuoro.notify.selectors import desk_notifications_for

    return desk_notifications_for(user=user, unread_only=True).count()
