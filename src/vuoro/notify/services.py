"""Writes on notifications: desk notices and outbox rows, and the operator's outbox actions.

``notice_send`` runs inside the caller's transaction, so a notice exists exactly when the event
that caused it was committed. Keys are unique: a repeat with the same key writes nothing.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone, translation

from vuoro.accounts.models import User
from vuoro.notify.models import DeskNotification, OutboundEmail, OutboxStatus
from vuoro.tickets.models import Ticket


@dataclass(frozen=True)
class Notice:
    """What one person is told: a line in the desk inbox and an email."""

    text: str
    subject: str
    body: str


def notice_recipients(*candidates: User | None) -> list[User]:
    """Distinct active people, in the order given; empty places are skipped."""
    chosen: dict[int, User] = {}
    for user in candidates:
        if user is not None and user.is_active and user.pk not in chosen:
            chosen[user.pk] = user
    return list(chosen.values())


def notice_send(*, users: Iterable[User], ticket: Ticket | None, key: str,
                render: Callable[[User], Notice], now: datetime) -> int:
    """Write one desk notice per user and one outbox email per user with an address.

    ``render`` runs in each user's own language. Row keys are ``f"{key}-{user.pk}"``; rows
    whose key exists are left alone (unique constraint, conflicts ignored), so the call is
    idempotent. Call it inside the transaction that records the cause. Returns the notices
    written.
    """
    notices: list[DeskNotification] = []
    emails: list[OutboundEmail] = []
    for user in users:
        with translation.override(user.language or None):
            notice = render(user)
        row_key = f"{key}-{user.pk}"
        notices.append(DeskNotification(user=user, ticket=ticket, text=notice.text[:300],
                                        key=row_key, created_at=now))
        if user.email:
            emails.append(OutboundEmail(key=row_key, to=user.email, subject=notice.subject[:300],
                                        body=notice.body, next_attempt_at=now, created_at=now))
    DeskNotification.objects.bulk_create(notices, ignore_conflicts=True)
    OutboundEmail.objects.bulk_create(emails, ignore_conflicts=True)
    return len(notices)


def outbox_resend(*, emails: QuerySet[OutboundEmail], now: datetime | None = None) -> int:
    """Put failed or unknown emails back in the queue, due now; an operator's decision.

    Sent, pending and in-flight rows are left alone. Returns the rows requeued.
    """
    now = now or timezone.now()
    return emails.filter(status__in=[OutboxStatus.FAILED, OutboxStatus.UNKNOWN]).update(
        status=OutboxStatus.PENDING, next_attempt_at=now, claimed_at=None,
    )


def outbox_mark_failed(*, emails: QuerySet[OutboundEmail], reason: str) -> int:
    """Give up on waiting or unknown emails so nobody sends them; returns the rows changed."""
    return emails.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.UNKNOWN]).update(
        status=OutboxStatus.FAILED, last_error=reason,
    )


def desk_notifications_mark_read(*, user: User, now: datetime | None = None) -> int:
    """Mark all of the user's unread notices read; returns how many were unread."""
    return DeskNotification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=now or timezone.now())
