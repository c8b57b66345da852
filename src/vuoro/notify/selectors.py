"""Reads on notifications: a person's desk inbox, contact methods, and the outbox queues."""

from datetime import datetime

from django.db.models import Count, QuerySet

from vuoro.accounts.models import User
from vuoro.notify.models import (
    ContactMethod,
    DeskNotification,
    MessageStatus,
    NotificationRule,
    OutboundEmail,
    OutboundMessage,
    OutboxStatus,
)


def outbox_due(*, now: datetime) -> QuerySet[OutboundEmail]:
    """Pending emails whose next attempt is due, oldest first (the partial index ``outbox_due``)."""
    return OutboundEmail.objects.filter(
        status=OutboxStatus.PENDING, next_attempt_at__lte=now,
    ).order_by("next_attempt_at", "id")


def outbox_counts() -> dict[str, int]:
    """Emails per status, every status present; what an operator checks first."""
    return _counts(OutboundEmail.objects.all(), OutboxStatus.values)


def _counts(rows: QuerySet, statuses: list[str]) -> dict[str, int]:  # type: ignore[type-arg]
    counts = dict.fromkeys(statuses, 0)
    for row in rows.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def desk_notifications_for(*, user: User, unread_only: bool = False) -> QuerySet[DeskNotification]:
    """The user's own notices, newest first; nobody sees another person's inbox."""
    notices = DeskNotification.objects.filter(user=user).select_related("ticket")
    if unread_only:
        notices = notices.filter(read_at__isnull=True)
    return notices.order_by("-created_at", "-id")


def messages_due(*, now: datetime) -> QuerySet[OutboundMessage]:
    """Pending paging messages whose next attempt is due (the partial index ``notify_message_due``)."""
    return OutboundMessage.objects.filter(
        status=MessageStatus.PENDING, next_attempt_at__lte=now,
    ).order_by("next_attempt_at", "id")


def message_counts() -> dict[str, int]:
    """Paging messages per status, every status present."""
    return _counts(OutboundMessage.objects.all(), MessageStatus.values)


def contact_methods_for(*, user: User) -> QuerySet[ContactMethod]:
    """The user's own contact methods; nobody lists another person's."""
    return ContactMethod.objects.filter(user=user).order_by("kind", "id")


def notification_rules_for(*, user: User) -> QuerySet[NotificationRule]:
    """The user's own rules, soonest first, with their contact method."""
    return (NotificationRule.objects.filter(user=user).select_related("contact_method")
            .order_by("delay_minutes", "id"))
