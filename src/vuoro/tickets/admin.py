from django.contrib import admin
from django.core.exceptions import ValidationError

from vuoro.core.admin_readonly import ReadOnlyAdminMixin
from vuoro.tickets import priority
from vuoro.tickets.models import PriorityMatrixCell, Ticket


@admin.register(PriorityMatrixCell)
class PriorityMatrixCellAdmin(admin.ModelAdmin):
    list_display = ("impact", "urgency", "priority")

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        cells = {(c.impact, c.urgency): c.priority for c in PriorityMatrixCell.objects.exclude(pk=obj.pk)}
        cells[(obj.impact, obj.urgency)] = obj.priority
        problems = priority.validate_matrix(cells)
        if problems:
            raise ValidationError(problems)
        super().save_model(request, obj, form, change)


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only here: tickets change through the desk so every change is in the history."""

    list_display = ("reference", "subject", "status", "priority", "service", "organisation", "created_at")
    list_filter = ("status", "priority", "service")
    search_fields = ("reference", "subject")
    show_full_result_count = False
