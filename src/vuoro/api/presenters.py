"""Model rows as API dictionaries; what a viewer may see of people is decided here, once."""

from types import SimpleNamespace
from typing import Any

from vuoro.accounts.models import User
from vuoro.catalog.models import Category, FormField, Service
from vuoro.core.i18n import pick
from vuoro.sla.expected import expected_handling
from vuoro.sla.models import SlaClock
from vuoro.sla.selectors import clock_used_seconds, ticket_clocks
from vuoro.tickets.models import Attachment, Message, Ticket, TicketEvent


def person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.display_name()}


def requester_of(ticket: Ticket, viewer: User) -> dict[str, Any]:
    """Partner agents see the requester's name only."""
    requester = ticket.requester
    email = None if viewer.is_partner else (requester.email or None)
    return {"id": requester.pk, "name": requester.display_name(), "email": email}


def _named(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": str(obj.name)}


def _organisation(ticket: Ticket, viewer: User) -> dict[str, Any] | None:
    """Partner agents never see organisations."""
    if viewer.is_partner or ticket.organisation_id is None:
        return None
    return _named(ticket.organisation)


def _category_ref(row: dict[str, Any]) -> dict[str, Any] | None:
    if not row.get("category__slug"):
        return None
    names = SimpleNamespace(**{f"name_{c}": row[f"category__name_{c}"] for c in ("fi", "en", "sv")})
    return {"slug": row["category__slug"], "name": pick(names, "name")}


def ticket_summary(ticket: Ticket, viewer: User, refs: dict[str, Any]) -> dict[str, Any]:
    """A list row; ``refs`` comes from ``ticket_catalog_refs`` so no row costs a query."""
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "service": {"slug": refs.get("service__slug", ""), "name": ticket.service.name},
        "category": _category_ref(refs),
        "requester": requester_of(ticket, viewer),
        "organisation": _organisation(ticket, viewer),
        "team": _named(ticket.team),
        "assignee": person(ticket.assignee),
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }


def ticket_detail(ticket: Ticket, viewer: User) -> dict[str, Any]:
    category = ticket.category
    refs = {"service__slug": ticket.service.slug}
    if category is not None:
        refs.update({"category__slug": category.slug, "category__name_fi": category.name_fi,
                     "category__name_en": category.name_en, "category__name_sv": category.name_sv})
    return {
        **ticket_summary(ticket, viewer, refs),
        "description": ticket.description,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "stops_work": ticket.stops_work,
        "affected": ticket.affected,
        "form_answers": ticket.form_answers or {},
        "first_response_at": ticket.first_response_at,
        "resolved_at": ticket.resolved_at,
        "expected_handling": _expected_handling(ticket),
        "sla": [sla_clock(c) for c in ticket_clocks(ticket=ticket)],
    }


def _expected_handling(ticket: Ticket) -> dict[str, Any] | None:
    """What the requester was told, in the requester's language; nothing once resolved."""
    if not ticket.is_active:
        return None
    told = expected_handling(ticket, ticket.requester.language)
    return {"at": told["at"], "text": told["text"]}


def sla_clock(item: SlaClock) -> dict[str, Any]:
    return {
        "kind": item.kind, "state": item.state, "due_at": item.due_at,
        "target_seconds": item.target_seconds, "used_seconds": clock_used_seconds(item),
        "breached": item.breached_at is not None,
    }


def attachment(item: Attachment) -> dict[str, Any]:
    return {
        "id": item.pk, "filename": item.filename, "content_type": item.content_type,
        "size": item.size, "internal": item.internal, "created_at": item.created_at,
    }


def message(item: Message) -> dict[str, Any]:
    return {
        "id": item.pk, "author": person(item.author), "body": item.body,
        "internal": item.internal, "channel": item.channel, "created_at": item.created_at,
        "attachments": [attachment(a) for a in item.attachments.all()],
    }


def event(item: TicketEvent) -> dict[str, Any]:
    return {
        "id": item.pk, "kind": item.kind, "field": item.field, "old_value": item.old_value,
        "new_value": item.new_value, "actor": person(item.actor), "internal": item.internal,
        "created_at": item.created_at,
    }


def service(item: Service) -> dict[str, Any]:
    return {"slug": item.slug, "name": item.name, "description": item.description,
            "critical": item.critical}


def form_field(item: FormField) -> dict[str, Any]:
    return {
        "key": item.key, "kind": item.kind, "required": item.required, "label": item.label,
        "help": item.help,
        "choices": [{"value": v, "label": label} for v, label in item.choice_options()],
        "min_value": None if item.min_value is None else float(item.min_value),
        "max_value": None if item.max_value is None else float(item.max_value),
        "max_length": item.max_length,
    }


def category(item: Category) -> dict[str, Any]:
    return {"slug": item.slug, "name": item.name, "description": item.description,
            "fields": [form_field(f) for f in item.fields.all()]}
