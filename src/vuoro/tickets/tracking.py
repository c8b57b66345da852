"""Tracking links: a requester without an account follows a request through a signed token
(the portal's tracking page, and the ticket's public attachments).

The token is the ticket's random ``tracking_id`` signed with the site's secret, so it cannot
be guessed or forged from a reference; a tampered token finds nothing.
"""

import uuid

from django.core import signing

from vuoro.tickets.models import Attachment, Ticket

SALT = "vuoro.tracking"


def tracking_token(ticket: Ticket) -> str:
    return signing.Signer(salt=SALT).sign(str(ticket.tracking_id))


def ticket_for_tracking_token(token: str | None) -> Ticket | None:
    """The ticket a valid token points to; None for a missing, tampered or unknown token."""
    if not token:
        return None
    try:
        tracking_id = uuid.UUID(signing.Signer(salt=SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return (
        Ticket.objects.select_related("requester", "service", "category")
        .filter(tracking_id=tracking_id)
        .first()
    )


def attachment_for_tracking_token(token: str | None, attachment_id: int) -> Attachment | None:
    """A public attachment of the ticket the token points to; internal files never."""
    ticket = ticket_for_tracking_token(token)
    if ticket is None:
        return None
    return Attachment.objects.filter(pk=attachment_id, ticket=ticket, internal=False).first()
