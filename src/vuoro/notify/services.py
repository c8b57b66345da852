"""Writes on notifications: desk notices, outbox rows, contact methods and the operator's actions.

``notice_send`` and ``contact_notify`` run inside the caller's transaction, so a notice or a
paging message exists exactly when the event that caused it was committed. Keys are unique: a
repeat with the same key writes nothing.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vuoro.accounts.models import User
from vuoro.notify.models import (
    ContactKind,
    ContactMethod,
    DeskNotification,
    MessageStatus,
    NotificationRule,
    OutboundEmail,
    OutboundMessage,
    OutboxStatus,
)
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
    return _requeue(emails, now or timezone.now())


def outbox_mark_failed(*, emails: QuerySet[OutboundEmail], reason: str) -> int:
    """Give up on waiting or unknown emails so nobody sends them; returns the rows changed."""
    return _give_up(emails, reason)


def _requeue(rows: QuerySet, now: datetime) -> int:  # type: ignore[type-arg]
    """Failed or unknown rows of either outbox back in the queue, due now."""
    return rows.filter(status__in=[OutboxStatus.FAILED, OutboxStatus.UNKNOWN]).update(
        status=OutboxStatus.PENDING, next_attempt_at=now, claimed_at=None,
    )


def _give_up(rows: QuerySet, reason: str) -> int:  # type: ignore[type-arg]
    return rows.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.UNKNOWN]).update(
        status=OutboxStatus.FAILED, last_error=reason,
    )


def desk_notifications_mark_read(*, user: User, now: datetime | None = None) -> int:
    """Mark all of the user's unread notices read; returns how many were unread."""
    return DeskNotification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=now or timezone.now())


# --- paging: contact methods, rules and messages ----------------------------------------------

KEY_ROOM = 30  # characters kept free for the per-rule suffix of a message key


def _message(*, user: User, key: str, kind: str, address: str, method: ContactMethod | None,
             title: str, body: str, due: datetime, now: datetime) -> OutboundMessage:
    return OutboundMessage(key=key, user=user, contact_method=method, kind=kind, address=address,
                           title=title[:300], body=body, next_attempt_at=due, created_at=now)


def contact_notify(*, user: User, key: str, title: str, body: str, now: datetime) -> int:
    """Queue a notification for ``user``; returns the message rows written.

    One ``OutboundMessage`` per notification rule, due at ``now`` + the rule's delay, key
    ``f"{key}:rule-{rule.pk}"``. Without rules, one per contact method, due at once
    (``f"{key}:method-{method.pk}"``); without contact methods, one email to the user's address
    (``f"{key}:email"``); an inactive user or one with no way to reach gets nothing. Kind and
    address are snapshotted. Idempotent: existing keys are left alone (unique constraint,
    conflicts ignored), so ``messages_cancel(key_prefix=f"{key}:")`` reaches them all. Call it
    inside the transaction that records the cause; the sender picks the rows up after commit.
    """
    if len(key) > 200 - KEY_ROOM:
        raise ValueError(f"notification key longer than {200 - KEY_ROOM} characters")
    if not user.is_active:
        return 0
    common: dict[str, Any] = {"user": user, "title": title, "body": body, "now": now}
    rules = list(NotificationRule.objects.filter(user=user).select_related("contact_method")
                 .order_by("delay_minutes", "id"))
    methods = [] if rules else list(ContactMethod.objects.filter(user=user).order_by("id"))
    rows = [_message(key=f"{key}:rule-{rule.pk}", kind=rule.contact_method.kind,
                     address=rule.contact_method.address, method=rule.contact_method,
                     due=now + timedelta(minutes=rule.delay_minutes), **common) for rule in rules]
    rows += [_message(key=f"{key}:method-{method.pk}", kind=method.kind, address=method.address,
                      method=method, due=now, **common) for method in methods]
    if not rules and not methods and user.email:
        rows.append(_message(key=f"{key}:email", kind=ContactKind.EMAIL, address=user.email,
                             method=None, due=now, **common))
    keys = {row.key for row in rows}
    existing = set(OutboundMessage.objects.filter(key__in=keys).values_list("key", flat=True))
    OutboundMessage.objects.bulk_create(rows, ignore_conflicts=True)
    return len(keys - existing)


def messages_cancel(*, key_prefix: str, reason: str) -> int:
    """Cancel still-pending messages whose key starts with ``key_prefix``; returns how many.

    Messages being sent, sent, failed or of unknown outcome are untouched; repeating the call
    changes nothing more. Runs in the caller's transaction.
    """
    if not key_prefix:
        raise ValueError("key_prefix must not be empty")
    return OutboundMessage.objects.filter(
        key__startswith=key_prefix, status=MessageStatus.PENDING,
    ).update(status=MessageStatus.CANCELLED, last_error=reason[:2000])


def messages_resend(*, messages: QuerySet[OutboundMessage], now: datetime | None = None) -> int:
    """Put failed or unknown messages back in the queue, due now; an operator's decision."""
    return _requeue(messages, now or timezone.now())


def messages_mark_failed(*, messages: QuerySet[OutboundMessage], reason: str) -> int:
    """Give up on waiting or unknown messages so nobody sends them; returns the rows changed."""
    return _give_up(messages, reason)


def contact_method_add(*, user: User, kind: str, address: str, label: str = "",
                       now: datetime | None = None) -> ContactMethod:
    """Add a contact method for ``user``; ``ValidationError`` per field, nothing saved, if unusable.

    The address is checked by its kind's transport and stored normalised (e.g. an E.164 number).
    """
    method = ContactMethod(user=user, kind=kind, label=label.strip(), address=address,
                           created_at=now or timezone.now())
    method.full_clean()
    method.save()
    return method


@transaction.atomic
def contact_method_remove(*, user: User, contact_method_id: int) -> bool:
    """Remove one of the user's own contact methods, its rules, and its still-pending messages.

    Another person's method is "not found" (False). Messages already sent keep their snapshot.
    """
    method = ContactMethod.objects.select_for_update().filter(user=user, pk=contact_method_id).first()
    if method is None:
        return False
    OutboundMessage.objects.filter(contact_method=method, status=MessageStatus.PENDING).update(
        status=MessageStatus.CANCELLED, last_error="The contact method was removed.")
    method.delete()
    return True


def notification_rule_add(*, user: User, contact_method_id: int, delay_minutes: int) -> NotificationRule:
    """Add a rule on one of the user's own contact methods; ``ValidationError`` per field."""
    method = ContactMethod.objects.filter(user=user, pk=contact_method_id).first()
    if method is None:
        raise ValidationError({"contact_method": _("Choose one of your own contact methods.")})
    rule = NotificationRule(user=user, contact_method=method, delay_minutes=delay_minutes)
    rule.full_clean()
    rule.save()
    return rule


def notification_rule_remove(*, user: User, rule_id: int) -> bool:
    """Remove one of the user's own rules; another person's is "not found" (False)."""
    return NotificationRule.objects.filter(user=user, pk=rule_id).delete()[0] > 0
