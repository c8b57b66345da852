from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnerConfig(AppConfig):
    name = "vuoro.partner"
    label = "partner"
    verbose_name = _("Partner console")

    def ready(self) -> None:
        from vuoro.partner import reactions

        reactions.connect()
