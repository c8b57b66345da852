from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoverageConfig(AppConfig):
    name = "vuoro.coverage"
    label = "coverage"
    verbose_name = _("Out-of-hours coverage")

    def ready(self) -> None:
        from vuoro.coverage import reactions

        reactions.connect()

        from vuoro.core.config_cache import watch
        from vuoro.coverage.models import ServiceCoverage

        watch(ServiceCoverage)

        from vuoro.coverage.partner_scope import partner_scope, partner_work_scope
        from vuoro.tickets.access import provide_partner_scope

        provide_partner_scope(sees=partner_scope, works_on=partner_work_scope)
