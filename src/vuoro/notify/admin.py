from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from vuoro.notify import services
from vuoro.notify.models import (
    ContactMethod,
    DeliveryAttempt,
    DeskNotification,
    NotificationRule,
    OutboundEmail,
    OutboundMessage,
)


class OutboxAdmin(admin.ModelAdmin):
    """An outbox as an operator sees it; rows change only through the actions below."""

    ordering = ("-created_at", "-id")
    show_full_result_count = False
    actions = ["send_again", "mark_failed"]

    def requeue(self, queryset) -> int:  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def give_up(self, queryset, reason: str) -> int:  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def requeued_text(self, count: int) -> str:
        raise NotImplementedError

    def given_up_text(self, count: int) -> str:
        raise NotImplementedError

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description=_("Send again (failed or outcome unknown)"))
    def send_again(self, request, queryset):  # type: ignore[no-untyped-def]
        count = self.requeue(queryset)
        self.message_user(request, self.requeued_text(count) % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Mark as failed (do not send)"))
    def mark_failed(self, request, queryset):  # type: ignore[no-untyped-def]
        reason = _("Marked as failed by %(user)s.") % {"user": request.user.get_username()}
        count = self.give_up(queryset, reason)
        self.message_user(request, self.given_up_text(count) % {"count": count}, messages.SUCCESS)


@admin.register(OutboundEmail)
class OutboundEmailAdmin(OutboxAdmin):
    list_display = ("to", "subject", "status", "attempts", "next_attempt_at", "sent_at", "created_at")
    list_filter = ("status",)
    search_fields = ("to", "subject", "key")
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]

    def requeue(self, queryset):  # type: ignore[no-untyped-def]
        return services.outbox_resend(emails=queryset)

    def give_up(self, queryset, reason):  # type: ignore[no-untyped-def]
        return services.outbox_mark_failed(emails=queryset, reason=reason)

    def requeued_text(self, count: int) -> str:
        return ngettext("%(count)d email will be sent again.", "%(count)d emails will be sent again.", count)

    def given_up_text(self, count: int) -> str:
        return ngettext("%(count)d email marked as failed.", "%(count)d emails marked as failed.", count)


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


class RuleInline(admin.TabularInline):
    model = NotificationRule
    fk_name = "contact_method"
    fields = ("user", "delay_minutes")
    raw_id_fields = ("user",)
    extra = 0


@admin.register(ContactMethod)
class ContactMethodAdmin(admin.ModelAdmin):
    """People's contact methods; the address is checked by its kind's transport on save."""

    list_display = ("user", "kind", "label", "address", "created_at")
    list_filter = ("kind",)
    search_fields = ("user__username", "user__email", "label", "address")
    raw_id_fields = ("user",)
    readonly_fields = ("created_at",)
    inlines = [RuleInline]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if obj.created_at is None:
            obj.created_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    list_display = ("user", "contact_method", "delay_minutes")
    search_fields = ("user__username", "contact_method__address")
    raw_id_fields = ("user", "contact_method")
    ordering = ("user_id", "delay_minutes")


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = readonly_fields = ("at", "outcome", "http_status", "detail")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(OutboundMessage)
class OutboundMessageAdmin(OutboxAdmin):
    """Paging messages, each try inline."""

    list_display = ("kind", "address", "title", "status", "attempts", "next_attempt_at", "sent_at",
                    "created_at")
    list_filter = ("status", "kind")
    search_fields = ("key", "address", "title")
    readonly_fields = [f.name for f in OutboundMessage._meta.fields]
    inlines = [AttemptInline]

    def requeue(self, queryset):  # type: ignore[no-untyped-def]
        return services.messages_resend(messages=queryset)

    def give_up(self, queryset, reason):  # type: ignore[no-untyped-def]
        return services.messages_mark_failed(messages=queryset, reason=reason)

    def requeued_text(self, count: int) -> str:
        return ngettext("%(count)d message will be sent again.", "%(count)d messages will be sent again.", count)

    def given_up_text(self, count: int) -> str:
        return ngettext("%(count)d message marked as failed.", "%(count)d messages marked as failed.", count)
