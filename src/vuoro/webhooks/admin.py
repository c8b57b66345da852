from django.contrib import admin, messages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vuoro.webhooks import services
from vuoro.webhooks.models import HandOff, WebhookAttempt, WebhookDelivery, WebhookSubscription

URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ("event", "status", "attempts", "last_status", "last_error", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-created_at",)
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "active", "failures_in_row", "disabled_at")
    readonly_fields = ("failures_in_row", "disabled_at", "disabled_reason")
    filter_horizontal = ("services",)
    formfield_overrides = URL_FIELDS
    inlines = [DeliveryInline]

    def save_model(self, request, obj, form, change) -> None:  # type: ignore[no-untyped-def]
        if change and obj.active and "active" in form.changed_data:
            # Switched back on: a fresh start, not one failure away from switching off again.
            obj.failures_in_row, obj.disabled_at, obj.disabled_reason = 0, None, ""
        super().save_model(request, obj, form, change)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("at", "outcome", "http_status", "detail")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("key", "event", "status", "attempts", "last_status", "next_attempt_at")
    list_filter = ("status", "event")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = [AttemptInline]
    actions = ["send_again"]

    @admin.action(description=_("Send again (failed or unknown only)"))
    def send_again(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        count = sum(services.delivery_resend(delivery=d, now=timezone.now()) for d in queryset)
        self.message_user(request, _("%d deliveries queued again.") % count, messages.SUCCESS)


@admin.register(HandOff)
class HandOffAdmin(admin.ModelAdmin):
    list_display = ("service", "kind", "email", "url", "active")
    formfield_overrides = URL_FIELDS
