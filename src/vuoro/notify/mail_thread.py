"""Where a requester's or an agent's answer to our mail goes: back to a mailbox we poll.

Mail is sent from ``DEFAULT_FROM_EMAIL``; a ticket that came in through a mailbox (or whose
service has one) gets ``Reply-To`` that mailbox, so an answer reaches the address that is polled
and threads back onto the ticket. Which mailbox that is the email channel answers
(``providers.reply_address``). While mail intake files a ticket it names the mailbox with
``answers_to``, since the received message is linked to the new ticket only afterwards.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

from vuoro.notify import providers
from vuoro.tickets.models import Ticket

_arriving_at: ContextVar[str] = ContextVar("vuoro_mail_arriving_at", default="")


@contextmanager
def answers_to(address: str) -> Iterator[None]:
    """Within the block, mail about a new ticket asks for answers to ``address``."""
    token = _arriving_at.set(address)
    try:
        yield
    finally:
        _arriving_at.reset(token)


def reply_to_headers(ticket: Ticket) -> dict[str, str]:
    """``{"Reply-To": address}`` when a mailbox takes answers about this ticket, else empty.

    The mailbox named by ``answers_to``, else the one the email channel finds; looked up once
    and remembered on the ticket object for the other mails written in the same change.
    """
    address = _arriving_at.get() or getattr(ticket, "_vuoro_reply_to", None)
    if address is None:
        address = providers.reply_address(ticket)
        ticket._vuoro_reply_to = address  # type: ignore[attr-defined]
    if not address or address.lower() == settings.DEFAULT_FROM_EMAIL.lower():
        return {}
    return {"Reply-To": address}
