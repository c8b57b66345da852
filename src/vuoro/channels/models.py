"""Mailboxes that receive requests by email, and a record of every message received.

Every inbound message leaves exactly one InboundEmail row, whatever happened to it, so each
message is accounted for. A message is its Message-ID and its content's fingerprint, unique
together: receiving the same message twice (a poller restarted, a mail server redelivering) is
recognised by the database, not by a race-prone check, while a different message reusing a
Message-ID is kept and flagged.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# Raw messages larger than this are not stored in full (the parsed content still is).
RAW_STORE_LIMIT = 2 * 1024 * 1024


STOPS_WORK_CHOICES = (("yes", _("Yes, work stops")), ("partly", _("Partly")), ("no", _("No")))


class UnknownSenders(models.TextChoices):
    CREATE_CONTACT = "create_contact", _("Create a requester contact")
    REFUSE = "refuse", _("Refuse the message")


class Mailbox(models.Model):
    """An address that takes requests; IMAP settings are used when the mailbox is polled."""

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("address"), unique=True)
    service = models.ForeignKey(
        "catalog.Service", verbose_name=_("service"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="mailboxes",
        help_text=_("Requests arriving here are filed under this service."),
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="mailboxes",
        help_text=_("New requests go to this team instead of the service's routing; empty routes "
                    "them as the service does."),
    )
    stops_work = models.CharField(
        _("does mail here stop work?"), max_length=10, choices=STOPS_WORK_CHOICES, default="no",
        help_text=_("The triage answer for new requests by mail, as the portal asks it: \"yes\" for "
                    "an address kept for outages, so that out of hours they are handled at once."),
    )
    trust_importance = models.BooleanField(
        _("urgent mail stops work"), default=False,
        help_text=_("Mail its sender marked urgent or of high importance counts as stopping work, "
                    "when the sender is a known customer (of an organisation, or with an account)."),
    )
    imap_host = models.CharField(_("IMAP host"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_username = models.CharField(_("IMAP username"), max_length=255, blank=True)
    imap_password = models.CharField(_("IMAP password"), max_length=255, blank=True)
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")
    imap_ssl = models.BooleanField(_("IMAP over TLS"), default=True)
    imap_starttls = models.BooleanField(
        _("upgrade with STARTTLS"), default=False,
        help_text=_("For a server on port 143 that offers STARTTLS; ignored over TLS."),
    )
    imap_done_folder = models.CharField(
        _("folder for handled mail"), max_length=255, blank=True,
        help_text=_("Received messages are moved here after they are stored; empty leaves them in "
                    "place, marked as read. The folder is created if it does not exist."),
    )
    unknown_senders = models.CharField(
        _("unknown senders"), max_length=20, choices=UnknownSenders.choices,
        default=UnknownSenders.CREATE_CONTACT,
    )
    inbound_secret = models.CharField(
        _("inbound secret"), max_length=128, blank=True,
        help_text=_("Bearer secret a mail gateway may use to post raw messages to this mailbox."),
    )
    active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True)
    poll_lease_until = models.DateTimeField(
        _("being polled until"), null=True, blank=True, editable=False,
        help_text=_("Set while a worker polls the mailbox, so two workers do not fetch the same mail."),
    )

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def clean(self) -> None:
        errors = {}
        if self.service_id is None:
            errors["service"] = _("Choose the service new requests by mail are filed under.")
        if self.imap_starttls and not self.imap_ssl and self.imap_port == 993:
            errors["imap_port"] = _("Port 993 is for IMAP over TLS; STARTTLS is offered on port 143.")
        if errors:
            raise ValidationError(errors)


class Outcome(models.TextChoices):
    TICKET_CREATED = "ticket_created", _("Ticket created")
    REPLY_ADDED = "reply_added", _("Reply added")
    REJECTED = "rejected", _("Rejected")
    IGNORED_LOOP = "ignored_loop", _("Ignored (automatic or loop)")
    DUPLICATE = "duplicate", _("Duplicate")


class InboundEmail(models.Model):
    """One received message and what was done with it."""

    mailbox = models.ForeignKey(
        Mailbox, verbose_name=_("mailbox"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="inbound",
    )
    message_id = models.CharField(_("Message-ID"), max_length=255)
    fingerprint = models.CharField(
        _("content fingerprint"), max_length=64, blank=True, default="", editable=False,
        help_text=_("SHA-256 of the sender, subject, date and body: tells the same message "
                    "delivered again from another message reusing its Message-ID."),
    )
    message_id_reused = models.BooleanField(
        _("Message-ID reused"), default=False,
        help_text=_("Another, different message with this Message-ID was received before."),
    )
    received_at = models.DateTimeField(_("received at"))
    sender = models.CharField(_("sender"), max_length=320, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    reason = models.TextField(_("reason"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", verbose_name=_("ticket"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="inbound_emails",
    )
    # Not called "message": its column would clash with message_id.
    ticket_message = models.ForeignKey(
        "tickets.Message", verbose_name=_("ticket message"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="inbound_emails",
    )
    size = models.PositiveIntegerField(_("size in bytes"), default=0)
    raw = models.BinaryField(_("raw message"), blank=True, default=b"",
                             help_text=_("Empty when the message exceeded the storage limit."))

    class Meta:
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        ordering = ("-received_at", "-id")
        indexes = [models.Index(fields=["sender", "received_at"])]
        constraints = [models.UniqueConstraint(fields=["message_id", "fingerprint"],
                                               name="inbound_once_per_message")]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.outcome})"


class EmailBounce(models.Model):
    """A delivery failure reported for one of our outgoing messages, kept on the contact.

    The desk shows it next to the requester, so an agent knows mail to that address does not
    arrive and can call instead.
    """

    inbound = models.ForeignKey(InboundEmail, verbose_name=_("report"), on_delete=models.CASCADE,
                                related_name="bounces")
    address = models.CharField(_("address"), max_length=320, db_index=True)
    user = models.ForeignKey(
        "accounts.User", verbose_name=_("contact"), on_delete=models.CASCADE,
        null=True, blank=True, related_name="email_bounces",
    )
    status = models.CharField(_("status code"), max_length=20, blank=True)
    permanent = models.BooleanField(_("permanent"), default=True)
    diagnostic = models.CharField(_("diagnostic"), max_length=500, blank=True)
    at = models.DateTimeField(_("reported at"))

    class Meta:
        verbose_name = _("email bounce")
        verbose_name_plural = _("email bounces")
        ordering = ("-at", "-id")
        constraints = [models.UniqueConstraint(fields=["inbound", "address"], name="bounce_once_per_report")]

    def __str__(self) -> str:
        return f"{self.address} {self.status}"
