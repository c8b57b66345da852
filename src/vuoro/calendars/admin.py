"""Editing calendars: weekly hours and exceptions inline, checked together, with a preview.

Row rules come from the models' ``clean()``; rules across rows run in the inline formsets'
``clean()``. The admin saves only when every form and formset is valid, so a bad definition
stores nothing. Saving touches ``updated_at`` after the rows, so compiled copies are rebuilt.
"""

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vuoro.calendars.models import Calendar, CalendarException, OpeningHours
from vuoro.calendars.selectors import calendar_state, calendar_week
from vuoro.calendars.services import calendar_touch
from vuoro.calendars.validation import check_exception_dates, check_opening_overlaps


class RowsFormSet(BaseInlineFormSet):
    """Runs ``check_rows`` over the rows that will be kept once each row is valid on its own."""

    check_rows: Any = None

    def kept_rows(self) -> list[Any]:
        return [form.instance for form in self.forms
                if form.has_changed() or form.instance.pk
                if not (self.can_delete and self._should_delete_form(form))]

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        errors = type(self).check_rows(self.kept_rows())
        if errors:
            raise ValidationError(errors)


class OpeningHoursFormSet(RowsFormSet):
    check_rows = staticmethod(check_opening_overlaps)


class ExceptionFormSet(RowsFormSet):
    check_rows = staticmethod(check_exception_dates)


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    formset = OpeningHoursFormSet
    extra = 0
    fields = ("weekday", "start", "end")


class CalendarExceptionInline(admin.TabularInline):
    model = CalendarException
    formset = ExceptionFormSet
    extra = 0
    fields = ("date", "closed", "start", "end", "note")


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "holiday_country", "always_open", "updated_at")
    list_filter = ("always_open", "holiday_country")
    search_fields = ("name",)
    fields = ("name", "timezone", "holiday_country", "holiday_subdivision", "always_open", "preview")
    readonly_fields = ("preview",)
    inlines = [OpeningHoursInline, CalendarExceptionInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if any(formset.has_changed() for formset in formsets):
            calendar_touch(calendar=form.instance)

    @admin.display(description=gettext_lazy("preview"))
    def preview(self, calendar: Calendar) -> SafeString | str:
        """Open now or not, the next change, and the opening spans of the coming week."""
        if calendar is None or calendar.pk is None:
            return _("Save the calendar to see a preview.")
        now = timezone.now()
        state = calendar_state(calendar, now)
        status = _("Open now.") if state.open else _("Closed now.")
        change = (_("Next change: %(when)s.") % {"when": _when(state.next_change)}
                  if state.next_change else _("No change within three years."))
        days = format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>",
            ((date_format(d.day, "D j.n."), _spans_text(d.spans)) for d in calendar_week(calendar, now)),
        )
        return format_html('<p>{} {}</p><table class="calendar-preview">{}</table>', status, change, days)


def _when(moment: Any) -> str:
    return f"{date_format(moment, 'D j.n.Y')} {moment:%H:%M} ({moment:%z})"


def _spans_text(spans: list[Any]) -> str:
    if not spans:
        return _("closed")
    return ", ".join(f"{s:%H:%M}–{_end_text(s, e)}" for s, e in spans)


def _end_text(start: Any, end: Any) -> str:
    """A span that runs to the next midnight ends at 24:00, not 00:00."""
    return "24:00" if end.date() > start.date() and end.hour == end.minute == 0 else f"{end:%H:%M}"
