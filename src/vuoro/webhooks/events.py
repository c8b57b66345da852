"""Events into the webhook outbox: written in the transaction that records the change.

``webhook_event`` is called inside the transaction of ``ticket_create``, ``ticket_change`` and
the paging services, so a delivery exists exactly when the change committed. Payloads carry
the ticket's public fields only, never internal notes or the description. This module imports
no ticket or paging services, so those can call it without an import cycle.
"""

from datetime import datetime
from typing import Any

from vuoro.notify.models import OutboundEmail
from vuoro.tickets.models import Ticket
from vuoro.webhooks import templates
from vuoro.webhooks.models import (
    DeliveryStatus,
    HandOff,
    HandOffKind,
    WebhookDelivery,
    WebhookSubscription,
)


def ticket_payload(ticket: Ticket) -> dict[str, Any]:
    """The public view of a ticket that leaves the desk (no internal notes, no description)."""
    return {
        "id": ticket.pk, "reference": ticket.reference, "subject": ticket.subject,
        "status": ticket.status, "priority": ticket.priority,
        "service": ticket.service.slug if ticket.service_id else None,
        "created_at": ticket.created_at.isoformat() if ticket.created_at else None,
        "updated_at": ticket.updated_at.isoformat() if ticket.updated_at else None,
        "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
    }


def webhook_event(*, event: str, ticket: Ticket, page: Any = None, now: datetime) -> int:
    """Write one delivery per active subscription to ``event``; returns how many were written.

    The key is event + ticket/page + time + subscription: writing the same event again adds
    nothing. On ``ticket.created`` the service's hand-off (if any) is sent too.
    """
    payload = {"event": event, "at": now.isoformat(), "ticket": ticket_payload(ticket)}
    if page is not None:
        payload["page"] = {"id": page.pk, "status": page.status}
    event_id = f"{event}:{ticket.pk}:{page.pk if page is not None else ''}:{now.timestamp():.6f}"
    rows = [
        WebhookDelivery(subscription=sub, ticket=ticket, event=event, payload=payload,
                        key=f"{event_id}:s{sub.pk}", next_attempt_at=now, created_at=now)
        for sub in WebhookSubscription.objects.filter(active=True)
        if event in (sub.events or [])
    ]
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    if event == "ticket.created":
        handoff_send(ticket=ticket, now=now)
    return len(rows)


def _render_template(template: str, ticket: Ticket) -> Any:
    return templates.render(template, {
        "reference": ticket.reference, "subject": ticket.subject, "description": ticket.description,
        "status": ticket.status, "priority": ticket.priority, "service": ticket.service.slug,
        "requester": ticket.requester.get_username(), "created_at": ticket.created_at.isoformat(),
    })


def handoff_payload(handoff: HandOff, ticket: Ticket) -> dict[str, Any]:
    if handoff.payload_template.strip():
        return _render_template(handoff.payload_template, ticket)
    return {"event": "ticket.created", "ticket": ticket_payload(ticket),
            "description": ticket.description}


def handoff_send(*, ticket: Ticket, now: datetime) -> bool:
    """Queue the hand-off of a new ticket to its service's system; False when it has none."""
    handoff = HandOff.objects.filter(service_id=ticket.service_id, active=True).first()
    if handoff is None:
        return False
    key = f"handoff:{handoff.pk}:{ticket.pk}"
    if handoff.kind == HandOffKind.REST:
        # A template that no longer renders must not stop the intake: the delivery is kept as
        # failed with the reason, for the admin to mend the template and send again.
        try:
            payload, status, error = handoff_payload(handoff, ticket), DeliveryStatus.PENDING, ""
        except ValueError as exc:
            payload, status, error = {}, DeliveryStatus.FAILED, f"Payload template: {exc}"[:2000]
        WebhookDelivery.objects.bulk_create([WebhookDelivery(
            handoff=handoff, ticket=ticket, event="handoff", key=key, payload=payload,
            status=status, last_error=error, next_attempt_at=now, created_at=now,
        )], ignore_conflicts=True)
        return True
    body = "\n".join(f"{label}: {value}" for label, value in [
        ("Reference", ticket.reference), ("Subject", ticket.subject), ("Service", ticket.service),
        ("Priority", ticket.priority), ("Status", ticket.status),
        ("Requester", ticket.requester.get_username()), ("Created", ticket.created_at.isoformat()),
    ]) + "\n\n" + ticket.description
    OutboundEmail.objects.bulk_create([OutboundEmail(
        key=key, to=handoff.email, subject=f"[{ticket.reference}] {ticket.subject}"[:300],
        body=body, next_attempt_at=now, created_at=now,
    )], ignore_conflicts=True)
    return True
