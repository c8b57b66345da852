"""Where a requester's or an agent's answer to our mail goes: back to a mailbox we poll.

Mail is sent from ``DEFAULT_FROM_EMAIL``; a ticket that came in through a mailbox (or whose
service has one) gets ``Reply-To`` that mailbox, so an answer reaches the address that is polled
and threads back onto the ticket. While mail intake files a ticket it names the mailbox with
``answers_to``, since the received message is linked to the new ticket only afterwards.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q

from vuoro.channels.models import InboundEmail, Mailbox
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

    The mailbox the ticket's mail came to, else the service's first; one query, remembered on
    the ticket object for the other mails written in the same change.
    """
    address = _arriving_at.get() or getattr(ticket, "_vuoro_reply_to", None)
    if address is None:
        came = InboundEmail.objects.filter(ticket=ticket, mailbox=OuterRef("pk"))
        # The mailbox the mail came to; else the service's ordinary one, never its outage
        # address, where an answer would count as work stopping.
        outage = ExpressionWrapper(Q(stops_work="yes"), output_field=BooleanField())
        address = (Mailbox.objects.filter(active=True, service_id=ticket.service_id)
                   .annotate(came=Exists(came), outage=outage).order_by("-came", "outage", "pk")
                   .values_list("address", flat=True).first()) or ""
        if not address:
            address = (Mailbox.objects.filter(active=True, inbound__ticket=ticket).order_by("pk")
                       .values_list("address", flat=True).first()) or ""
        ticket._vuoro_reply_to = address  # type: ignore[attr-defined]
    if not address or address.lower() == settings.DEFAULT_FROM_EMAIL.lower():
        return {}
    return {"Reply-To": address}
