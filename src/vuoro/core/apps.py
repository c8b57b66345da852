from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vuoro.core"
    label = "core"

    def ready(self) -> None:
        from vuoro.core.outbound import install_connection_guard

        # Every outbound HTTP connection (webhooks, hand-offs, notification transports, each hop
        # of a redirect) is checked against the outbound rule at connect time.
        install_connection_guard()
