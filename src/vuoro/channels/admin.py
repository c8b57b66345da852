"""Mailboxes are configured in the admin; received messages are shown, never edited."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from vuoro.channels.models import EmailBounce, InboundEmail, Mailbox, Outcome
from vuoro.channels.services import email_receive_again
from vuoro.core.admin_readonly import ReadOnlyAdminMixin


class MailboxForm(forms.ModelForm):
    """Secrets are typed in, never shown again: an empty field keeps the stored one."""

    imap_password = forms.CharField(label=_("IMAP password"), required=False,
                                    widget=forms.PasswordInput(render_value=False),
                                    help_text=_("Leave empty to keep the current password."))
    inbound_secret = forms.CharField(label=_("inbound secret"), required=False,
                                     widget=forms.PasswordInput(render_value=False),
                                     help_text=_("Bearer secret a mail gateway may use to post raw messages "
                                                 "to this mailbox. Leave empty to keep the current one."))

    class Meta:
        model = Mailbox
        fields = ("name", "address", "service", "team", "unknown_senders", "active", "stops_work",
                  "trust_importance", "imap_host", "imap_port", "imap_ssl", "imap_starttls",
                  "imap_username", "imap_password", "imap_folder", "imap_done_folder", "inbound_secret")

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in ("imap_password", "inbound_secret"):
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        return cleaned


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ("name", "address", "service", "team", "unknown_senders", "active", "last_polled_at")
    list_filter = ("active", "unknown_senders")
    list_select_related = ("service", "team")
    readonly_fields = ("last_polled_at",)
    fieldsets = (
        (None, {"fields": ("name", "address", "service", "team", "unknown_senders", "active")}),
        (_("Triage of new requests"), {"fields": ("stops_work", "trust_importance")}),
        (_("IMAP polling"), {"fields": ("imap_host", "imap_port", "imap_ssl", "imap_starttls", "imap_username",
                                         "imap_password", "imap_folder", "imap_done_folder",
                                         "last_polled_at")}),
        (_("Delivery by HTTP"), {"fields": ("inbound_secret",)}),
    )


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "mailbox", "sender", "subject", "outcome", "reason", "ticket")
    list_filter = ("outcome", "message_id_reused", "mailbox")
    list_select_related = ("mailbox", "ticket")
    search_fields = ("message_id", "sender", "subject")
    date_hierarchy = "received_at"
    exclude = ("raw",)
    actions = ["receive_again"]

    @admin.action(description=_("Receive again (refused messages, once the cause is mended)"))
    def receive_again(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        filed, still, errors = 0, 0, []
        for row in queryset.filter(outcome=Outcome.REJECTED):
            try:
                again = email_receive_again(row=row)
            except ValidationError as exc:
                errors.append(f"{row.message_id}: {' '.join(exc.messages)}")
                continue
            if again.outcome == Outcome.REJECTED:
                still += 1
                errors.append(f"{row.message_id}: {again.reason}")
            else:
                filed += 1
        self.message_user(request, _("%(filed)d filed, %(still)d still refused.") % {"filed": filed, "still": still},
                          messages.SUCCESS if not still and not errors else messages.WARNING)
        for error in errors[:10]:
            self.message_user(request, error, messages.WARNING)


@admin.register(EmailBounce)
class EmailBounceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "address", "user", "status", "permanent", "diagnostic")
    list_filter = ("permanent",)
    list_select_related = ("user",)
    search_fields = ("address",)
    date_hierarchy = "at"
