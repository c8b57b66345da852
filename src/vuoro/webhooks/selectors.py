"""Reads for hand-off: what the desk sees of a ticket's copy in the customer's own system."""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from vuoro.accounts.models import STAFF_ROLES, User
from vuoro.notify.models import OutboundEmail, OutboxStatus
from vuoro.tickets import access
from vuoro.tickets.models import Ticket
from vuoro.webhooks.models import (
    DeliveryStatus,
    ExternalReference,
    HandOff,
    HandOffKind,
    WebhookDelivery,
)

# Outbox states as the desk reads them: waiting, sent, failed, or sent with no answer.
_DELIVERY_STATE = {
    DeliveryStatus.PENDING: "pending", DeliveryStatus.SENDING: "pending",
    DeliveryStatus.DELIVERED: "sent", DeliveryStatus.FAILED: "failed",
    DeliveryStatus.UNKNOWN: "unknown",
    OutboxStatus.SENT: "sent",
}


@dataclass(frozen=True)
class HandOffCard:
    """The "External system" card: ``reference`` is empty until the system has answered one."""

    target: str
    kind: str
    reference: str = ""
    url: str = ""
    external_status: str = ""
    updated_at: datetime | None = None
    delivery_state: str = ""
    delivery_at: datetime | None = None


def _target(handoff: HandOff | None, system: str) -> tuple[str, str]:
    """A name for the receiver a person recognises: the mailbox or the URL's host."""
    if handoff is None:
        return system, ""
    if handoff.kind == HandOffKind.EMAIL:
        return handoff.email, handoff.kind
    return urlsplit(handoff.url).hostname or handoff.url, handoff.kind


def _delivery(handoff: HandOff, ticket: Ticket) -> tuple[str, datetime | None]:
    """The hand-off's outbox row for ``ticket``: a webhook delivery (REST) or an email."""
    row: WebhookDelivery | OutboundEmail | None
    if handoff.kind == HandOffKind.REST:
        row = (WebhookDelivery.objects.filter(handoff=handoff, ticket=ticket)
               .only("status", "created_at", "delivered_at").order_by("-pk").first())
        done_at = row.delivered_at if row else None
    else:
        row = (OutboundEmail.objects.filter(key=f"handoff:{handoff.pk}:{ticket.pk}")
               .only("status", "created_at", "sent_at").first())
        done_at = row.sent_at if row else None
    if row is None:
        return "", None
    return _DELIVERY_STATE.get(row.status, row.status), done_at or row.created_at


def handoff_card_for_ticket(*, user: User, ticket: Ticket) -> HandOffCard | None:
    """The ticket's hand-off for staff at the desk; None when there is none or ``user`` may not see it.

    Requesters and partner agents get None: the external id is the desk's business.
    """
    if not user.is_authenticated or user.role not in STAFF_ROLES or not access.can_view(user, ticket):
        return None
    ext = ExternalReference.objects.filter(ticket=ticket).first()
    handoff = HandOff.objects.filter(service_id=ticket.service_id).first()
    if ext is not None and handoff is not None and ext.system != f"handoff-{handoff.pk}":
        handoff = None  # the reference came through a hand-off that has since been replaced
    state, at = _delivery(handoff, ticket) if handoff is not None else ("", None)
    if ext is None and not state:
        return None
    target, kind = _target(handoff, ext.system if ext else "")
    if ext is None:
        return HandOffCard(target=target, kind=kind, delivery_state=state, delivery_at=at)
    return HandOffCard(target=target, kind=kind, reference=ext.reference, url=ext.url,
                       external_status=ext.external_status, updated_at=ext.updated_at,
                       delivery_state=state, delivery_at=at)
