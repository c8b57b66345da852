from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "vuoro.channels"
    label = "channels"
    verbose_name = _("Email channel")

    def ready(self) -> None:
        from vuoro.channels.models import Mailbox
        from vuoro.channels.selectors import mail_stopping_bounces, reply_mailbox_address
        from vuoro.core.config_cache import watch
        from vuoro.notify import providers

        # Mail intake keeps the desk's own addresses (the loop filter); a poll's lease is not one.
        watch(Mailbox, ignore_fields={f.name for f in Mailbox._meta.concrete_fields} - {"address"})

        providers.provide(
            stopping_bounces=lambda addresses, now: mail_stopping_bounces(addresses=addresses, now=now),
            reply_address=reply_mailbox_address,
        )
