from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vuoro.core"
    label = "core"
