"""Organisations, users with one role each, teams and API tokens."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from vuoro.accounts.phone_numbers import normalise


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    email_domain = models.CharField(_("email domain"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    REQUESTER = "requester", _("Requester")
    AGENT = "agent", _("Agent")
    PARTNER = "partner", _("Partner agent")
    SERVICE_OWNER = "service_owner", _("Service owner")
    ADMIN = "admin", _("Administrator")


STAFF_ROLES = frozenset({Role.AGENT, Role.SERVICE_OWNER, Role.ADMIN})
DESK_ROLES = frozenset({Role.AGENT, Role.PARTNER, Role.SERVICE_OWNER, Role.ADMIN})


class User(AbstractUser):
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.REQUESTER, db_index=True
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    can_see_organisation_tickets = models.BooleanField(
        _("may see the organisation's tickets"), default=False
    )
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="fi"
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    # ``phone`` in E.164, kept by ``save()``: callers are found by an indexed equality, not a scan.
    phone_e164 = models.CharField(max_length=16, blank=True, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["phone_e164"], name="user_phone_e164")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.phone_e164 = normalise(self.phone) or ""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "phone" in update_fields:
            kwargs["update_fields"] = {*update_fields, "phone_e164"}
        super().save(*args, **kwargs)

    @property
    def is_requester(self) -> bool:
        return self.role == Role.REQUESTER

    @property
    def is_agent(self) -> bool:
        return self.role == Role.AGENT

    @property
    def is_partner(self) -> bool:
        return self.role == Role.PARTNER

    @property
    def is_service_owner(self) -> bool:
        return self.role == Role.SERVICE_OWNER

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def uses_desk(self) -> bool:
        return self.role in DESK_ROLES

    def display_name(self) -> str:
        return self.get_full_name() or self.email or self.username


class AssignmentStrategy(models.TextChoices):
    MANUAL = "manual", _("Manual")
    ROUND_ROBIN = "round_robin", _("Round-robin")
    LEAST_OPEN = "least_open", _("Fewest open tickets")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    members = models.ManyToManyField(
        User, verbose_name=_("members"), related_name="teams", blank=True
    )
    lead = models.ForeignKey(
        User,
        verbose_name=_("team lead"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
    )
    email = models.EmailField(_("email"), blank=True)
    assignment_strategy = models.CharField(
        _("automatic assignment"),
        max_length=20,
        choices=AssignmentStrategy.choices,
        default=AssignmentStrategy.MANUAL,
    )
    # Round-robin cursor: the member assigned last; locked with the team row when advanced.
    last_assigned = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the secret is stored; the prefix finds the row."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
