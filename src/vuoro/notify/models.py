"""Notifications: an in-desk inbox and a durable outbox of email.

Outgoing mail is written in the same transaction as the event that causes it; a sender claims
rows, marks them ``sending`` before talking to the server and ``sent`` after. A row found in
``sending`` after a crash is marked ``unknown`` and not sent again blindly.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DeskNotification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_notifications")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    text = models.CharField(max_length=300)
    key = models.CharField(max_length=200, unique=True, help_text="Idempotency key: one notice per cause.")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="desk_notice_inbox")]

    def __str__(self) -> str:
        return self.text


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown")


class OutboundEmail(models.Model):
    key = models.CharField(max_length=200, unique=True, help_text="Idempotency key: one message per cause and recipient.")
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["next_attempt_at"], name="outbox_due",
                                condition=models.Q(status="pending"))]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"
