"""Settings for worker processes the fault tests start: Vuoro's own, plus where to send mail.

Vuoro's settings read only ``VUORO_EMAIL_BACKEND``; the tests also need the loopback SMTP
server's host and port, so they come from ``EMAIL_HOST`` and ``EMAIL_PORT`` here.
"""

import os

from vuoro.settings import *  # noqa: F403

EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_TIMEOUT = 5
