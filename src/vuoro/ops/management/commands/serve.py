"""Serve Vuoro with gunicorn and run the background worker beside it, as one command.

gunicorn runs ``vuoro.core.web_worker.ThreadWorker`` (threads with a header deadline) and the
application behind ``vuoro.core.http_limits`` (body size cap and timeouts). Its control socket
(``gunicornc``) is ``VUORO_DATA_DIR/gunicorn.ctl``, private to this installation, never the
per-user default shared with every other gunicorn of that user.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Vuoro (gunicorn) with a background worker; Ctrl-C stops both."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--bind", default=os.environ.get("VUORO_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("VUORO_WEB_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("VUORO_WEB_THREADS", "8")))
        parser.add_argument("--no-worker", action="store_true", help="Do not start a task worker.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="vuoro.settings")
        children: list[subprocess.Popen] = []
        if not options["no_worker"]:
            children.append(subprocess.Popen(
                [sys.executable, "-m", "vuoro.cli", "worker", "--queue-name", "*", "--no-reload",
                 "--interval", "0.5"], env=env))
        children.append(subprocess.Popen(gunicorn_command(options), env=env))
        stopping = False

        def stop(signum, frame):  # type: ignore[no-untyped-def]
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Vuoro is at http://{options['bind']}/ (Ctrl-C stops it)")
        try:
            while not stopping and all(c.poll() is None for c in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            raise SystemExit(1)


def gunicorn_command(options: dict) -> list[str]:
    """The gunicorn command line for ``vuoro serve``'s options."""
    return [sys.executable, "-m", "gunicorn", "vuoro.wsgi:application",
            "--bind", options["bind"], "--workers", str(options["workers"]),
            "--threads", str(options["threads"]),
            "--worker-class", "vuoro.core.web_worker.ThreadWorker",
            "--control-socket", str(settings.DATA_DIR / "gunicorn.ctl"),
            "--forwarded-allow-ips", os.environ.get("VUORO_FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
            "--access-logfile", "-", "--graceful-timeout", "10"]
