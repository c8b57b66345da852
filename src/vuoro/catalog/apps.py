from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "vuoro.catalog"
    label = "catalog"

    def ready(self) -> None:
        from vuoro.catalog.models import Category, FormField, RoutingRule, Service
        from vuoro.core.config_cache import watch

        watch(Service, Service.organisations.through, Category, FormField, RoutingRule)
