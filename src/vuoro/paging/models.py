"""Escalation policies and pages.

A page is opened for a ticket and escalates through a snapshot of its policy, taken when it
opens, until someone acknowledges it or the ticket is resolved. The page row is the escalation
cursor: ``(cycle, step_index)`` is the step due at ``next_escalation_at``; the engine finds due
pages through a partial index on triggered rows, so a page whose step was missed (a worker
died) is simply due and is driven by the next cycle.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


class EscalationPolicy(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    repeat_count = models.PositiveSmallIntegerField(
        _("repeats"), default=0, validators=[MaxValueValidator(9)],
        help_text=_("How many more times the steps run when nobody acknowledges (0–9)."),
    )
    fallback_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("fallback person"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
        help_text=_("Paged when nobody is on call in a step and once when the steps run out."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")

    def __str__(self) -> str:
        return self.name


class TargetKind(models.TextChoices):
    SCHEDULE = "schedule", _("Whoever is on call in a schedule")
    USER = "user", _("A person")
    TEAM = "team", _("Every member of a team")
    POLICY = "policy", _("Hand over to another policy")


TARGET_FIELDS = {
    TargetKind.SCHEDULE: "target_schedule",
    TargetKind.USER: "target_user",
    TargetKind.TEAM: "target_team",
    TargetKind.POLICY: "target_policy",
}


class EscalationStep(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    wait_minutes = models.PositiveIntegerField(
        _("wait (minutes)"), default=5,
        help_text=_("How long to wait for an acknowledgement before the next step."),
    )
    target_kind = models.CharField(_("who"), max_length=10, choices=TargetKind.choices)
    target_schedule = models.ForeignKey(
        "oncall.Schedule", verbose_name=_("schedule"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    target_team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    target_policy = models.ForeignKey(
        EscalationPolicy, verbose_name=_("policy"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="handovers_to",
    )

    class Meta:
        ordering = ["policy", "order", "id"]
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")

    def __str__(self) -> str:
        return f"{self.policy}: {self.order}. {self.get_target_kind_display()}"

    @property
    def target_id(self) -> int | None:
        field = TARGET_FIELDS.get(self.target_kind)  # type: ignore[call-overload]
        return getattr(self, f"{field}_id") if field else None

    def clean(self) -> None:
        chosen = TARGET_FIELDS.get(self.target_kind)  # type: ignore[call-overload]
        errors: dict[str, list[str]] = {}
        for field in TARGET_FIELDS.values():
            value = getattr(self, f"{field}_id")
            if field == chosen and value is None:
                errors[field] = [_("Choose whom this step pages.")]
            elif field != chosen and value is not None:
                errors[field] = [_("Leave this empty for the kind of step chosen.")]
        if errors:
            raise ValidationError(errors)


class PageStatus(models.TextChoices):
    TRIGGERED = "triggered", _("Triggered")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


ACTIVE_PAGE_STATUSES = (PageStatus.TRIGGERED, PageStatus.ACKNOWLEDGED)


class AckVia(models.TextChoices):
    DESK = "desk", _("Service desk")
    API = "api", _("API")
    LINK = "link", _("Link in the notification")


class Page(models.Model):
    ticket = models.ForeignKey("tickets.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE,
                               related_name="pages")
    status = models.CharField(_("status"), max_length=12, choices=PageStatus.choices,
                              default=PageStatus.TRIGGERED)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    policy = models.ForeignKey(EscalationPolicy, verbose_name=_("policy"), on_delete=models.SET_NULL,
                               null=True, blank=True, related_name="pages")
    # The policies as they were when the page opened; later edits do not reach a page in flight.
    snapshot = models.JSONField(_("policy snapshot"), default=dict)
    cycle = models.PositiveSmallIntegerField(default=0)
    step_index = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(_("next escalation at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"),
                                  on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"),
                                        on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="+")
    acknowledged_via = models.CharField(_("acknowledged via"), max_length=8, choices=AckVia.choices,
                                        blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # Part of every signed acknowledgement link; a link for another page or state cannot match.
    ack_nonce = models.CharField(max_length=32, default=new_nonce, editable=False)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        indexes = [
            models.Index(fields=["next_escalation_at"], name="paging_page_due",
                         condition=models.Q(status="triggered")),
            models.Index(fields=["ticket", "-opened_at"], name="paging_page_ticket"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=models.Q(status__in=["triggered", "acknowledged"]),
                name="paging_one_active_page_per_ticket",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_status_display()}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_PAGE_STATUSES


class PageEventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    NOTIFIED = "notified", _("Notified")
    NOBODY_ON_CALL = "nobody_on_call", _("Nobody on call")
    FALLBACK = "fallback", _("Fallback paged")
    REPEATED = "repeated", _("Steps repeated")
    EXHAUSTED = "exhausted", _("Steps exhausted")
    HANDED_OVER = "handed_over", _("Handed over to another policy")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    UNKNOWN_OUTCOME = "unknown_outcome", _("Outcome of a notification unknown")


class PageEvent(models.Model):
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=PageEventKind.choices)
    detail = models.CharField(max_length=500, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+")

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("page event")
        verbose_name_plural = _("page events")
        indexes = [models.Index(fields=["page", "at"], name="paging_event_page")]

    def __str__(self) -> str:
        return f"{self.page_id} {self.kind} {self.at:%Y-%m-%d %H:%M:%S}"


class FollowUp(models.TextChoices):
    NEXT_METHOD = "next_method", _("moved on to the next contact method")
    REACHED = "reached", _("the person was reached by another contact method")
    STEP_FORWARD = "step_forward", _("no other contact method: the next step was brought forward")
    INACTIVE = "inactive", _("the page was no longer active")


class UnknownOutcome(models.Model):
    """A page notification whose outcome is unknown, and what was done about it at once.

    One per message (unique). It stays "unresolved" while its page is triggered and the
    message it moved on to (``moved_to``) has not been sent; ``/healthz`` counts those.
    """

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="unknown_outcomes")
    message = models.OneToOneField("notify.OutboundMessage", on_delete=models.CASCADE,
                                   related_name="unknown_outcome")
    follow_up = models.CharField(max_length=12, choices=FollowUp.choices)
    moved_to = models.ForeignKey("notify.OutboundMessage", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("unknown outcome")
        verbose_name_plural = _("unknown outcomes")

    def __str__(self) -> str:
        return f"{self.page_id} {self.message_id} {self.follow_up}"
