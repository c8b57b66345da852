"""Coverage per service is configured in the admin; decisions are shown, never edited."""

from django.contrib import admin

from vuoro.core.admin_readonly import ReadOnlyAdminMixin
from vuoro.coverage.models import OutOfHoursDecision, ServiceCoverage


@admin.register(ServiceCoverage)
class ServiceCoverageAdmin(admin.ModelAdmin):
    list_display = ("service", "model", "partner_team", "out_of_hours_calendar")
    list_filter = ("model",)
    list_select_related = ("service", "partner_team", "out_of_hours_calendar")
    ordering = ("service__order", "service__name_fi")
    fields = ("service", "model", "partner_team", "out_of_hours_calendar", "escalation_policy", "notes")


@admin.register(OutOfHoursDecision)
class OutOfHoursDecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("ticket", "decided_at", "action", "reason", "handled_by", "model",
                    "service_open", "covered", "critical", "next_opening", "partner_team")
    list_filter = ("action", "handled_by", "model", "reason")
    list_select_related = ("ticket", "partner_team")
    date_hierarchy = "decided_at"

