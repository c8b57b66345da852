"""Mail about tickets is written by the worker after the change committed (deferred reactions):
the requester's acknowledgement, replies and status mail, and the desk's mail. The reactions to
one event read the ticket once, after the change committed (shared through the event), and use
the event's time and history rows, so a late reaction still tells what happened then."""

import copy

from vuoro.accounts.models import User
from vuoro.core.events import Event, subscribe
from vuoro.notify import agent_mail, requester_mail
from vuoro.tickets.models import Message, Ticket
from vuoro.tickets.selectors import ticket_for_reaction


def _ticket(event: Event) -> Ticket | None:
    return ticket_for_reaction(event)


def _actor(event: Event) -> User | None:
    actor_id = event.payload.get("actor_id")
    return None if actor_id is None else User.objects.filter(pk=actor_id).first()


def _received(event: Event) -> None:
    ticket = _ticket(event)
    if ticket is not None:
        requester_mail.requester_mail_received(ticket=ticket, now=event.at)


def _new_for_desk(event: Event) -> None:
    ticket = _ticket(event)
    if ticket is not None:
        agent_mail.agent_mail_new_ticket(ticket=ticket, actor=_actor(event), now=event.at)


def _message(event: Event) -> Message | None:
    return (Message.objects.select_related("author")
            .filter(pk=event.payload.get("message_id"), ticket_id=event.ticket_id).first())


def _reply_to_requester(event: Event) -> None:
    ticket, message = _ticket(event), _message(event)
    if ticket is not None and message is not None:
        requester_mail.requester_mail_reply(ticket=ticket, message=message, now=event.at)


def _message_to_desk(event: Event) -> None:
    ticket, message = _ticket(event), _message(event)
    if ticket is not None and message is not None:
        agent_mail.agent_mail_message(ticket=ticket, message=message, now=event.at)


def _status(event: Event) -> None:
    shared = _ticket(event)
    if shared is None or "status" not in event.payload.get("changed", []):
        return
    ticket = copy.copy(shared)  # the event's ticket is shared with the other subscribers
    ticket.status = event.payload["status"]  # the status this change made, not a later one
    requester_mail.requester_mail_status(ticket=ticket, now=event.at,
                                         history_id=event.payload.get("history", {}).get("status"))


def _assigned(event: Event) -> None:
    ticket = _ticket(event)
    actor = _actor(event)
    if ticket is None or actor is None or "assignee" not in event.payload.get("changed", []):
        return
    agent_mail.agent_mail_assigned(ticket=ticket, actor=actor, now=event.at,
                                   history_id=event.payload.get("history", {}).get("assignee"))


def connect() -> None:
    subscribe("ticket.created", "notify.requester_received", _received, deferred=True)
    subscribe("ticket.created", "notify.desk_new_ticket", _new_for_desk, deferred=True)
    subscribe("message.added", "notify.requester_reply", _reply_to_requester, deferred=True)
    subscribe("message.added", "notify.desk_message", _message_to_desk, deferred=True)
    subscribe("ticket.changed", "notify.requester_status", _status, deferred=True)
    subscribe("ticket.changed", "notify.desk_assigned", _assigned, deferred=True)
