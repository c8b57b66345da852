"""Events into the webhook outbox: written in the transaction that records the change.

``webhook_event`` is called inside the transaction of ``ticket_create``, ``ticket_change`` and
the paging services, so a delivery exists exactly when the change committed. Payloads carry
the ticket's public fields only, never internal notes or the description. This module imports
no ticket or paging services, so those can call it without an import cycle.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import translation

from vuoro.core.i18n import pick
from vuoro.notify.models import OutboundEmail
from vuoro.notify.requester_mail import plain_text
from vuoro.tickets.models import Ticket
from vuoro.webhooks import templates
from vuoro.webhooks.models import (
    DeliveryStatus,
    HandOff,
    HandOffKind,
    WebhookDelivery,
    WebhookSubscription,
)

# The email hand-off shows times as the desk's people and customers read them, whatever the
# server's zone; ISO 8601 with the offset, so a machine reads it as well.
HANDOFF_EMAIL_ZONE = ZoneInfo("Europe/Helsinki")


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


def _subscriptions_for(ticket: Ticket) -> Any:
    """Active subscriptions with no services chosen, or with the ticket's service among them.

    The left join gives a subscription at most one matching row (its row for that service, or
    the empty row when it has none), so no ``distinct()`` is needed.
    """
    return WebhookSubscription.objects.filter(
        Q(services__isnull=True) | Q(services=ticket.service_id), active=True)


def webhook_event(*, event: str, ticket: Ticket, page: Any = None, now: datetime) -> int:
    """Write one delivery per active subscription to ``event``; returns how many were written.

    The key is event + ticket/page + time + subscription: writing the same event again adds
    nothing. A subscription limited to some services hears only of their tickets; page events
    are scoped by the page's ticket, which the paging services pass as ``ticket``. One query
    finds the subscriptions. On ``ticket.created`` the service's hand-off (if any) is sent too.
    """
    payload = {"event": event, "at": now.isoformat(), "ticket": ticket_payload(ticket)}
    if page is not None:
        payload["page"] = {"id": page.pk, "status": page.status}
    event_id = f"{event}:{ticket.pk}:{page.pk if page is not None else ''}:{now.timestamp():.6f}"
    rows = [
        WebhookDelivery(subscription=sub, ticket=ticket, event=event, payload=payload,
                        key=f"{event_id}:s{sub.pk}", next_attempt_at=now, created_at=now)
        for sub in _subscriptions_for(ticket)
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
    OutboundEmail.objects.bulk_create([OutboundEmail(
        key=key, to=handoff.email, subject=f"[{ticket.reference}] {_one_line(ticket.subject)}"[:300],
        body=handoff_email_body(handoff, ticket), next_attempt_at=now, created_at=now,
    )], ignore_conflicts=True)
    return True


def _one_line(value: object) -> str:
    """A field value on one line, so a subject with a line break cannot forge another field."""
    return " ".join(str(value).split())


def handoff_email_body(handoff: HandOff, ticket: Ticket) -> str:
    """The plain-text summary an email hand-off sends to the other system's mailbox.

    Always in English and always the same shape (``Label: value`` lines, then the description
    as text), because the reader is usually a mail handler of another work-management system.
    It ends with how that system sends updates back: the signed inbound URL and
    ``vuoro_reference``, which an email hand-off needs since no reference was ever answered.
    """
    requester, organisation = ticket.requester, ticket.organisation
    with translation.override("en"):
        fields = [
            ("Reference", ticket.reference),
            ("Subject", ticket.subject),
            ("Service", pick(ticket.service, "name", "en") or ticket.service.slug),
            ("Priority", ticket.get_priority_display()),
            ("Status", ticket.get_status_display()),
            ("Requester", requester.get_full_name() or requester.get_username()),
            ("Requester email", requester.email or "-"),
            ("Organisation", organisation.name if organisation is not None else "-"),
            ("Created", ticket.created_at.astimezone(HANDOFF_EMAIL_ZONE).isoformat(timespec="seconds")),
            ("Desk link", settings.BASE_URL + reverse("desk:ticket", args=[ticket.reference])),
        ]
    inbound = settings.BASE_URL + reverse("webhooks:handoff_update", args=[ticket.service.slug])
    lines = [f"New ticket {ticket.reference} from Vuoro.", ""]
    lines += [f"{label}: {_one_line(value)}" for label, value in fields]
    lines += ["", "Description:", plain_text(ticket.description) or "-", "", "--",
              "Send updates back to Vuoro as JSON in a POST to:", inbound,
              f'The JSON must include "vuoro_reference": "{ticket.reference}" and "reference": your',
              'own id for this item; "status" and "comment" are optional. Sign each request with the',
              "hand-off's shared secret: X-Vuoro-Timestamp (Unix seconds) and X-Vuoro-Signature",
              '(hex HMAC-SHA256 of "<timestamp>.<body>").']
    return "\n".join(lines) + "\n"
