from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from vuoro.core.admin_readonly import ReadOnlyAdminMixin
from vuoro.core.events import react_again
from vuoro.core.models import DomainEvent, WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("worker_id", "hostname", "pid", "started_at", "last_seen_at")


@admin.register(DomainEvent)
class DomainEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What happened and whether every reaction to it ran; failed ones can be tried again."""

    list_display = ("id", "name", "ticket_id", "state", "attempts", "created_at", "done_at")
    list_filter = ("state", "name")
    search_fields = ("=ticket_id", "name")
    readonly_fields = [f.name for f in DomainEvent._meta.fields]
    actions = ["try_again"]

    @admin.action(description=_("React again (reactions already done are not repeated)"))
    def try_again(self, request, queryset):  # type: ignore[no-untyped-def]
        count = react_again(event_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%(n)d event will be reacted to again.",
                                            "%(n)d events will be reacted to again.", count) % {"n": count},
                          messages.SUCCESS)
