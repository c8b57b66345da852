"""Who takes a service's requests out of hours, and what was decided for each request at intake."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from vuoro.coverage.decide import Action, HandledBy, Reason


class CoverageModel(models.TextChoices):
    NONE = "none", _("No out-of-hours coverage")
    CATCH_DISPATCH = "catch_dispatch", _("Catch & dispatch")
    GUIDED_ACTIONS = "guided_actions", _("Guided actions")


class DecisionAction(models.TextChoices):
    NORMAL = Action.NORMAL.value, _("Service open: business as usual")
    HANDLE_NOW = Action.HANDLE_NOW.value, _("Handle now")
    DEFER = Action.DEFER.value, _("Logged; waits for the next opening")


class DecisionReason(models.TextChoices):
    SERVICE_OPEN = Reason.SERVICE_OPEN.value, _("The service was open.")
    URGENT_COVERED = Reason.URGENT_COVERED.value, _(
        "Out of hours, urgent, and the partner covers the service now.")
    URGENT_CRITICAL = Reason.URGENT_CRITICAL.value, _(
        "Out of hours and urgent on a critical service: the desk's on-call handles it.")
    NOT_URGENT = Reason.NOT_URGENT.value, _(
        "Out of hours and not urgent: handled when the service next opens.")
    NOT_COVERED = Reason.NOT_COVERED.value, _(
        "Out of hours and nobody covers the service now: handled when it next opens.")


class DecisionHandler(models.TextChoices):
    DESK = HandledBy.DESK.value, _("Service desk")
    PARTNER = HandledBy.PARTNER.value, _("Partner")


class ServiceCoverage(models.Model):
    """A service's out-of-hours model. Critical services are handled at once around the clock:
    with model "none" by the desk's own on-call, otherwise by the partner when it covers."""

    service = models.OneToOneField(
        "catalog.Service", verbose_name=_("service"), on_delete=models.CASCADE, related_name="coverage"
    )
    model = models.CharField(
        _("service model"), max_length=20, choices=CoverageModel.choices, default=CoverageModel.NONE
    )
    partner_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("partner team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The partner's team that takes requests out of hours."),
    )
    out_of_hours_calendar = models.ForeignKey(
        "calendars.Calendar",
        verbose_name=_("partner's hours"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("When the partner covers. Empty: whenever the service's own hours are closed."),
    )
    notes = models.TextField(_("agreed instructions"), blank=True)
    escalation_policy = models.ForeignKey(
        "paging.EscalationPolicy",
        verbose_name=_("escalation policy"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coverages",
        help_text=_("Who is paged, and in which order, when the service needs someone at once."),
    )

    class Meta:
        ordering = ["service__order", "service__name_fi"]
        verbose_name = _("out-of-hours coverage")
        verbose_name_plural = _("out-of-hours coverage")

    def __str__(self) -> str:
        return f"{self.service}: {self.get_model_display()}"

    def clean(self) -> None:
        if self.model != CoverageModel.NONE and self.partner_team_id is None:
            raise ValidationError(
                {"partner_team": _("Choose the partner team that takes requests out of hours.")}
            )
        if self.model == CoverageModel.NONE and self.partner_team_id is not None:
            raise ValidationError(
                {"partner_team": _("Without a service model there is no partner team; choose a model.")}
            )

    @property
    def handled_at_once_by_desk(self) -> bool:
        """A critical service without a partner is still handled at once, by the desk's on-call."""
        return self.model == CoverageModel.NONE and self.service.critical


class OutOfHoursDecision(models.Model):
    """What intake decided for one ticket; one row per ticket, for the monthly quality review."""

    ticket = models.OneToOneField(
        "tickets.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE,
        related_name="out_of_hours_decision",
    )
    action = models.CharField(_("action"), max_length=12, choices=DecisionAction.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=DecisionReason.choices)
    model = models.CharField(_("service model"), max_length=20, choices=CoverageModel.choices)
    handled_by = models.CharField(_("handled by"), max_length=10, choices=DecisionHandler.choices)
    service_open = models.BooleanField(_("service open"))
    covered = models.BooleanField(_("covered"))
    critical = models.BooleanField(_("critical"))
    decided_at = models.DateTimeField(_("decided at"))
    next_opening = models.DateTimeField(_("next opening"), null=True, blank=True)
    partner_team = models.ForeignKey(
        "accounts.Team", verbose_name=_("partner team"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    # What happened next, recorded as it happens (``services.ooh_record``); first times only.
    caught_at = models.DateTimeField(_("caught at"), null=True, blank=True)
    caught_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("caught by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    partner_actions = models.PositiveIntegerField(_("partner actions"), default=0)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    paged_at = models.DateTimeField(_("first page at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("first acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by_partner = models.BooleanField(_("resolved by the partner"), default=False)

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("out-of-hours decision")
        verbose_name_plural = _("out-of-hours decisions")
        indexes = [models.Index(fields=["decided_at", "action"], name="ooh_decision_month")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.action}"

    @property
    def time_to_catch(self) -> dt.timedelta | None:
        return None if self.caught_at is None else self.caught_at - self.decided_at

    @property
    def time_to_acknowledge(self) -> dt.timedelta | None:
        """From the first page to its first acknowledgement."""
        if self.acknowledged_at is None or self.paged_at is None:
            return None
        return self.acknowledged_at - self.paged_at

    @property
    def escalated(self) -> bool:
        return self.escalated_at is not None
