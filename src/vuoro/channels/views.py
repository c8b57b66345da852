"""A mail gateway posts raw MIME here; the view only authenticates and hands over to the service."""

import hmac

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from vuoro.accounts.models import Role
from vuoro.accounts.services import api_token_authenticate
from vuoro.channels.models import Mailbox
from vuoro.channels.services import email_receive

INBOUND_ROLES = frozenset({Role.AGENT, Role.ADMIN})


def inbound_max_bytes() -> int:
    return int(getattr(settings, "VUORO_INBOUND_MAX_BYTES", 25 * 1024 * 1024))


def _authorised(request: HttpRequest, mailbox: Mailbox) -> int:
    """200 when allowed; 401 without valid credentials; 403 for a token of another role."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, presented = header.partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        return 401
    if mailbox.inbound_secret and hmac.compare_digest(presented.encode(), mailbox.inbound_secret.encode()):
        return 200
    user = api_token_authenticate(presented)
    if user is None:
        return 401
    return 200 if user.role in INBOUND_ROLES else 403


@csrf_exempt
@require_POST
def inbound(request: HttpRequest, mailbox_id: int) -> JsonResponse:
    """202 with the outcome; 400 for an empty or oversized message; 401/403 otherwise."""
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id, active=True)
    status = _authorised(request, mailbox)
    if status != 200:
        return JsonResponse({"detail": "unauthorised" if status == 401 else "forbidden"}, status=status)
    length = int(request.headers.get("Content-Length") or 0)
    if length > inbound_max_bytes():
        return JsonResponse({"detail": "too large"}, status=400)
    raw = request.body
    if not raw.strip() or len(raw) > inbound_max_bytes():
        return JsonResponse({"detail": "empty" if not raw.strip() else "too large"}, status=400)
    row = email_receive(raw=raw, mailbox=mailbox)
    return JsonResponse({"id": row.pk, "message_id": row.message_id, "outcome": row.outcome,
                         "reason": row.reason, "ticket": row.ticket.reference if row.ticket else None},
                        status=202)
