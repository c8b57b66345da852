"""A mail gateway posts raw MIME here; the view only authenticates and hands over to the service."""

import hmac

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from vuoro.accounts.models import Role
from vuoro.accounts.services import api_token_authenticate
from vuoro.channels.models import Mailbox
from vuoro.channels.services import email_receive

# Posted mail speaks for its From address: only the mailbox's gateway secret or an admin may post
# it, so no desk token can file mail in a requester's name.
INBOUND_ROLES = frozenset({Role.ADMIN})
UNAUTHORISED = {"detail": "unauthorised"}


def inbound_max_bytes() -> int:
    return int(getattr(settings, "VUORO_INBOUND_MAX_BYTES", 25 * 1024 * 1024))


def _mailbox_for(mailbox_id: int) -> Mailbox | None:
    """The active mailbox of that id, or None; callers answer both cases alike."""
    return Mailbox.objects.filter(pk=mailbox_id, active=True).first()


def _secret_matches(presented: str, mailbox: Mailbox | None) -> bool:
    """Constant-time compare with the mailbox's own secret; False without a mailbox or secret."""
    secret = (mailbox.inbound_secret if mailbox is not None else "") or ""
    return bool(secret) and hmac.compare_digest(presented.encode(), secret.encode())


def _authorised(request: HttpRequest, mailbox: Mailbox | None) -> int:
    """200 when allowed; 403 for an API token of a role that may not post mail; 401 otherwise.

    An unknown or inactive mailbox, a mailbox without a secret and a wrong secret all give the
    same 401, so the endpoint does not tell which mailboxes exist. The 403 is decided by the
    token alone, whatever the mailbox, for the same reason.
    """
    header = request.headers.get("Authorization", "")
    scheme, _sep, presented = header.partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        return 401
    if _secret_matches(presented, mailbox):
        return 200
    user = api_token_authenticate(presented)
    if user is None:
        return 401
    if user.role not in INBOUND_ROLES:
        return 403
    return 200 if mailbox is not None else 401


@csrf_exempt
@require_POST
def inbound(request: HttpRequest, mailbox_id: int) -> JsonResponse:
    """202 with the outcome; 400 for an empty or oversized message; 413 or 422 with the reason for
    a message refused for a limit on its shape (its row is kept); 401/403 otherwise."""
    mailbox = _mailbox_for(mailbox_id)
    status = _authorised(request, mailbox)
    if status == 403:
        return JsonResponse({"detail": "forbidden"}, status=403)
    if status != 200 or mailbox is None:
        return JsonResponse(UNAUTHORISED, status=401)
    length = int(request.headers.get("Content-Length") or 0)
    if length > inbound_max_bytes():
        return JsonResponse({"detail": "too large"}, status=400)
    raw = request.body
    if not raw.strip() or len(raw) > inbound_max_bytes():
        return JsonResponse({"detail": "empty" if not raw.strip() else "too large"}, status=400)
    row = email_receive(raw=raw, mailbox=mailbox)
    refusal = getattr(row, "refusal", None)
    if refusal is not None:
        # Refused for a limit before it was parsed: the gateway should not send it again.
        return JsonResponse({"detail": "refused", "id": row.pk, "message_id": row.message_id,
                             "outcome": row.outcome, "limit": refusal.code, "reason": row.reason},
                            status=413 if refusal.code.endswith("bytes") else 422)
    return JsonResponse({"id": row.pk, "message_id": row.message_id, "outcome": row.outcome,
                         "reason": row.reason, "ticket": row.ticket.reference if row.ticket else None},
                        status=202)
