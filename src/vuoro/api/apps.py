from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "vuoro.api"
    label = "api"
