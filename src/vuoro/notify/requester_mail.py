"""Email to the requester: request received, a reply from the desk, waiting for you, resolved.

Each function runs inside the transaction of the ticket service that caused it, so the outbox
row exists exactly when the cause was committed; nothing is sent in the request, the outbox
sender delivers it. Keys are unique per cause: a repeat writes nothing.

Mail goes to the requester's address in the requester's language (fi/en/sv), as text with an
HTML alternative, the reference in brackets in the subject. Every message after the first
carries ``In-Reply-To``/``References`` to the ticket's first outgoing message, so a reply
threads back to the ticket; ``X-Loop`` and ``Auto-Submitted: auto-replied`` keep auto-responders
from answering. Off unless ``settings.VUORO_REQUESTER_MAIL`` is true.

No mail is queued to an address that bounced permanently and has not written to us since
(``providers.stopping_bounce``, answered by the email channel); the skip is logged and the ticket goes on as
before, so the desk can reach the person another way.
"""

import html
import logging
import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from vuoro.core.i18n import language_of
from vuoro.notify import providers
from vuoro.notify.mail_thread import reply_to_headers
from vuoro.notify.models import OutboundEmail
from vuoro.notify.transports import message_id_for
from vuoro.tickets.models import Channel, Message, Status, Ticket, TicketEvent
from vuoro.tickets.tracking import tracking_token

logger = logging.getLogger(__name__)

# The requester was answered in person on these channels; a "received" mail would repeat it.
ANSWERED_CHANNELS = frozenset({Channel.PHONE})
STATUSES_TOLD = frozenset({Status.WAITING, Status.RESOLVED})
# Subject words, English source translated at rendering time.
TITLES = {
    "received": gettext_noop("Request received"),
    "reply": gettext_noop("New reply"),
    "status_waiting": gettext_noop("Waiting for your answer"),
    "status_resolved": gettext_noop("Resolved"),
}


BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)


def plain_text(markup: str) -> str:
    """Stored (sanitised) message HTML as readable text: one blank line between blocks."""
    text = html.unescape(strip_tags(BLOCK_END.sub("\n\n", markup)))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def enabled() -> bool:
    return bool(getattr(settings, "VUORO_REQUESTER_MAIL", False))


def _key(ticket: Ticket, cause: str) -> str:
    return f"requester-{ticket.pk}-{cause}"


def _thread_headers(ticket: Ticket) -> dict[str, str]:
    """Loop guard, and threading to the ticket's first outgoing message when there is one."""
    headers = {"X-Loop": getattr(settings, "VUORO_X_LOOP", "vuoro"), "Auto-Submitted": "auto-replied",
               **reply_to_headers(ticket)}
    first = (OutboundEmail.objects.filter(key__startswith=_key(ticket, ""))
             .order_by("pk").values_list("pk", flat=True).first())
    if first is not None:
        headers["In-Reply-To"] = headers["References"] = message_id_for("outbox", first)
    return headers


def _write(*, ticket: Ticket, cause: str, template: str, context: dict[str, Any],
           now: datetime) -> int:
    """Render ``template`` (.txt and .html) in the requester's language and queue it; 0 or 1."""
    requester = ticket.requester
    if not enabled() or not requester.email or not requester.is_active:
        return 0
    key = _key(ticket, cause)
    if OutboundEmail.objects.filter(key=key).exists():
        return 0
    bounce = providers.stopping_bounce(requester.email, now)
    if bounce is not None:
        # The bounce's id, not the address: logs should not collect contacts' addresses.
        logger.info("Requester mail %s for %s not queued: the address bounced (email bounce %s, %s, %s).",
                    key, ticket.reference, bounce.pk, bounce.status, bounce.at.isoformat())
        return 0
    language = language_of(requester.language)
    # A contact without a password follows the request by its tracking link, which only this
    # mail carries; an account signs in and opens the request in the portal.
    link = settings.BASE_URL + (reverse("portal:ticket", args=[ticket.reference]) if requester.has_usable_password()
                                else reverse("portal:track", args=[tracking_token(ticket)]))
    with translation.override(language):
        values = {"ticket": ticket, "link": link, "requester": requester, **context}
        text = render_to_string(f"notify/email/{template}.txt", values)
        html = render_to_string(f"notify/email/{template}.html", values)
        subject = f"[{ticket.reference}] {_(TITLES[template])}: {ticket.subject}"
    written = OutboundEmail.objects.bulk_create([OutboundEmail(
        key=key, to=requester.email, subject=subject[:300], body=text, html_body=html,
        headers=_thread_headers(ticket), next_attempt_at=now, created_at=now,
    )], ignore_conflicts=True)
    return len(written)


def requester_mail_received(*, ticket: Ticket, now: datetime) -> int:
    """The request is in: its reference and when it will be handled. Not for answered channels."""
    if ticket.channel in ANSWERED_CHANNELS:
        return 0
    expected = providers.expected_handling(ticket, language_of(ticket.requester.language), now)
    return _write(ticket=ticket, cause="received", template="received",
                  context={"expected": expected}, now=now)


def requester_mail_reply(*, ticket: Ticket, message: Message, now: datetime) -> int:
    """A public reply written by the desk; internal notes and the requester side get nothing."""
    if message.internal or message.author is None or not message.author.uses_desk:
        return 0
    return _write(ticket=ticket, cause=f"reply-{message.pk}", template="reply",
                  context={"text": plain_text(message.body), "html": message.body,
                           "author": message.author.display_name()}, now=now)


def requester_mail_status(*, ticket: Ticket, now: datetime, history_id: int | None = None) -> int:
    """The ticket now waits for the requester or is resolved; one mail per status change
    (``history_id``: the change's history row; the latest status row when not given)."""
    if ticket.status not in STATUSES_TOLD:
        return 0
    event = history_id or (TicketEvent.objects.filter(ticket=ticket, field="status")
                           .order_by("-pk").values_list("pk", flat=True).first())
    return _write(ticket=ticket, cause=f"status-{event}", template=f"status_{ticket.status}",
                  context={}, now=now)
