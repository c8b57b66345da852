"""WSGI entry point for gunicorn: Django behind the request-body limits (core.http_limits)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vuoro.settings")

from vuoro.core.http_limits import BodyLimits  # noqa: E402 - after the settings module is named

application = BodyLimits.from_settings(get_wsgi_application())
