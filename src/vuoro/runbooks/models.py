"""Runbooks: a service's agreed steps, kept as immutable versions, and the runs on tickets.

A run points at the version it started with, so editing a runbook (which always writes a new
version) never changes a run in progress or the record of a finished one.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vuoro.core.i18n import TranslatedNameMixin
from vuoro.runbooks import flow


class Runbook(TranslatedNameMixin):
    """The runbook of a service, or of one of its categories (more specific wins)."""

    service = models.ForeignKey(
        "catalog.Service", verbose_name=_("service"), on_delete=models.CASCADE, related_name="runbooks"
    )
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="runbooks",
        help_text=_("Empty: every request of the service without a runbook of its own."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["service", "category", "name_fi"]
        verbose_name = _("runbook")
        verbose_name_plural = _("runbooks")
        constraints = [
            models.UniqueConstraint(fields=["service", "category"], condition=Q(category__isnull=False),
                                    name="runbook_per_category"),
            models.UniqueConstraint(fields=["service"], condition=Q(category__isnull=True),
                                    name="runbook_per_service"),
        ]

    def latest_version(self) -> "RunbookVersion | None":
        return self.versions.order_by("-number").first()


class ImmutableError(Exception):
    """A stored runbook version cannot be changed; write a new version instead."""


class RunbookVersion(models.Model):
    """One version of a runbook's steps (see ``flow``). Written once, never changed."""

    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    steps = models.JSONField(_("steps"))
    note = models.CharField(_("what changed"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["runbook", "-number"]
        verbose_name = _("runbook version")
        verbose_name_plural = _("runbook versions")
        constraints = [
            models.UniqueConstraint(fields=["runbook", "number"], name="runbook_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.runbook} v{self.number}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise ImmutableError("A runbook version cannot be changed; create a new version.")
        super().save(*args, **kwargs)

    def step(self, key: str) -> flow.Step:
        return flow.step_by_key(self.steps, key)


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    RESOLVED = "resolved", _("Resolved")
    ESCALATED = "escalated", _("Escalated")
    ABANDONED = "abandoned", _("Abandoned")


class RunbookRun(models.Model):
    """A runbook followed on a ticket; at most one runs per ticket at a time.

    ``current_step`` is the fencing token: an answer names the step it answers, and only the
    current one is accepted, so a double submit or a stale form cannot move the run twice.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="runbook_runs")
    version = models.ForeignKey(RunbookVersion, on_delete=models.PROTECT, related_name="runs")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("started"))
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    current_step = models.CharField(_("current step"), max_length=60, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_message = models.TextField(
        _("message at the end"), blank=True, help_text=_("E.g. why no page could be opened.")
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("runbook run")
        verbose_name_plural = _("runbook runs")
        constraints = [
            models.UniqueConstraint(fields=["ticket"], condition=Q(status="running"),
                                    name="one_running_runbook_per_ticket")
        ]

    def __str__(self) -> str:
        return f"{self.version} @ {self.ticket_id}"

    @property
    def running(self) -> bool:
        return self.status == RunStatus.RUNNING


class RunbookStepResult(models.Model):
    """One answered step of a run, with the step's text as it was shown."""

    run = models.ForeignKey(RunbookRun, on_delete=models.CASCADE, related_name="results")
    step_key = models.CharField(max_length=60)
    step_text = models.TextField()
    answer = models.CharField(max_length=20)
    answer_text = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["run", "at", "id"]
        verbose_name = _("runbook step result")
        verbose_name_plural = _("runbook step results")
        constraints = [
            # A valid runbook has no cycle, so a run answers each step at most once.
            models.UniqueConstraint(fields=["run", "step_key"], name="one_result_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.step_key}: {self.answer}"
