"""Services, their categories and each category's standard request form."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vuoro.core.i18n import TranslatedNameMixin, pick


class Service(TranslatedNameMixin):
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    description_fi = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    description_sv = models.TextField(blank=True)
    critical = models.BooleanField(
        _("critical"), default=False, help_text=_("Failure clearly hurts the business.")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_services",
    )
    default_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("default team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    calendar = models.ForeignKey(
        "calendars.Calendar",
        verbose_name=_("service hours"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        help_text=_("When the service is open. Empty: around the clock."),
    )
    organisations = models.ManyToManyField(
        "accounts.Organisation",
        verbose_name=_("offered to"),
        blank=True,
        related_name="services",
        help_text=_("Empty: offered to every organisation."),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "name_fi"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    @property
    def description(self) -> str:
        return pick(self, "description")


class Category(TranslatedNameMixin):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="categories")
    slug = models.SlugField(_("short name"), max_length=60)
    description_fi = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    description_sv = models.TextField(blank=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["service", "order", "name_fi"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["service", "slug"], name="category_slug_per_service")
        ]

    @property
    def description(self) -> str:
        return pick(self, "description")


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    CHOICE = "choice", _("Choice")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    YES_NO = "yes_no", _("Yes/no")


class FormField(models.Model):
    """One field of a category's standard request form, configured as data."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(_("key"), max_length=60)
    kind = models.CharField(_("type"), max_length=20, choices=FieldKind.choices)
    required = models.BooleanField(_("required"), default=False)
    label_fi = models.CharField(max_length=200)
    label_en = models.CharField(max_length=200, blank=True)
    label_sv = models.CharField(max_length=200, blank=True)
    help_fi = models.CharField(max_length=300, blank=True)
    help_en = models.CharField(max_length=300, blank=True)
    help_sv = models.CharField(max_length=300, blank=True)
    # For choice fields: [{"value": "win", "fi": "Windows", "en": "Windows", "sv": "Windows"}, …]
    choices = models.JSONField(default=list, blank=True)
    min_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_length = models.PositiveIntegerField(default=500)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["category", "order", "id"]
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        constraints = [
            models.UniqueConstraint(fields=["category", "key"], name="form_field_key_per_category")
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.key}"

    @property
    def label(self) -> str:
        return pick(self, "label")

    @property
    def help(self) -> str:
        return pick(self, "help")

    def choice_options(self, language: str | None = None) -> list[tuple[str, str]]:
        from django.utils.translation import get_language

        lang = (language or get_language() or "fi")[:2]
        return [
            (str(c["value"]), str(c.get(lang) or c.get("fi") or c["value"])) for c in self.choices
        ]


class RoutingRule(models.Model):
    """Sends new tickets of a service (and optionally one category) to a team.

    The most specific rule wins: a category rule before a service rule; ties by ``order``.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="routing_rules")
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="routing_rules"
    )
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        target = self.category or self.service
        return f"{target} → {self.team}"
