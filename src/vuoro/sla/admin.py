"""SLA policies are configured in the admin; clocks and their events are shown, never edited."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from vuoro.core.admin_readonly import ReadOnlyAdminMixin
from vuoro.sla.models import SlaAlert, SlaClock, SlaClockEvent, SlaPolicy


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = ["service", "priority", "calendar", "first_response_minutes", "resolution_minutes",
                  "warning_percent", "pause_when_waiting", "pause_when_on_hold",
                  "raise_priority_on_breach"]

    def clean_warning_percent(self) -> int:
        value = self.cleaned_data["warning_percent"]
        if value is None or not 1 <= value <= 100:
            raise forms.ValidationError(_("Warn at a share between 1 and 100 percent of the target."))
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("first_response_minutes") and not cleaned.get("resolution_minutes"):
            raise forms.ValidationError(_("Give a first response target, a resolution target or both."))
        return cleaned


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = ("service", "priority", "first_response_minutes", "resolution_minutes",
                    "warning_percent", "calendar", "pause_when_waiting", "pause_when_on_hold")
    list_filter = ("service", "priority")
    list_select_related = ("service", "calendar")
    ordering = ("service__order", "service__name_fi", "priority")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SlaClockEventInline(ReadOnlyInline):
    model = SlaClockEvent
    fields = ("kind", "at", "used_seconds", "target_seconds", "due_at", "note")


class SlaAlertInline(ReadOnlyInline):
    model = SlaAlert
    fields = ("kind", "cycle", "fired_at", "due_at")


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit view of a clock: its state, numbers and every move it made."""

    list_display = ("ticket", "kind", "state", "cycle", "due_at", "used_seconds", "target_seconds",
                    "breached_at")
    list_filter = ("kind", "state")
    list_select_related = ("ticket",)
    search_fields = ("ticket__reference",)
    inlines = [SlaClockEventInline, SlaAlertInline]

