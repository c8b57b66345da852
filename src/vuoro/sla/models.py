"""SLA policies and the clocks they run on each ticket, with an audit trail of every move.

A clock counts business time on its calendar. While running, ``due_at`` and ``warn_at`` are the
instants its target and warning threshold fall due (indexed; the worker scans them). While
paused or stopped they are empty. ``used_seconds`` is business time used before
``running_since``, so a recompute keeps the time already used.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from vuoro.tickets.models import Priority


class SlaPolicy(models.Model):
    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.CharField(
        _("priority"), max_length=2, choices=Priority.choices, blank=True,
        help_text=_("Empty: every priority without a policy of its own."),
    )
    calendar = models.ForeignKey(
        "calendars.Calendar", verbose_name=_("calendar"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
        help_text=_("Empty: the service's hours (around the clock if it has none)."),
    )
    first_response_minutes = models.PositiveIntegerField(_("first response target (business minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution target (business minutes)"), null=True, blank=True)
    warning_percent = models.PositiveSmallIntegerField(_("warn at (percent of target)"), default=80)
    pause_when_waiting = models.BooleanField(_("pause while waiting for the requester"), default=True)
    pause_when_on_hold = models.BooleanField(_("pause while on hold"), default=True)
    raise_priority_on_breach = models.BooleanField(_("raise priority on breach"), default=False)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(fields=["service", "priority"], name="one_policy_per_service_priority"),
            models.CheckConstraint(condition=models.Q(warning_percent__gte=1, warning_percent__lte=100),
                                   name="warning_percent_1_to_100"),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.priority or '*'}"


class ClockKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    STOPPED = "stopped", _("Stopped")


class SlaClock(models.Model):
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_clocks")
    kind = models.CharField(max_length=20, choices=ClockKind.choices)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, related_name="clocks")
    calendar = models.ForeignKey("calendars.Calendar", on_delete=models.PROTECT, null=True, related_name="+")
    target_seconds = models.PositiveIntegerField()
    warning_percent = models.PositiveSmallIntegerField(default=80)
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    used_seconds = models.FloatField(default=0)
    running_since = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    cycle = models.PositiveIntegerField(default=1, help_text="Counts restarts on reopen.")
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "kind"], name="one_clock_per_ticket_kind")]
        indexes = [
            models.Index(fields=["due_at"], name="sla_clock_due",
                         condition=models.Q(state="running", breached_at__isnull=True)),
            models.Index(fields=["warn_at"], name="sla_clock_warn",
                         condition=models.Q(state="running", warned_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.state}"


class ClockEventKind(models.TextChoices):
    START = "start", _("Started")
    PAUSE = "pause", _("Paused")
    RESUME = "resume", _("Resumed")
    STOP = "stop", _("Stopped")
    RESTART = "restart", _("Restarted")
    RECOMPUTE = "recompute", _("Recomputed")
    WARNING = "warning", _("Warning")
    BREACH = "breach", _("Breached")


class SlaClockEvent(models.Model):
    """Append-only audit of a clock: the monthly report computes compliance from these."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=ClockEventKind.choices)
    at = models.DateTimeField()
    used_seconds = models.FloatField()
    target_seconds = models.PositiveIntegerField()
    due_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.clock_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class SlaAlertKind(models.TextChoices):
    WARNING = "warning", _("Warning")
    BREACH = "breach", _("Breach")


class SlaAlert(models.Model):
    """A warning or breach, recorded once per clock cycle (a unique constraint, not a check)."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=10, choices=SlaAlertKind.choices)
    cycle = models.PositiveIntegerField()
    fired_at = models.DateTimeField()
    due_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clock", "kind", "cycle"], name="one_alert_per_clock_cycle")]

    def __str__(self) -> str:
        return f"{self.clock_id} {self.kind} cycle {self.cycle}"
