"""Notifications: an in-desk inbox, a durable outbox of email and paging messages.

Outgoing mail is written in the same transaction as the event that causes it; a sender claims
rows, marks them ``sending`` before talking to the server and ``sent`` after. A row found in
``sending`` after a crash is marked ``unknown`` and not sent again blindly.

Paging reaches people through their contact methods (email, SMS, Slack, Teams, webhook) by
the same outbox pattern: ``OutboundMessage`` rows, one ``DeliveryAttempt`` per try.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
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


class OutboxRow(models.Model):
    """What every outbox row carries for the sender: tries, when next, the claim that holds it."""

    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        abstract = True


class OutboundEmail(OutboxRow):
    key = models.CharField(max_length=200, unique=True, help_text="Idempotency key: one message per cause and recipient.")
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    html_body = models.TextField(blank=True, default="", help_text="HTML alternative; empty for text only.")
    headers = models.JSONField(default=dict, blank=True,
                               help_text="Extra headers, e.g. In-Reply-To and References for threading.")
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)

    class Meta:
        indexes = [models.Index(fields=["next_attempt_at"], name="outbox_due",
                                condition=models.Q(status="pending"))]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


class EmailPreference(models.Model):
    """A desk user's choice of email about their tickets; no row means the default (on)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="email_preference", verbose_name=_("person"))
    about_my_tickets = models.BooleanField(_("email me about my tickets"), default=True)

    class Meta:
        verbose_name = _("email preference")
        verbose_name_plural = _("email preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.about_my_tickets}"


# Paging transports -------------------------------------------------------------------------


class ContactKind(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message (SMS)")
    SLACK = "slack", _("Slack")
    TEAMS = "teams", _("Microsoft Teams")
    WEBHOOK = "webhook", _("Webhook")


class ContactMethod(models.Model):
    """One way to reach a person: an address of one kind, checked by that kind's transport."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="contact_methods", verbose_name=_("person"))
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    label = models.CharField(_("label"), max_length=80, blank=True)
    address = models.CharField(_("address"), max_length=500)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("contact method")
        verbose_name_plural = _("contact methods")
        ordering = ["user_id", "kind", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "kind", "address"],
                                               name="notify_contact_once_per_user")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label or self.address}"

    def clean(self) -> None:
        """The address must be usable by the kind's transport; it is stored normalised."""
        from vuoro.notify.transports import check_address

        if self.kind in ContactKind.values:
            self.address = check_address(self.kind, self.address)


class NotificationRule(models.Model):
    """Reach the person on one contact method, ``delay_minutes`` after a page starts."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_rules", verbose_name=_("person"))
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE,
                                       related_name="rules", verbose_name=_("contact method"))
    delay_minutes = models.PositiveIntegerField(
        _("delay in minutes"), default=0, validators=[MinValueValidator(0), MaxValueValidator(1440)])

    class Meta:
        verbose_name = _("notification rule")
        verbose_name_plural = _("notification rules")
        ordering = ["user_id", "delay_minutes", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact_method", "delay_minutes"],
                                    name="notify_rule_once_per_delay"),
            models.CheckConstraint(condition=models.Q(delay_minutes__gte=0),
                                   name="notify_rule_delay_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_method} +{self.delay_minutes} min"

    def clean(self) -> None:
        if self.contact_method_id and self.user_id and self.contact_method.user_id != self.user_id:
            raise ValidationError({"contact_method": _("Choose one of your own contact methods.")})


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown")
    CANCELLED = "cancelled", _("Cancelled")


class OutboundMessage(OutboxRow):
    """One notification to one contact method; the kind and address are a snapshot.

    Written in the transaction of its cause; the sender claims it (``sending``, committed),
    talks to the provider, then settles it. The contact method may be deleted later; the
    snapshot still says where the message went.
    """

    key = models.CharField(max_length=200, unique=True,
                           help_text="Idempotency key: one message per cause and contact method.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+")
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.SET_NULL, null=True,
                                       blank=True, related_name="messages")
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    address = models.CharField(max_length=500)
    title = models.CharField(max_length=300)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=MessageStatus.choices,
                              default=MessageStatus.PENDING)
    # While ``sending``: the sending worker renews the lease; one that lapsed means the worker
    # died (or, on the same host, its process is gone) and the watchdog settles the row unknown.
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=120, blank=True,
                                  help_text="The sending process: host, process id and start time.")

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        indexes = [models.Index(fields=["next_attempt_at"], name="notify_message_due",
                                condition=models.Q(status="pending")),
                   models.Index(fields=["lease_until"], name="notify_message_leased",
                                condition=models.Q(status="sending"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.address}: {self.title}"


class AttemptOutcome(models.TextChoices):
    SENT = "sent", _("Sent")
    TRANSIENT = "transient", _("Temporary error, retried")
    PERMANENT = "permanent", _("Refused for good")
    UNKNOWN = "unknown", _("Outcome unknown")


class DeliveryAttempt(models.Model):
    """One try at sending a message, as the provider answered it."""

    message = models.ForeignKey(OutboundMessage, on_delete=models.CASCADE,
                                related_name="delivery_attempts")
    at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.outcome}"
