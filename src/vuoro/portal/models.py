"""What the portal itself keeps: anonymous requests, counted to bound how fast anyone files them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AnonymousRequest(models.Model):
    """One request filed from the portal without signing in.

    Only what the limits need: when, from which client address, and a hash of the email
    address typed (never the address itself). Rows older than a day are deleted as new ones
    are written.
    """

    at = models.DateTimeField(_("at"), db_index=True)
    ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    email_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("anonymous request")
        verbose_name_plural = _("anonymous requests")
        indexes = [
            models.Index(fields=["ip", "at"], name="portal_anon_ip_at"),
            models.Index(fields=["email_hash", "at"], name="portal_anon_email_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.ip or '-'}"
