from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "vuoro.channels"
    label = "channels"
    verbose_name = _("Email channel")

    def ready(self) -> None:
        from vuoro.channels.selectors import mail_stopping_bounces, reply_mailbox_address
        from vuoro.notify import providers

        providers.provide(
            stopping_bounces=lambda addresses, now: mail_stopping_bounces(addresses=addresses, now=now),
            reply_address=reply_mailbox_address,
        )
