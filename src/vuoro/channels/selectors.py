"""Reads about mail addresses: which ones bounced, and whether that still stops our mail; and
which mailbox takes answers about a ticket.

A permanent bounce (a 5.x.x status) stops mail to that address for ``BOUNCE_WINDOW``, until the
person writes to us again from it: a message received after the bounce shows the address
works, so mail resumes at once. Temporary failures (4.x.x) never stop mail; the outbox retries
them. Addresses are compared case-insensitively.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone

from vuoro.accounts.models import STAFF_ROLES, User
from vuoro.channels.models import EmailBounce, InboundEmail, Mailbox
from vuoro.tickets import access
from vuoro.tickets.models import Ticket

BOUNCE_WINDOW = timedelta(days=30)


def _permanent(addresses: Iterable[str], since: datetime) -> QuerySet[EmailBounce]:
    # Bounced addresses are stored lower-cased (channels.parse), so the address index serves.
    lowered = {address.strip().lower() for address in addresses if address and address.strip()}
    return (EmailBounce.objects.filter(address__in=lowered, permanent=True, at__gte=since)
            .order_by("-at", "-pk"))


def mail_stopping_bounces(*, addresses: Iterable[str], now: datetime) -> dict[str, EmailBounce]:
    """For each of ``addresses`` that must not be mailed now, the bounce that stops it.

    Keys are the lower-cased addresses; an address absent from the result may be mailed. The
    newest permanent bounce of the last ``BOUNCE_WINDOW`` counts unless a message from that
    address was received at or after it. One plain query when nothing bounced (every mail
    written pays it), a second only for the addresses that did.
    """
    bounces = list(_permanent(addresses, now - BOUNCE_WINDOW))
    if not bounces:
        return {}
    # Senders are stored lower-cased (channels.parse), so the (sender, received_at) index serves.
    last_written: dict[str, datetime] = {}
    for sender, at in InboundEmail.objects.filter(
            sender__in={b.address for b in bounces}, received_at__gte=min(b.at for b in bounces),
    ).values_list("sender", "received_at"):
        last_written[sender] = max(at, last_written.get(sender, at))
    stopping: dict[str, EmailBounce] = {}
    for bounce in bounces:  # newest first
        written = last_written.get(bounce.address)
        if written is None or written < bounce.at:
            stopping.setdefault(bounce.address, bounce)
    return stopping


def bounce_stopping_mail(*, address: str, now: datetime) -> EmailBounce | None:
    """The bounce that stops mail to ``address`` now (see ``mail_stopping_bounces``), or None."""
    if not address:
        return None
    return mail_stopping_bounces(addresses=[address], now=now).get(address.strip().lower())


def requester_bounce(*, user: User, ticket: Ticket, now: datetime | None = None) -> EmailBounce | None:
    """The bounce that stops mail to the ticket's requester, for desk staff who see the ticket.

    Requesters and partner agents get None: a contact's delivery problems are the desk's
    business, like the rest of the contact's details.
    """
    if not user.is_authenticated or user.role not in STAFF_ROLES or not access.can_view(user, ticket):
        return None
    return bounce_stopping_mail(address=ticket.requester.email, now=now or timezone.now())


def reply_mailbox_address(ticket: Ticket) -> str:
    """The address of the mailbox that takes answers about ``ticket``; "" when none does.

    The active mailbox of the ticket's service that its mail came to; else the service's
    ordinary one, never its outage address, where an answer would count as work stopping;
    else any active mailbox the ticket's mail came to. One query, two when the service has
    no mailbox.
    """
    came = InboundEmail.objects.filter(ticket=ticket, mailbox=OuterRef("pk"))
    outage = ExpressionWrapper(Q(stops_work="yes"), output_field=BooleanField())
    address = (Mailbox.objects.filter(active=True, service_id=ticket.service_id)
               .annotate(came=Exists(came), outage=outage).order_by("-came", "outage", "pk")
               .values_list("address", flat=True).first())
    if not address:
        address = (Mailbox.objects.filter(active=True, inbound__ticket=ticket).order_by("pk")
                   .values_list("address", flat=True).first())
    return address or ""
