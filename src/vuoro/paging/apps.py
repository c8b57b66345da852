from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PagingConfig(AppConfig):
    name = "vuoro.paging"
    label = "paging"
    verbose_name = _("Paging and escalation")

    def ready(self) -> None:
        from vuoro.paging import reactions

        reactions.connect()
