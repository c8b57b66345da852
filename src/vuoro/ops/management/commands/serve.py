"""``vuoro serve`` as a Django command (``vuoro.cli`` runs ``vuoro.ops.serving`` directly,
without setting Django up; this form is for ``django-admin``/``manage.py`` users)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from vuoro.ops import serving


class Command(BaseCommand):
    help = "Serve Vuoro (gunicorn) with a background worker; Ctrl-C stops both."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        serving.add_arguments(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if serving.serve(options, settings.DATA_DIR, self.stdout):
            raise SystemExit(1)
