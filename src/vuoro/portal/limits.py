"""How fast anonymous visitors may file requests, so the portal cannot be used to flood the
desk or to make the desk's address mail strangers.

Per hour, at most ``VUORO_PORTAL_ANONYMOUS_PER_ADDRESS`` requests for one email address (each
sends that address an acknowledgement) and ``VUORO_PORTAL_ANONYMOUS_PER_CLIENT`` from one client
address (``core.http.client_ip``). Signed-in requesters are not limited here.

Guarantees: the check and the record run inside the request's transaction, so a refused or
failed request is not counted. Requests racing each other may each pass the check once; the
limit can be passed by at most the number of requests in flight at the same moment.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from vuoro.portal.models import AnonymousRequest

WINDOW = dt.timedelta(hours=1)
KEEP = dt.timedelta(days=1)


class TooManyRequests(ValidationError):
    """An anonymous request over the limit; the view answers 429."""


def _email_hash(email: str) -> str:
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()


def anonymous_request_check(*, ip: str | None, email: str, now: dt.datetime) -> None:
    """Raise ``TooManyRequests`` if one more anonymous request would pass a limit."""
    since = now - WINDOW
    recent = AnonymousRequest.objects.filter(at__gt=since)
    per_address = int(getattr(settings, "VUORO_PORTAL_ANONYMOUS_PER_ADDRESS", 3))
    if recent.filter(email_hash=_email_hash(email)).count() >= per_address:
        raise TooManyRequests(_("Several requests were already sent for this address within the "
                                "hour. Please wait, or sign in, or answer the mail you received."))
    per_client = int(getattr(settings, "VUORO_PORTAL_ANONYMOUS_PER_CLIENT", 10))
    if ip and recent.filter(ip=ip).count() >= per_client:
        raise TooManyRequests(_("Too many requests were sent from your network within the hour. "
                                "Please wait a while, or sign in."))


def anonymous_request_record(*, ip: str | None, email: str, now: dt.datetime) -> None:
    """Count one anonymous request; forget the ones older than a day."""
    AnonymousRequest.objects.filter(at__lt=now - KEEP).delete()
    AnonymousRequest.objects.create(at=now, ip=ip or None, email_hash=_email_hash(email))
