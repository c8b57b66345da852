from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "vuoro.catalog"
    label = "catalog"
