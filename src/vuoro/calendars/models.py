"""Service calendars as data: time zone, weekly opening hours, public holidays, exceptions."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from vuoro.calendars.weekdays import Weekday


class Calendar(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Helsinki",
        help_text=_("An IANA time zone name, e.g. Europe/Helsinki or Europe/Stockholm."),
    )
    holiday_country = models.CharField(
        _("public holidays of"), max_length=8, blank=True, default="FI",
        help_text=_("Country code, e.g. FI, SE, EE. Empty: no public holidays."),
    )
    holiday_subdivision = models.CharField(
        _("region"), max_length=16, blank=True,
        help_text=_("Only where holidays differ by region, e.g. 01 for Åland in Finland. Usually empty."),
    )
    always_open = models.BooleanField(
        _("open around the clock"), default=False,
        help_text=_("24/7: weekly hours, holidays and exceptions are ignored."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("calendar")
        verbose_name_plural = _("calendars")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from vuoro.calendars.validation import check_calendar_fields

        self.holiday_country = (self.holiday_country or "").strip().upper()
        self.holiday_subdivision = (self.holiday_subdivision or "").strip()
        errors = check_calendar_fields(self)
        if errors:
            raise ValidationError(errors)


class OpeningHours(models.Model):
    """One weekly opening interval; an end at or before the start runs past midnight."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("opens"))
    end = models.TimeField(_("closes"))

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        from vuoro.calendars.validation import check_opening_row

        errors = check_opening_row(self)
        if errors:
            raise ValidationError(errors)


class CalendarException(models.Model):
    """A dated exception: closed all day, or open only at the given hours (e.g. Christmas Eve 8–12).

    Several rows on one date give several intervals; a closed row closes the whole date.
    """

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField(_("date"))
    closed = models.BooleanField(_("closed all day"), default=False)
    start = models.TimeField(_("opens"), null=True, blank=True)
    end = models.TimeField(_("closes"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["calendar", "date", "start"]
        verbose_name = _("exception")
        verbose_name_plural = _("exceptions")

    def __str__(self) -> str:
        if self.closed:
            return f"{self.date:%d.%m.%Y} closed"
        return f"{self.date:%d.%m.%Y} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        from vuoro.calendars.validation import check_exception_row

        errors = check_exception_row(self)
        if errors:
            raise ValidationError(errors)


