"""Webhook deliveries and the hand-off are written by the worker after the ticket's change
committed (deferred reactions), never inside the request that made the change."""

from vuoro.core.events import Event, subscribe
from vuoro.tickets.selectors import ticket_for_reaction
from vuoro.webhooks.events import webhook_event

_HEARD_AS = {"ticket.created": "ticket.created", "ticket.changed": "ticket.updated",
             "ticket.resolved": "ticket.resolved"}


def _deliver(event: Event) -> None:
    ticket = ticket_for_reaction(event)
    if ticket is not None:
        webhook_event(event=_HEARD_AS[event.name], ticket=ticket, now=event.at)


def connect() -> None:
    for name in _HEARD_AS:
        subscribe(name, "webhooks.deliver", _deliver, deferred=True)
