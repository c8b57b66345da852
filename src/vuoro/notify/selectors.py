"""Reads on notifications: a person's desk inbox and the outbox queue."""

from datetime import datetime

from django.db.models import Count, QuerySet

from vuoro.accounts.models import User
from vuoro.notify.models import DeskNotification, OutboundEmail, OutboxStatus


def outbox_due(*, now: datetime) -> QuerySet[OutboundEmail]:
    """Pending emails whose next attempt is due, oldest first (the partial index ``outbox_due``)."""
    return OutboundEmail.objects.filter(
        status=OutboxStatus.PENDING, next_attempt_at__lte=now,
    ).order_by("next_attempt_at", "id")


def outbox_counts() -> dict[str, int]:
    """Emails per status, every status present; what an operator checks first."""
    counts = dict.fromkeys(OutboxStatus.values, 0)
    for row in OutboundEmail.objects.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def desk_notifications_for(*, user: User, unread_only: bool = False) -> QuerySet[DeskNotification]:
    """The user's own notices, newest first; nobody sees another person's inbox."""
    notices = DeskNotification.objects.filter(user=user).select_related("ticket")
    if unread_only:
        notices = notices.filter(read_at__isnull=True)
    return notices.order_by("-created_at", "-id")
