"""Polling IMAP mailboxes: unseen messages in, each flagged \\Seen only after it is committed.

Guarantees:
- A message is flagged on the server only after ``email_receive`` has returned, i.e. after its
  transaction committed. A poller killed between the two leaves the message unseen; the next poll
  hands it to ``email_receive`` again, whose unique Message-ID makes the second receipt a no-op,
  so nothing is lost and nothing is filed twice.
- A message whose ingest raises stays unseen and is retried on the next poll; the others go on.
- Connection and login errors are logged and reported in the result, never raised: the
  scheduler's loop must keep running while a mail server is down.
"""

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from imaplib import IMAP4

from django.utils import timezone
from imap_tools import AND, MailBox, MailBoxUnencrypted, MailMessageFlags
from imap_tools.errors import ImapToolsError

from vuoro.channels.models import Mailbox

log = logging.getLogger(__name__)

# How often the scheduler polls each mailbox; the fault tests run workers with a shorter interval.
POLL_SECONDS = float(os.environ.get("VUORO_EMAIL_POLL_INTERVAL", "30"))
CONNECT_TIMEOUT = 15.0


@dataclass
class PollResult:
    mailbox_id: int
    fetched: int = 0
    received: int = 0
    failed: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and not self.failed


def _connect(mailbox: Mailbox) -> MailBox | MailBoxUnencrypted:
    kind = MailBox if mailbox.imap_ssl else MailBoxUnencrypted
    server = kind(mailbox.imap_host, mailbox.imap_port, timeout=CONNECT_TIMEOUT)
    return server.login(mailbox.imap_username, mailbox.imap_password, initial_folder=mailbox.imap_folder)


def _raw(server: MailBox | MailBoxUnencrypted, uid: str) -> bytes | None:
    """The message's bytes exactly as stored (BODY.PEEK leaves \\Seen alone)."""
    status, data = server.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple):
            return item[1]
    return None


def _receive(*, raw: bytes, mailbox: Mailbox, now: datetime | None) -> None:
    # Imported here: the ingest service imports the ticket apps, which the scheduler loads later.
    from vuoro.channels.services import email_receive

    email_receive(raw=raw, mailbox=mailbox, now=now)


def mailbox_poll(*, mailbox: Mailbox, limit: int = 100, now: datetime | None = None) -> PollResult:
    """Receive up to ``limit`` unseen messages of one mailbox; see the module's guarantees."""
    result = PollResult(mailbox_id=mailbox.pk)
    try:
        with _connect(mailbox) as server:
            uids = server.uids(AND(seen=False))[:limit]
            for uid in uids:
                raw = _raw(server, uid)
                if raw is None:
                    continue
                result.fetched += 1
                try:
                    _receive(raw=raw, mailbox=mailbox, now=now)
                except Exception:
                    # Left unseen: the next poll tries again, and the Message-ID keeps it single.
                    log.exception("mailbox %s: message uid %s not received", mailbox.pk, uid)
                    result.failed += 1
                    continue
                server.flag(uid, MailMessageFlags.SEEN, True)
                result.received += 1
    except (OSError, IMAP4.error, ImapToolsError, EOFError) as error:
        result.error = f"{type(error).__name__}: {error}"
        log.warning("mailbox %s: poll failed: %s", mailbox.pk, result.error)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=now or timezone.now())
    return result


def mailboxes_poll(*, now: datetime | None = None, every: float = POLL_SECONDS) -> list[PollResult]:
    """Poll every active IMAP mailbox not polled in the last ``every`` seconds."""
    now = now or timezone.now()
    due = Mailbox.objects.filter(active=True).exclude(imap_host="").exclude(
        last_polled_at__gt=now - timedelta(seconds=every),
    )
    return [mailbox_poll(mailbox=mailbox, now=now) for mailbox in due]


def email_poll() -> int:
    """The scheduler's step: due mailboxes polled; returns how many messages were received."""
    return sum(result.received for result in mailboxes_poll())
