from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "vuoro.desk"
    label = "desk"
