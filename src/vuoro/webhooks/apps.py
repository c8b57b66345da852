from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "vuoro.webhooks"
    label = "webhooks"
    verbose_name = _("Outbound webhooks and hand-off")

    def ready(self) -> None:
        from vuoro.webhooks import reactions

        reactions.connect()
