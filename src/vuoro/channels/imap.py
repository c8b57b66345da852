"""Polling IMAP mailboxes: unseen messages in, each flagged or moved only after it is committed.

Guarantees:
- A message is flagged ``\\Seen`` (and moved to the mailbox's done folder, when it has one) only
  after ``email_receive`` has returned, i.e. after its transaction committed. A poller killed
  between the two leaves the message unseen in the folder; the next poll hands it to
  ``email_receive`` again, whose unique Message-ID makes the second receipt a no-op, so nothing
  is lost and nothing is filed twice.
- A message whose ingest raises stays unseen and is retried on the next poll; the others go on.
- Connection and login errors are logged and reported in the result, never raised: the
  worker's loop must keep running while a mail server is down.

Throughput: messages are fetched in batches (one FETCH for up to ``BATCH`` messages, bounded
by ``BATCH_BYTES``) and settled with one STORE/MOVE per batch. A poll drains the folder for
up to ``POLL_BUDGET`` seconds; a mailbox with mail still waiting stays due, so the worker's
mail thread comes back to it at once instead of after the polling interval.
"""

import logging
import os
import re
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from imaplib import IMAP4

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags
from imap_tools.errors import ImapToolsError

from vuoro.channels.models import Mailbox

log = logging.getLogger(__name__)
Server = MailBox | MailBoxStartTls | MailBoxUnencrypted

# How often the worker polls each mailbox; the fault tests run workers with a shorter interval.
POLL_SECONDS = float(os.environ.get("VUORO_EMAIL_POLL_INTERVAL", "30"))
CONNECT_TIMEOUT = 15.0
BATCH = 50
BATCH_BYTES = 32 * 1024 * 1024
POLL_BUDGET = 10.0
# A poll's lease on its mailbox: the time budget, one more batch and the connection timeouts.
LEASE_SECONDS = POLL_BUDGET + 15.0
UID_RE = re.compile(rb"UID (\d+)")
SIZE_RE = re.compile(rb"UID (\d+).*RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+).*UID (\d+)")


@dataclass
class PollResult:
    mailbox_id: int
    fetched: int = 0
    received: int = 0
    failed: int = 0
    more: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and not self.failed


def _tls_context() -> ssl.SSLContext:
    """Certificates are verified: by the system's CAs, or by VUORO_IMAP_CA_FILE for a private CA."""
    return ssl.create_default_context(cafile=getattr(settings, "VUORO_IMAP_CA_FILE", "") or None)


def _connect(mailbox: Mailbox) -> Server:
    server: Server
    if mailbox.imap_ssl:
        server = MailBox(mailbox.imap_host, mailbox.imap_port, timeout=CONNECT_TIMEOUT,
                         ssl_context=_tls_context())
    elif mailbox.imap_starttls:
        server = MailBoxStartTls(mailbox.imap_host, mailbox.imap_port, timeout=CONNECT_TIMEOUT,
                                 ssl_context=_tls_context())
    else:
        server = MailBoxUnencrypted(mailbox.imap_host, mailbox.imap_port, timeout=CONNECT_TIMEOUT)
    server.login(mailbox.imap_username, mailbox.imap_password, initial_folder=mailbox.imap_folder)
    if mailbox.imap_done_folder and not server.folder.exists(mailbox.imap_done_folder):
        server.folder.create(mailbox.imap_done_folder)
    return server


def _sizes(server: Server, uids: list[str]) -> dict[str, int]:
    status, data = server.client.uid("FETCH", ",".join(uids), "(UID RFC822.SIZE)")
    sizes: dict[str, int] = {}
    for line in data if status == "OK" else ():
        match = SIZE_RE.search(line if isinstance(line, bytes) else line[0])
        if match:
            uid, size = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
            sizes[uid.decode()] = int(size)
    return sizes


def _batches(server: Server, uids: list[str]) -> Iterator[list[str]]:
    """``uids`` in fetch order, cut so one batch holds at most BATCH messages and BATCH_BYTES."""
    sizes = _sizes(server, uids)
    batch: list[str] = []
    held = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= BATCH or held + size > BATCH_BYTES):
            yield batch
            batch, held = [], 0
        batch.append(uid)
        held += size
    if batch:
        yield batch


def _fetch(server: Server, uids: list[str]) -> dict[str, bytes]:
    """Each message's bytes exactly as stored, by UID (BODY.PEEK leaves \\Seen alone)."""
    status, data = server.client.uid("FETCH", ",".join(uids), "(UID BODY.PEEK[])")
    found: dict[str, bytes] = {}
    for item in data if status == "OK" else ():
        if isinstance(item, tuple):
            match = UID_RE.search(item[0])
            if match:
                found[match.group(1).decode()] = item[1]
    return found


def _settle(server: Server, mailbox: Mailbox, uids: list[str]) -> None:
    """Committed messages: flagged seen, and moved to the done folder if there is one."""
    if not uids:
        return
    server.flag(uids, MailMessageFlags.SEEN, True)
    if mailbox.imap_done_folder:
        server.move(uids, mailbox.imap_done_folder)


def _waiting(mailbox: Mailbox) -> AND:
    """With a done folder, all that is left in the folder waits, even what a person opened in
    a mail client; without one, the \\Seen flag is the only mark of what was received."""
    return AND(all=True) if mailbox.imap_done_folder else AND(seen=False)


def _receive(*, raw: bytes, mailbox: Mailbox, now: datetime | None) -> None:
    # Imported here: the ingest service imports the ticket apps, which the scheduler loads later.
    from vuoro.channels.services import email_receive

    email_receive(raw=raw, mailbox=mailbox, now=now)


def mailbox_poll(*, mailbox: Mailbox, now: datetime | None = None, budget: float = POLL_BUDGET,
                 keep: Callable[[], bool] | None = None) -> PollResult:
    """Receive the unseen messages of one mailbox for up to ``budget`` seconds; see the guarantees.

    The budget is checked after every batch, and so is ``keep`` (the lease's renewal): a poll
    that may not go on stops there, its mailbox left due.
    """
    result = PollResult(mailbox_id=mailbox.pk)
    left_unseen: set[str] = set()
    deadline = time.monotonic() + budget
    try:
        with _connect(mailbox) as server:
            while uids := [uid for uid in server.uids(_waiting(mailbox)) if uid not in left_unseen]:
                for batch in _batches(server, uids[:BATCH * 4]):
                    raws = _fetch(server, batch)
                    done = []
                    for uid in batch:
                        if uid not in raws:
                            left_unseen.add(uid)  # expunged meanwhile, or unreadable: next poll
                            continue
                        result.fetched += 1
                        try:
                            _receive(raw=raws.pop(uid), mailbox=mailbox, now=now)
                        except Exception:
                            # Left unseen: the next poll tries again, and the Message-ID keeps it single.
                            log.exception("mailbox %s: message uid %s not received", mailbox.pk, uid)
                            result.failed += 1
                            left_unseen.add(uid)
                            continue
                        done.append(uid)
                    _settle(server, mailbox, done)
                    result.received += len(done)
                    if time.monotonic() >= deadline or (keep is not None and not keep()):
                        result.more = True  # the rest waits for the next poll, which comes at once
                        break
                if result.more:
                    break
    except (OSError, IMAP4.error, ImapToolsError, EOFError) as error:
        result.error = f"{type(error).__name__}: {error}"
        log.warning("mailbox %s: poll failed: %s", mailbox.pk, result.error)
    if not result.more:
        Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=now or timezone.now())
    return result


def mailboxes_poll(*, now: datetime | None = None, every: float = POLL_SECONDS) -> list[PollResult]:
    """Poll every active IMAP mailbox not polled in the last ``every`` seconds and not being
    polled by another worker (see ``Lease``). A mailbox whose poll fails in a way nobody
    foresaw is logged and skipped, so the others are still polled."""
    at = now or timezone.now()
    due = Mailbox.objects.filter(active=True).exclude(imap_host="").exclude(
        last_polled_at__gt=at - timedelta(seconds=every),
    ).select_related("service", "team")
    results = []
    for mailbox in due:
        lease = Lease.take(mailbox)
        if lease is None:
            continue
        try:
            results.append(mailbox_poll(mailbox=mailbox, now=now, keep=lease.renew))
        except Exception as error:  # noqa: BLE001 - one mailbox must not stop the others
            log.exception("mailbox %s: poll failed", mailbox.pk)
            Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=now or timezone.now())
            results.append(PollResult(mailbox_id=mailbox.pk, error=f"{type(error).__name__}: {error}"))
        finally:
            lease.give_back()
    return results


@dataclass
class Lease:
    """A worker's claim on one mailbox while it polls, by compare-and-set (SQLite too).

    Only an optimisation: two workers that both poll still receive each message once (the
    unique Message-ID). Renewed after every batch; a worker killed mid-poll holds the mailbox
    until the lease runs out, ``LEASE_SECONDS`` at most.
    """

    mailbox_id: int
    until: datetime

    @classmethod
    def take(cls, mailbox: Mailbox) -> "Lease | None":
        now = timezone.now()
        until = now + timedelta(seconds=LEASE_SECONDS)
        free = Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now)
        taken = Mailbox.objects.filter(free, pk=mailbox.pk).update(poll_lease_until=until)
        return cls(mailbox.pk, until) if taken else None

    def renew(self) -> bool:
        """Still ours: pushed on by LEASE_SECONDS. False when another worker has taken it."""
        until = timezone.now() + timedelta(seconds=LEASE_SECONDS)
        if not Mailbox.objects.filter(pk=self.mailbox_id, poll_lease_until=self.until).update(
                poll_lease_until=until):
            return False
        self.until = until
        return True

    def give_back(self) -> None:
        Mailbox.objects.filter(pk=self.mailbox_id, poll_lease_until=self.until).update(poll_lease_until=None)


def email_poll() -> int:
    """The worker's mail step: due mailboxes polled; returns how many messages were received."""
    return sum(result.received for result in mailboxes_poll())
