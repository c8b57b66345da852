"""Mailboxes are configured in the admin; received messages are shown, never edited."""

from django.contrib import admin

from vuoro.channels.models import InboundEmail, Mailbox
from vuoro.core.admin_readonly import ReadOnlyAdminMixin


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ("name", "address", "service", "team", "unknown_senders", "active", "last_polled_at")
    list_filter = ("active", "unknown_senders")
    list_select_related = ("service", "team")
    readonly_fields = ("last_polled_at",)


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "mailbox", "sender", "subject", "outcome", "ticket")
    list_filter = ("outcome", "mailbox")
    list_select_related = ("mailbox", "ticket")
    search_fields = ("message_id", "sender", "subject")
    date_hierarchy = "received_at"
    exclude = ("raw",)
