from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "vuoro.sla"
    label = "sla"
