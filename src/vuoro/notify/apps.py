from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "vuoro.notify"
    label = "notify"

    def ready(self) -> None:
        from vuoro.notify import reactions

        reactions.connect()
