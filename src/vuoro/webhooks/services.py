"""Writes for hand-off and deliveries: the external reference, inbound updates, resending.

Events are written by ``vuoro.webhooks.events.webhook_event``.
"""

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from vuoro.accounts.selectors import system_actor
from vuoro.tickets.models import Ticket
from vuoro.tickets.services import DESCRIPTION_MAX, message_add, ticket_change
from vuoro.webhooks.events import handoff_payload
from vuoro.webhooks.models import (
    DeliveryStatus,
    ExternalReference,
    HandOff,
    WebhookDelivery,
)


def _web_link(value: Any) -> str:
    """An http(s) link from the receiver's answer, or "" (never a javascript: or other scheme)."""
    text = str(value or "")
    return text if text.startswith(("https://", "http://")) and len(text) <= 500 else ""


def reference_store(*, handoff: HandOff, ticket: Ticket, answer: Any,
                    now: datetime | None = None) -> str | None:
    """Keep the external reference from the receiver's JSON answer; None when it has none.

    A ``url`` in the answer becomes the link the desk shows for the reference.
    """
    value = answer.get(handoff.reference_key) if isinstance(answer, dict) else None
    if value in (None, ""):
        return None
    try:
        with transaction.atomic():
            ExternalReference.objects.update_or_create(
                ticket=ticket, defaults={"system": f"handoff-{handoff.pk}", "reference": str(value),
                                         "url": _web_link(answer.get("url")),
                                         "updated_at": now or timezone.now()})
    except IntegrityError:
        return None
    return str(value)


class ReferenceConflict(Exception):
    """The update names a ticket already linked to another external item (the view answers 409)."""


def _reference_for_update(*, handoff: HandOff, reference: str, vuoro_reference: str,
                          now: datetime) -> ExternalReference:
    """The link the update is about; made first when it names one of our tickets not yet linked.

    An email hand-off never hears a reference back, so the other system's first update says
    which ticket it is (``vuoro_reference``). Only tickets of the hand-off's own service are
    looked at: any other reference is unknown (``Ticket.DoesNotExist``), never touched. The
    ticket row is locked, so two first updates at once link it once.
    """
    system = f"handoff-{handoff.pk}"
    if not vuoro_reference:
        return ExternalReference.objects.select_related("ticket").get(
            system=system, reference=reference, ticket__service_id=handoff.service_id)
    ticket = Ticket.objects.select_for_update().get(reference=vuoro_reference,
                                                    service_id=handoff.service_id)
    current = ExternalReference.objects.filter(ticket=ticket).first()
    if current is not None:
        if (current.system, current.reference) != (system, reference):
            raise ReferenceConflict(f"{ticket.reference} is already linked to the external reference "
                                    f"{current.reference}")
        current.ticket = ticket
        return current
    try:
        with transaction.atomic():
            return ExternalReference.objects.create(ticket=ticket, system=system, reference=reference,
                                                    updated_at=now)
    except IntegrityError:
        # The pair (system, reference) is unique: their reference already names another ticket.
        raise ReferenceConflict(f"The external reference {reference} is already linked to another "
                                "ticket") from None


def inbound_update(*, handoff: HandOff, reference: str, vuoro_reference: str = "", status: str = "",
                   comment: str = "") -> Ticket:
    """Apply an update from the external system; ``DoesNotExist`` for an unknown reference.

    ``reference`` is the external system's id. With ``vuoro_reference`` (our ticket reference)
    an update may link a ticket of the hand-off's service that has no external reference yet,
    in the same transaction as the update; ``ReferenceConflict`` when either side is already
    linked elsewhere. A status the workflow refuses is kept as an internal note instead, so
    nothing is lost. All of it commits or none of it does.
    """
    now = timezone.now()
    with transaction.atomic():
        ext = _reference_for_update(handoff=handoff, reference=reference,
                                    vuoro_reference=vuoro_reference, now=now)
        ticket, actor = ext.ticket, system_actor()
        if actor is None:  # raised inside the transaction: a link just made is undone too
            raise PermissionDenied("no active admin to act for the external system")
        ExternalReference.objects.filter(pk=ext.pk).update(
            external_status=status[:100] if status else ext.external_status, updated_at=now)
        note = comment.strip()[:DESCRIPTION_MAX]
        ours = (handoff.status_map or {}).get(status, status) if status else ""
        if ours and ours != ticket.status:
            try:
                ticket_change(actor=actor, ticket=ticket, status=ours)
            except ValidationError:
                note = f"External status: {status}\n{note}".strip()[:DESCRIPTION_MAX]
        if note:
            message_add(actor=actor, ticket=ticket, body=note, internal=True)
    ticket.refresh_from_db()
    return ticket


def delivery_resend(*, delivery: WebhookDelivery, now: datetime) -> bool:
    """An operator's "send again" for a failed or unknown delivery; False for any other state.

    A hand-off whose payload could not be made (a broken template, since mended) is made again.
    """
    fields: dict[str, Any] = {"status": DeliveryStatus.PENDING, "next_attempt_at": now, "claimed_at": None}
    if delivery.handoff_id and delivery.ticket_id and not delivery.payload:
        try:
            fields["payload"] = handoff_payload(delivery.handoff, delivery.ticket)
        except ValueError:
            return False
    return bool(WebhookDelivery.objects.filter(
        pk=delivery.pk, status__in=[DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN],
    ).update(**fields))
