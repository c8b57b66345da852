"""Tracking links: a requester without an account follows a request through a signed token
(the portal's tracking page, and the ticket's public attachments).

The token is the ticket's random ``tracking_id`` signed with the site's secret and the time it
was made, so it cannot be guessed or forged from a reference; a tampered token finds nothing.

Guarantees: a link works for ``VUORO_TRACKING_LINK_DAYS`` (default 90) after it was made; every
mail to the requester carries a fresh one, so a request that is still talked about stays
reachable. ``tickets.services.tracking_links_revoke`` gives the ticket a new ``tracking_id``:
every link made before stops working at once, and only the next mail carries a working one.
"""

import uuid

from django.conf import settings
from django.core import signing

from vuoro.tickets.models import Attachment, Ticket

SALT = "vuoro.tracking"
DAY = 86400


def _max_age_seconds() -> int:
    return int(getattr(settings, "VUORO_TRACKING_LINK_DAYS", 90)) * DAY


def tracking_token(ticket: Ticket) -> str:
    """A new link token for ``ticket``, valid for ``VUORO_TRACKING_LINK_DAYS`` from now."""
    return signing.TimestampSigner(salt=SALT).sign(str(ticket.tracking_id))


def ticket_for_tracking_token(token: str | None) -> Ticket | None:
    """The ticket a valid token points to; None for a missing, tampered, expired or revoked token."""
    if not token or len(token) > 200:
        return None
    try:
        tracking_id = uuid.UUID(signing.TimestampSigner(salt=SALT).unsign(token, max_age=_max_age_seconds()))
    except (signing.BadSignature, ValueError):  # SignatureExpired is a BadSignature
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
