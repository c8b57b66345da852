from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "vuoro.portal"
    label = "portal"
