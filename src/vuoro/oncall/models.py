"""On-call schedules as data: layers of rotations, their members, and overrides.

The arithmetic lives in ``schedule.py``; ``selectors.pure_schedule`` turns these rows into it.
"""

import datetime as dt
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

WEEKDAY_DIGITS = "0123456"


class RotationKind(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    CUSTOM_DAYS = "days", _("Every N days")
    CUSTOM_HOURS = "hours", _("Every N hours")


def check_weekdays(value: str) -> None:
    if any(c not in WEEKDAY_DIGITS for c in value) or len(set(value)) != len(value):
        raise ValidationError(
            _("Write weekdays as digits 0–6 (0 = Monday), each at most once, e.g. 01234.")
        )


class Schedule(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/Helsinki",
        help_text=_("An IANA time zone name; handoffs and windows are in its local time."),
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="oncall_schedules",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("on-call schedule")
        verbose_name_plural = _("on-call schedules")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.timezone = (self.timezone or "").strip()
        if self.timezone not in available_timezones():
            raise ValidationError(
                {"timezone": _("Unknown time zone: %(zone)s.") % {"zone": self.timezone}}
            )


class Layer(models.Model):
    """One rotation; of the layers that have someone, the highest order wins."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(_("name"), max_length=120)
    order = models.PositiveSmallIntegerField(
        _("order"), default=0, help_text=_("A higher layer wins where it has someone on call.")
    )
    rotation = models.CharField(
        _("rotation"), max_length=8, choices=RotationKind.choices, default=RotationKind.WEEKLY
    )
    length = models.PositiveIntegerField(
        _("length"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("For custom rotations: how many days or hours."),
    )
    start_date = models.DateField(_("first handoff on"))
    handoff_time = models.TimeField(_("handoff at"), default=dt.time(8))
    window_start = models.TimeField(_("active from"), null=True, blank=True)
    window_end = models.TimeField(
        _("active until"),
        null=True,
        blank=True,
        help_text=_(
            "Optional daily window in local time; an end before the start runs past midnight."
        ),
    )
    window_weekdays = models.CharField(
        _("window on weekdays"),
        max_length=7,
        blank=True,
        default=WEEKDAY_DIGITS,
        validators=[check_weekdays],
        help_text=_("Digits 0–6 (0 = Monday) on which the daily window starts."),
    )
    full_day_weekdays = models.CharField(
        _("whole days"),
        max_length=7,
        blank=True,
        validators=[check_weekdays],
        help_text=_("Digits 0–6 on which the layer is active all day, e.g. 56 for weekends."),
    )

    class Meta:
        ordering = ["schedule", "-order", "id"]
        verbose_name = _("layer")
        verbose_name_plural = _("layers")

    def __str__(self) -> str:
        return f"{self.schedule}: {self.name}"

    @property
    def is_restricted(self) -> bool:
        return self.window_start is not None or bool(self.full_day_weekdays)

    def rotation_length(self) -> tuple[int, str]:
        """(length, "days" | "hours") of one shift."""
        if self.rotation == RotationKind.DAILY:
            return 1, "days"
        if self.rotation == RotationKind.WEEKLY:
            return 7, "days"
        return self.length, "hours" if self.rotation == RotationKind.CUSTOM_HOURS else "days"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if (
            self.rotation in (RotationKind.CUSTOM_DAYS, RotationKind.CUSTOM_HOURS)
            and not self.length
        ):
            errors["length"] = [_("A rotation must be at least one day or one hour long.")]
        if (self.window_start is None) != (self.window_end is None):
            errors["window_end"] = [_("Give both ends of the active window, or neither.")]
        elif self.window_start is not None and self.window_start == self.window_end:
            errors["window_end"] = [_("The active window must not start and end at the same time.")]
        if errors:
            raise ValidationError(errors)


class LayerMember(models.Model):
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="oncall_layers",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["layer", "position", "id"]
        verbose_name = _("layer member")
        verbose_name_plural = _("layer members")

    def __str__(self) -> str:
        return f"{self.layer}: {self.position}. {self.user}"


class Override(models.Model):
    """Someone on call for a time range whatever the layers say; a swap is two overrides."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="oncall_overrides",
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["schedule", "start", "id"]
        verbose_name = _("override")
        verbose_name_plural = _("overrides")
        indexes = [models.Index(fields=["schedule", "end"], name="oncall_override_sched_end")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")),
                name="oncall_override_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("An override must end after it starts.")})


class FeedKind(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    PERSON = "person", _("Person")


class FeedKey(models.Model):
    """The secret in a calendar feed's address: one schedule's or one person's shifts.

    A feed address works while its key is neither revoked nor older than
    ``VUORO_CALENDAR_FEED_DAYS``; a feed has at most one such key at a time.
    """

    kind = models.CharField(_("feed"), max_length=10, choices=FeedKind.choices)
    target_id = models.PositiveIntegerField(_("schedule or person"))
    key = models.CharField(max_length=43, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("calendar feed address")
        verbose_name_plural = _("calendar feed addresses")
        indexes = [models.Index(fields=["kind", "target_id"], name="oncall_feedkey_target")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target_id}"
