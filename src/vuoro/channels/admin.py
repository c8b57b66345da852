"""Mailboxes are configured in the admin; received messages are shown, never edited."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from vuoro.channels.models import EmailBounce, InboundEmail, Mailbox
from vuoro.core.admin_readonly import ReadOnlyAdminMixin


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ("name", "address", "service", "team", "unknown_senders", "active", "last_polled_at")
    list_filter = ("active", "unknown_senders")
    list_select_related = ("service", "team")
    readonly_fields = ("last_polled_at",)
    fieldsets = (
        (None, {"fields": ("name", "address", "service", "team", "unknown_senders", "active")}),
        (_("IMAP polling"), {"fields": ("imap_host", "imap_port", "imap_ssl", "imap_username",
                                         "imap_password", "imap_folder", "imap_done_folder",
                                         "last_polled_at")}),
        (_("Delivery by HTTP"), {"fields": ("inbound_secret",)}),
    )


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "mailbox", "sender", "subject", "outcome", "ticket")
    list_filter = ("outcome", "mailbox")
    list_select_related = ("mailbox", "ticket")
    search_fields = ("message_id", "sender", "subject")
    date_hierarchy = "received_at"
    exclude = ("raw",)


@admin.register(EmailBounce)
class EmailBounceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "address", "user", "status", "permanent", "diagnostic")
    list_filter = ("permanent",)
    list_select_related = ("user",)
    search_fields = ("address",)
    date_hierarchy = "at"
