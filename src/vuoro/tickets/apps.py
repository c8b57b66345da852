from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "vuoro.tickets"
    label = "tickets"

    def ready(self) -> None:
        from vuoro.core.config_cache import watch
        from vuoro.tickets.models import PriorityMatrixCell

        watch(PriorityMatrixCell)
