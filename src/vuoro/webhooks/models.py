"""Outbound webhooks and hand-off to a customer's own work-management system.

``WebhookDelivery`` is an outbox row like ``notify.OutboundEmail``: written in the transaction
that records the event, claimed and sent later by the worker, never inside a web request. Its
``key`` (event id + subscription or hand-off) is unique, so writing the same event twice adds
nothing.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from vuoro.core.outbound import check_outbound_url
from vuoro.tickets.models import Status
from vuoro.webhooks.templates import template_problem


def _check_url(url: str) -> None:
    """The URL may not point at cloud metadata or another denied network (on the ``url`` field)."""
    if url:
        try:
            check_outbound_url(url)
        except ValidationError as exc:
            raise ValidationError({"url": exc.error_list}) from None


EVENTS = ("ticket.created", "ticket.updated", "ticket.resolved", "page.opened", "page.acknowledged")


def _events_help() -> str:
    """In the reader's language: ``%`` on a lazy text would fix it in the importer's."""
    return gettext("Any of: %s") % ", ".join(EVENTS)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown")


class WebhookSubscription(models.Model):
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=200,
                              help_text=_("Signs every delivery (HMAC-SHA256)."))
    events = models.JSONField(_("events"), default=list,
                              help_text=lazy(_events_help, str)())
    # Scoped by service so one customer's receiver never hears of another customer's tickets.
    services = models.ManyToManyField(
        "catalog.Service", verbose_name=_("services"), blank=True, related_name="+",
        help_text=_("Only tickets of these services; empty = all."))
    active = models.BooleanField(_("active"), default=True)
    failures_in_row = models.PositiveIntegerField(_("failures in a row"), default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("disabled because"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        _check_url(self.url)


class HandOffKind(models.TextChoices):
    EMAIL = "email", _("Email")
    REST = "rest", _("REST")


class HandOff(models.Model):
    """Where a service's new tickets are also sent: the customer's own system."""

    service = models.OneToOneField("catalog.Service", verbose_name=_("service"),
                                   on_delete=models.CASCADE, related_name="handoff")
    kind = models.CharField(_("kind"), max_length=5, choices=HandOffKind.choices)
    email = models.EmailField(_("email address"), blank=True)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    payload_template = models.TextField(
        _("payload template"), blank=True,
        help_text=_("JSON with {placeholders}: {reference}, {subject}, {description}, {status}, "
                    "{priority}, {service}, {requester}, {created_at}. Empty: the standard payload."))
    reference_key = models.CharField(_("reference key in the answer"), max_length=100, default="id")
    status_map = models.JSONField(
        _("status mapping"), default=dict, blank=True,
        help_text=_('The external system\'s statuses as Vuoro\'s, e.g. {"Done": "resolved", '
                    '"In Progress": "open"}. An unmapped status is used as it is.'))
    secret = models.CharField(_("secret"), max_length=200)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("hand-off")
        verbose_name_plural = _("hand-offs")

    def __str__(self) -> str:
        return f"{self.service}: {self.get_kind_display()}"

    def clean(self) -> None:
        _check_url(self.url)
        errors: dict[str, str] = {}
        if self.kind == HandOffKind.REST and not self.url:
            errors["url"] = _("A REST hand-off needs the URL of the external system.")
        if self.kind == HandOffKind.EMAIL and not self.email:
            errors["email"] = _("An email hand-off needs the address of the external system.")
        if self.payload_template.strip():
            problem = template_problem(self.payload_template)
            if problem:
                errors["payload_template"] = problem
        if not isinstance(self.status_map, dict) or any(
                value not in Status.values for value in self.status_map.values()):
            errors["status_map"] = _("Map each external status to one of: %(statuses)s.") % {
                "statuses": ", ".join(Status.values)}
        if errors:
            raise ValidationError(errors)


class ExternalReference(models.Model):
    ticket = models.OneToOneField("tickets.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE,
                                  related_name="external_reference")
    system = models.CharField(_("system"), max_length=100)
    reference = models.CharField(_("reference"), max_length=200)
    url = models.URLField(_("link"), max_length=500, blank=True,
                          help_text=_("Where the item is seen in the external system, if it said."))
    external_status = models.CharField(_("external status"), max_length=100, blank=True)
    updated_at = models.DateTimeField(_("last updated"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["system", "reference"], name="external_ref_unique")]

    def __str__(self) -> str:
        return f"{self.system}:{self.reference}"


class WebhookDelivery(models.Model):
    """One event for one receiver (a subscription or a REST hand-off)."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, null=True,
                                     blank=True, related_name="deliveries")
    handoff = models.ForeignKey(HandOff, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="deliveries")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="+")
    event = models.CharField(_("event"), max_length=40)
    key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["next_attempt_at"], name="webhook_due",
                                condition=models.Q(status="pending"))]

    def __str__(self) -> str:
        return self.key


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField()
    outcome = models.CharField(max_length=10)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.outcome}"
