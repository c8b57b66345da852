from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running Vuoro: the operator commands (serve, worker, demo, seed, createadmin), the demo
    data and /healthz. The top of the dependency graph: it may import every app, and no app
    imports it."""

    name = "vuoro.ops"
    label = "ops"
    verbose_name = _("Operations")
