"""SLA clocks follow every ticket write, inline: the clocks move in the transaction that moved
the ticket, so a clock never runs on a status the ticket no longer has."""

from vuoro.core.events import Event, subscribe
from vuoro.sla.services import clocks_follow_ticket, clocks_start


def _start(event: Event) -> None:
    clocks_start(ticket=event.subject, at=event.at)


def _follow(event: Event) -> None:
    payload = event.payload
    clocks_follow_ticket(ticket=event.subject, at=event.at,
                         previous_status=payload["previous_status"],
                         previous_priority=payload["previous_priority"],
                         first_response=bool(payload.get("first_response")),
                         service_changed=bool(payload.get("service_changed")))


def connect() -> None:
    subscribe("ticket.created", "sla.clocks_start", _start, deferred=False)
    subscribe("ticket.changed", "sla.clocks_follow", _follow, deferred=False)
    subscribe("message.added", "sla.clocks_follow", _follow, deferred=False)
