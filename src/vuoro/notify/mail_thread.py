"""Where a requester's or an agent's answer to our mail goes: back to a mailbox we poll.

Mail is sent from ``DEFAULT_FROM_EMAIL``; a ticket that came in through a mailbox (or whose
service has one) gets ``Reply-To`` that mailbox, so an answer reaches the address that is polled
and threads back onto the ticket.
"""

from django.conf import settings

from vuoro.channels.models import Mailbox
from vuoro.tickets.models import Ticket


def reply_to_headers(ticket: Ticket) -> dict[str, str]:
    """``{"Reply-To": address}`` when a mailbox takes answers about this ticket, else empty."""
    address = (Mailbox.objects.filter(active=True, inbound__ticket=ticket)
               .order_by("inbound__pk").values_list("address", flat=True).first()
               or Mailbox.objects.filter(active=True, service_id=ticket.service_id)
               .order_by("pk").values_list("address", flat=True).first())
    if not address or address.lower() == settings.DEFAULT_FROM_EMAIL.lower():
        return {}
    return {"Reply-To": address}
