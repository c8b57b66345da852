from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from vuoro.notify import services
from vuoro.notify.models import DeskNotification, OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """The outbox as an operator sees it; rows change only through the actions below."""

    list_display = ("to", "subject", "status", "attempts", "next_attempt_at", "sent_at", "created_at")
    list_filter = ("status",)
    search_fields = ("to", "subject", "key")
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    actions = ["send_again", "mark_failed"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description=_("Send again (failed or outcome unknown)"))
    def send_again(self, request, queryset):  # type: ignore[no-untyped-def]
        count = services.outbox_resend(emails=queryset)
        self.message_user(request, ngettext(
            "%(count)d email will be sent again.", "%(count)d emails will be sent again.", count,
        ) % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Mark as failed (do not send)"))
    def mark_failed(self, request, queryset):  # type: ignore[no-untyped-def]
        reason = _("Marked as failed by %(user)s.") % {"user": request.user.get_username()}
        count = services.outbox_mark_failed(emails=queryset, reason=reason)
        self.message_user(request, ngettext(
            "%(count)d email marked as failed.", "%(count)d emails marked as failed.", count,
        ) % {"count": count}, messages.SUCCESS)


@admin.register(DeskNotification)
class DeskNotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "ticket", "text", "created_at", "read_at")
    list_filter = (("read_at", admin.EmptyFieldListFilter),)
    search_fields = ("text", "key", "user__username")
    raw_id_fields = ("user", "ticket")
    ordering = ("-created_at", "-id")
    show_full_result_count = False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
