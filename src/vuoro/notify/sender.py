"""The outbox senders: claim due rows, send each once, record what happened.

Two outboxes share one pattern: ``OutboundEmail`` (desk mail by SMTP) and ``OutboundMessage``
(paging through each contact kind's transport). Each row is marked ``sending`` and committed
before the provider is contacted, and settled after. A sender killed in between leaves the row
in ``sending``; the watchdog turns it ``unknown`` and nothing resends it automatically, so a
crash costs at most one message whose fate is unknown and never a duplicate. Outcomes are
fenced by ``claimed_at``: a late answer from an old claim cannot overwrite a newer one.

Paging messages also carry a lease: the claim stamps ``claimed_by`` (host, process id and
process start) and ``lease_until`` (``LEASE`` ahead), and the sending process renews it every
``RENEW_EVERY`` while the provider is talking. The watchdog, run by every worker's sender
before each batch, settles a ``sending`` row ``unknown`` as soon as its holder is known dead
(same host, process gone) or its lease has lapsed (holder elsewhere); a holder on this host
that is alive is never touched, even if its renewals are stuck behind the write lock. A page
notification that ends ``unknown`` (here or by a transport timeout after sending) is followed
up in the same transaction: ``paging.services.unknown_outcome_follow_up``.
"""

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.db import DatabaseError, connection, connections, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from vuoro.core import events as domain_events
from vuoro.notify import selectors
from vuoro.notify.models import (
    AttemptOutcome,
    DeliveryAttempt,
    MessageStatus,
    OutboundEmail,
    OutboundMessage,
    OutboxStatus,
)
from vuoro.notify.transports import (
    PERMANENT,
    SENT,
    TRANSIENT,
    Delivery,
    PermanentFailure,
    deliver_message,
    message_id_for,
    smtp_send,
)

__all__ = ["PermanentFailure", "SendResult", "backoff", "claim_due", "claim_next", "claim_message",
           "deliver", "recover_stuck", "recover_stuck_messages", "recover_stuck_sends", "retry_delay",
           "message_retry_delay", "send_message", "send_messages", "send_one", "send_outbox",
           "settle"]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
# Pages are urgent: retry sooner, give up sooner (an operator sees the failure in the admin).
MESSAGE_MAX_ATTEMPTS = 8
MESSAGE_FIRST_RETRY_SECONDS = 15
MESSAGE_MAX_RETRY_SECONDS = 600
STUCK_AFTER = timedelta(minutes=2)
# A paging send holds its row for LEASE and renews it every RENEW_EVERY; a provider answers
# within the transport timeout, so a live sender renews several times per send.
LEASE = timedelta(seconds=3)
RENEW_EVERY = 0.5

Row = TypeVar("Row", bound=models.Model)
# Claims (pk, claimed_at) this process gave up settling: its process lives, its send does not.
_abandoned: set[tuple[object, object]] = set()


@dataclass(frozen=True)
class SendResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    unknown: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.failed or self.retried or self.unknown)


def backoff(attempts: int, *, first: int, cap: int) -> timedelta:
    """``first`` seconds after the first failed attempt, doubling, at most ``cap``."""
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), cap))


def retry_delay(attempts: int) -> timedelta:
    """Email: 30 s after the first failed attempt, doubling, at most an hour."""
    return backoff(attempts, first=FIRST_RETRY_SECONDS, cap=MAX_RETRY_SECONDS)


def message_retry_delay(attempts: int) -> timedelta:
    """Paging messages: 15 s after the first failed attempt, doubling, at most ten minutes."""
    return backoff(attempts, first=MESSAGE_FIRST_RETRY_SECONDS, cap=MESSAGE_MAX_RETRY_SECONDS)


# --- shared outbox mechanics (both outboxes use the same status values) -----------------------


def claim_due(model: type[Row], due: QuerySet[Row], now: datetime, **extra: object) -> Row | None:
    """Take the first due pending row and commit it as ``sending``; None when none is due.

    Any outbox whose model has ``status`` (the ``OutboxStatus`` values) and ``claimed_at`` can
    use it, so every sender claims the same way. Rows locked by another sender are skipped
    (PostgreSQL); the status compare-and-set makes the claim exclusive on every database.
    ``extra`` fields are set with the claim (a paging message's lease).
    """
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        row = due.first()
        if row is None:
            return None
        claimed = model._default_manager.filter(pk=row.pk, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.SENDING, claimed_at=now, **extra,
        )
        if not claimed:
            return None
    row.status, row.claimed_at = OutboxStatus.SENDING, now  # type: ignore[attr-defined]
    for name, value in extra.items():
        setattr(row, name, value)
    return row


def settle(model: type[Row], row: Row, **fields: object) -> bool:
    """Record an outcome unless another claim took the row meanwhile; True when recorded.

    Fenced by ``claimed_at``: a late answer from an old claim cannot overwrite a newer one.
    """
    return bool(model._default_manager.filter(
        pk=row.pk, claimed_at=row.claimed_at,  # type: ignore[attr-defined]
        status__in=[OutboxStatus.SENDING, OutboxStatus.UNKNOWN],
    ).update(**fields))


def recover_stuck(model: type[models.Model], now: datetime) -> int:
    """Rows left in ``sending`` for over two minutes become ``unknown``; returns how many.

    Their sender died or hung mid-send, so the message may have left: ``unknown`` keeps them
    from being sent again automatically.
    """
    stuck = model._default_manager.filter(status=OutboxStatus.SENDING,
                                          claimed_at__lt=now - STUCK_AFTER)
    count = stuck.update(status=OutboxStatus.UNKNOWN,
                         last_error="The sender stopped while sending; the outcome is unknown.")
    if count:
        logger.warning("Marked %d stuck %s rows as outcome unknown", count, model._meta.model_name)
    return count


def _record(row: Row, fields: dict[str, object], also: models.Model | None = None,
            then: Callable[[], object] | None = None) -> str:
    """Settle a sent row (and save ``also`` with it); returns the status it ends in.

    ``then`` runs in the same transaction once the outcome is recorded. ``unknown`` when the
    outcome could not be recorded (the row was claimed anew meanwhile, or the database
    failed): the row is then left to the watchdog, never sent again from here.
    """
    try:
        with transaction.atomic():
            recorded = settle(type(row), row, **fields)
            if also is not None:
                also.save()
            if recorded and then is not None:
                then()
    except Exception:  # noqa: BLE001 - the send happened; the watchdog settles the row
        logger.exception("Could not record the outcome of %s %s", row._meta.model_name, row.pk)
        recorded = False
        _abandoned.add((row.pk, getattr(row, "claimed_at", None)))
    return str(fields["status"]) if recorded else OutboxStatus.UNKNOWN


def _drain(claim: Callable[[datetime], Row | None], send: Callable[[Row, datetime], str],
           now: datetime, batch: int) -> SendResult:
    """Claim and send up to ``batch`` rows, one claim and one commit per row."""
    counts = dict.fromkeys(OutboxStatus.values, 0)
    for _ in range(batch):
        row = claim(now)
        if row is None:
            break
        outcome = send(row, now)
        counts[outcome] += 1
        if outcome != OutboxStatus.SENT:
            logger.warning("%s %s: %s", row._meta.model_name, row.pk, outcome)
    return SendResult(sent=counts[OutboxStatus.SENT], failed=counts[OutboxStatus.FAILED],
                      retried=counts[OutboxStatus.PENDING], unknown=counts[OutboxStatus.UNKNOWN])


# --- email ------------------------------------------------------------------------------------


def claim_next(now: datetime) -> OutboundEmail | None:
    """Take the next due pending email and commit it as ``sending``; None when none is due."""
    return claim_due(OutboundEmail, selectors.outbox_due(now=now), now)


def message_id(email: OutboundEmail) -> str:
    """Stable per row, so a receiving server can drop a copy an operator chose to resend."""
    return message_id_for("outbox", email.pk)


def deliver(email: OutboundEmail) -> None:
    """Hand one email to the configured backend; raises on any refusal or network error.

    A row with an HTML alternative or extra headers (requester mail: threading, loop guard)
    goes out as multipart/alternative with those headers; others as plain text.
    """
    smtp_send(to=email.to, subject=email.subject, body=email.body, message_id=message_id(email),
              html_body=email.html_body, headers=email.headers)


def _outcome(email: OutboundEmail, now: datetime) -> dict[str, object]:
    """Send a claimed email; returns the fields that record what happened."""
    attempts = email.attempts + 1
    try:
        deliver(email)
    except PermanentFailure as exc:
        return {"status": OutboxStatus.FAILED, "attempts": attempts, "last_error": str(exc)[:2000]}
    except Exception as exc:  # noqa: BLE001 - network, timeout, 4xx: try again later
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if attempts >= MAX_ATTEMPTS:
            return {"status": OutboxStatus.FAILED, "attempts": attempts, "last_error": error}
        return {"status": OutboxStatus.PENDING, "attempts": attempts, "last_error": error,
                "next_attempt_at": now + retry_delay(attempts), "claimed_at": None}
    return {"status": OutboxStatus.SENT, "attempts": attempts, "sent_at": timezone.now(),
            "last_error": ""}


def send_one(email: OutboundEmail, now: datetime) -> str:
    """Send a claimed email and record the outcome; returns the status it ends in."""
    return _record(email, _outcome(email, now))


def send_outbox(*, now: datetime | None = None, batch: int = 50) -> SendResult:
    """Send up to ``batch`` due emails. Safe to run in many processes at once."""
    return _drain(claim_next, send_one, now or timezone.now(), batch)


def recover_stuck_sends(*, now: datetime | None = None) -> int:
    """Mark emails left in ``sending`` for over two minutes as ``unknown``; returns how many.

    The sender that claimed them died or hung: the message may or may not have left, so it is
    not resent automatically; an operator decides (admin action "send again").
    """
    return recover_stuck(OutboundEmail, now or timezone.now())


# --- paging messages --------------------------------------------------------------------------


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks (``/proc``), or None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def claimant() -> str:
    """This process as a lease holder: host, process id and start time (so a reused id differs)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid) or ''}"[:120]


def holder_alive(claimed_by: str) -> bool | None:
    """True or False for a holder on this host (its process is there or not); None elsewhere."""
    parts = claimed_by.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or parts[0] != socket.gethostname():
        return None
    return bool(parts[2]) and _process_start(int(parts[1])) == parts[2]


def claim_message(now: datetime) -> OutboundMessage | None:
    """Take the next due pending message and commit it as ``sending``, leased to this process."""
    return claim_due(OutboundMessage, selectors.messages_due(now=now), now,
                     claimed_by=claimant(), lease_until=timezone.now() + LEASE)


@contextmanager
def _leased(message: OutboundMessage) -> Iterator[None]:
    """Renew the message's lease every ``RENEW_EVERY`` seconds until the block ends.

    The renewals use a connection of their own, one short write each. Inside a transaction
    (the row is invisible to others, so nobody can take it) there is nothing to renew.
    """
    if connection.in_atomic_block:
        yield
        return
    done = threading.Event()

    def renew() -> None:
        try:
            while not done.wait(RENEW_EVERY):
                try:
                    OutboundMessage.objects.filter(
                        pk=message.pk, claimed_at=message.claimed_at, status=MessageStatus.SENDING,
                    ).update(lease_until=timezone.now() + LEASE)
                except DatabaseError:
                    logger.warning("Could not renew the lease of message %s", message.pk)
        finally:
            connections.close_all()  # this thread's own connection

    renewer = threading.Thread(target=renew, name=f"vuoro-lease-{message.pk}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()


def _message_fields(message: OutboundMessage, delivery: Delivery, now: datetime) -> dict[str, object]:
    """The row's fields after one try: sent, failed for good, retried later or unknown."""
    attempts = message.attempts + 1
    error = "" if delivery.outcome == SENT else (delivery.detail or delivery.outcome)
    done = {"attempts": attempts, "lease_until": None}
    if delivery.outcome == SENT:
        return {"status": MessageStatus.SENT, "sent_at": timezone.now(), "last_error": "", **done}
    if delivery.outcome == PERMANENT or (delivery.outcome == TRANSIENT and attempts >= MESSAGE_MAX_ATTEMPTS):
        return {"status": MessageStatus.FAILED, "last_error": error, **done}
    if delivery.outcome == TRANSIENT:
        return {"status": MessageStatus.PENDING, "last_error": error, "claimed_at": None,
                "next_attempt_at": now + message_retry_delay(attempts), **done}
    return {"status": MessageStatus.UNKNOWN, "last_error": error, **done}


OUTCOME_UNKNOWN = "message.outcome_unknown"  # inline: the paging app moves on at once


def _follow_up(message: OutboundMessage) -> None:
    """A page notification just became unknown: tell whoever moves on (the paging app
    subscribes inline, so it happens in this same transaction)."""
    message.refresh_from_db()
    domain_events.publish(OUTCOME_UNKNOWN, at=timezone.now(), subject=message)


def send_message(message: OutboundMessage, now: datetime) -> str:
    """Send a claimed message, write its ``DeliveryAttempt`` and settle it; returns the status.

    The lease is renewed while the provider is contacted. The attempt row is written even when
    the settle is fenced out (the try did happen). An ``unknown`` outcome is followed up in
    the settling transaction. ``unknown`` is also returned when the outcome could not be
    recorded; the watchdog then owns the row.
    """
    with _leased(message):
        delivery = deliver_message(message)
    attempt = DeliveryAttempt(message_id=message.pk, at=timezone.now(),
                              outcome=AttemptOutcome(delivery.outcome),
                              http_status=delivery.http_status, detail=delivery.detail[:2000])
    fields = _message_fields(message, delivery, now)
    then = (lambda: _follow_up(message)) if fields["status"] == MessageStatus.UNKNOWN else None
    return _record(message, fields, also=attempt, then=then)


def send_messages(*, now: datetime | None = None, batch: int = 50) -> SendResult:
    """Settle sends whose holder died, then send up to ``batch`` due paging messages.

    Safe to run in many processes at once.
    """
    recovered = recover_stuck_messages()
    result = _drain(claim_message, send_message, now or timezone.now(), batch)
    return SendResult(sent=result.sent, failed=result.failed, retried=result.retried,
                      unknown=result.unknown + recovered)


def recover_stuck_messages(*, now: datetime | None = None) -> int:
    """Settle ``unknown`` the paging sends whose holder is gone; returns how many.

    A row in ``sending`` is taken when its holder is on this host and its process is gone,
    or its holder is elsewhere and its lease has lapsed (a row from before leases: two
    minutes after its claim). A live holder on this host is left alone. Each row is settled
    with a compare-and-set on its claim and lease and followed up in the same transaction.
    It is never resent automatically.
    """
    now = now or timezone.now()
    count = 0
    for row in OutboundMessage.objects.filter(status=MessageStatus.SENDING).order_by("id"):
        alive = holder_alive(row.claimed_by) if row.claimed_by else None
        if (row.pk, row.claimed_at) in _abandoned:
            alive = False  # held by this process, which could not record the outcome
        lapsed = (row.lease_until < now if row.lease_until is not None
                  else row.claimed_at is None or row.claimed_at < now - STUCK_AFTER)
        if alive or (alive is None and not lapsed):
            continue
        with transaction.atomic():
            taken = OutboundMessage.objects.filter(
                pk=row.pk, status=MessageStatus.SENDING, claimed_at=row.claimed_at,
                lease_until=row.lease_until,
            ).update(status=MessageStatus.UNKNOWN, lease_until=None,
                     last_error="The sender stopped while sending; the outcome is unknown.")
            if taken:
                _follow_up(row)
        count += taken
    if count:
        logger.warning("Marked %d paging sends of a stopped sender as outcome unknown", count)
    return count
