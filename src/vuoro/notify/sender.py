"""The outbox sender: claim due emails, send each once, record what happened.

Each row is marked ``sending`` and committed before the mail server is contacted, and marked
``sent`` after. A sender killed in between leaves the row in ``sending``; the watchdog turns it
``unknown`` and nothing resends it automatically, so a crash costs at most one message whose
fate is unknown and never a duplicate. Outcomes are fenced by ``claimed_at``: a late answer
from an old claim cannot overwrite a newer one.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.utils import timezone

from vuoro.notify import selectors
from vuoro.notify.models import OutboundEmail, OutboxStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
STUCK_AFTER = timedelta(minutes=2)
DEFAULT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class SendResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    unknown: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.failed or self.retried or self.unknown)


class PermanentFailure(Exception):
    """The server refused for good (5xx, every recipient refused): do not try again."""


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failed attempt, doubling, at most an hour."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


def claim_next(now: datetime) -> OutboundEmail | None:
    """Take the next due pending email and commit it as ``sending``; None when none is due.

    Rows locked by another sender are skipped (PostgreSQL); the status compare-and-set makes
    the claim exclusive on every database.
    """
    with transaction.atomic():
        due = selectors.outbox_due(now=now)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        email = due.first()
        if email is None:
            return None
        claimed = OutboundEmail.objects.filter(pk=email.pk, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.SENDING, claimed_at=now,
        )
        if not claimed:
            return None
    email.status, email.claimed_at = OutboxStatus.SENDING, now
    return email


def message_id(email: OutboundEmail) -> str:
    """Stable per row, so a receiving server can drop a copy an operator chose to resend."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "vuoro.invalid"
    return f"<vuoro-outbox-{email.pk}@{domain}>"


def deliver(email: OutboundEmail) -> None:
    """Hand one email to the configured backend; raises on any refusal or network error."""
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or DEFAULT_TIMEOUT_SECONDS
    mail = EmailMessage(
        subject=email.subject, body=email.body, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to], connection=get_connection(fail_silently=False, timeout=timeout),
        headers={"Message-ID": message_id(email), "Auto-Submitted": "auto-generated"},
    )
    try:
        accepted = mail.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        if all(code >= 500 for code in codes):
            raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
        raise
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:
            raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        raise
    if not accepted:
        raise PermanentFailure("the backend accepted no recipient")


def _settle(email: OutboundEmail, **fields: object) -> bool:
    """Record an outcome unless another claim took the row meanwhile."""
    return bool(OutboundEmail.objects.filter(
        pk=email.pk, claimed_at=email.claimed_at,
        status__in=[OutboxStatus.SENDING, OutboxStatus.UNKNOWN],
    ).update(**fields))


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
    """Send a claimed email and record the outcome; returns the status it ends in.

    ``unknown`` when the outcome could not be recorded (the row was claimed anew meanwhile, or
    the database failed): the row is then left to the watchdog, never sent again from here.
    """
    fields = _outcome(email, now)
    try:
        recorded = _settle(email, **fields)
    except Exception:  # noqa: BLE001 - the send happened; the watchdog settles the row
        logger.exception("Could not record the outcome of email %s", email.pk)
        recorded = False
    return str(fields["status"]) if recorded else OutboxStatus.UNKNOWN


def send_outbox(*, now: datetime | None = None, batch: int = 50) -> SendResult:
    """Send up to ``batch`` due emails, one claim and one commit per email.

    Safe to run in many processes at once: each email is claimed by one sender only.
    """
    now = now or timezone.now()
    counts = dict.fromkeys(OutboxStatus.values, 0)
    for _ in range(batch):
        email = claim_next(now)
        if email is None:
            break
        outcome = send_one(email, now)
        counts[outcome] += 1
        if outcome != OutboxStatus.SENT:
            logger.warning("Email %s to %s: %s", email.pk, email.to, outcome)
    return SendResult(sent=counts[OutboxStatus.SENT], failed=counts[OutboxStatus.FAILED],
                      retried=counts[OutboxStatus.PENDING], unknown=counts[OutboxStatus.UNKNOWN])


def recover_stuck_sends(*, now: datetime | None = None) -> int:
    """Mark emails left in ``sending`` for over two minutes as ``unknown``; returns how many.

    The sender that claimed them died or hung: the message may or may not have left, so it is
    not resent automatically; an operator decides (admin action "send again").
    """
    now = now or timezone.now()
    stuck = OutboundEmail.objects.filter(status=OutboxStatus.SENDING, claimed_at__lt=now - STUCK_AFTER)
    count = stuck.update(status=OutboxStatus.UNKNOWN,
                         last_error="The sender stopped while sending; the outcome is unknown.")
    if count:
        logger.warning("Marked %d stuck emails as outcome unknown", count)
    return count
