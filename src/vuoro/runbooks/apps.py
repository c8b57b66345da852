from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RunbooksConfig(AppConfig):
    name = "vuoro.runbooks"
    label = "runbooks"
    verbose_name = _("Runbooks")
