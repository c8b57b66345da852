"""The partner's access log: every time a partner agent looked at a ticket, and how."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessView(models.TextChoices):
    CONSOLE_TICKET = "console_ticket", _("Console ticket page")
    DESK_TICKET = "desk_ticket", _("Desk ticket page")
    API_TICKET = "api_ticket", _("API: ticket")
    API_MESSAGES = "api_messages", _("API: messages")
    API_EVENTS = "api_events", _("API: history")
    API_LIST = "api_list", _("API: ticket list")
    API_ATTACHMENTS = "api_attachments", _("API: attachment list")
    API_CHANGE = "api_change", _("API: change")
    ATTACHMENT = "attachment", _("Attachment download")


class PartnerAccess(models.Model):
    """One partner view of one ticket. Append-only; the service owner reviews it monthly.

    The customer's data stays in the customer's system; this log is how the customer sees what
    the partner looked at.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("partner agent"),
                             on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE,
                               related_name="partner_accesses")
    at = models.DateTimeField(_("at"))
    view = models.CharField(_("view"), max_length=20, choices=AccessView.choices)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("partner access")
        verbose_name_plural = _("partner access log")
        indexes = [
            models.Index(fields=["-at", "-id"], name="partner_access_at"),
            models.Index(fields=["ticket", "-at"], name="partner_access_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.view} {self.ticket_id} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise ValueError("The partner access log is append-only")
        super().save(*args, **kwargs)
