"""Phone calls: logged by the desk or reported by the telephony system."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    MISSED = "missed", _("Missed")
    VOICEMAIL = "voicemail", _("Voicemail")


class Call(models.Model):
    """One call. ``number`` is the other party's number in E.164; ``external_id`` is the
    telephony system's call id, unique so a webhook delivered twice records one call."""

    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices,
                                 default=Direction.INBOUND)
    number = models.CharField(_("caller number"), max_length=16, db_index=True)
    caller = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("caller"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="calls")
    callee = models.CharField(_("callee"), max_length=120, blank=True)
    started_at = models.DateTimeField(_("started at"), db_index=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("logged by"), null=True,
                                  blank=True, on_delete=models.SET_NULL, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", verbose_name=_("ticket"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="calls")
    external_id = models.CharField(_("external call id"), max_length=120, null=True, blank=True,
                                   unique=True)
    voicemail_url = models.URLField(_("voicemail"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.number} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"
