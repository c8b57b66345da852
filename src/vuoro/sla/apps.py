from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "vuoro.sla"
    label = "sla"

    def ready(self) -> None:
        from vuoro.sla import reactions

        reactions.connect()

        from vuoro.core.config_cache import watch
        from vuoro.sla.models import SlaPolicy

        watch(SlaPolicy)

        from vuoro.notify import providers
        from vuoro.sla.expected import expected_handling_text

        providers.provide(expected_handling=expected_handling_text)
