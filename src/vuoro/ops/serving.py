"""``vuoro serve``: gunicorn and a task worker side by side, as one command.

The supervising process only starts, watches and stops its children, so it does not load
Django (``vuoro.cli`` runs it before any setup): it stays a few MB instead of a whole
application's memory. gunicorn runs ``vuoro.core.web_worker.ThreadWorker`` (threads with a
header deadline) and the application behind ``vuoro.core.http_limits`` (body size cap and
timeouts). Its control socket (``gunicornc``) is ``VUORO_DATA_DIR/gunicorn.ctl``, private to
this installation, never the per-user default shared with every other gunicorn of that user.
A child that exits ends the others; SIGINT or SIGTERM stops both gracefully (gunicorn lets
requests in flight finish, the worker finishes its current step), SIGKILL after 15 s.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TextIO

STOP_SECONDS = 15


def default_web_workers() -> int:
    """``VUORO_WEB_WORKERS``, else 2 web processes on PostgreSQL and 1 on the embedded SQLite:
    SQLite takes one writer at a time, so a second process adds memory (about 110 MB) more
    than it adds throughput there."""
    configured = os.environ.get("VUORO_WEB_WORKERS")
    if configured:
        return int(configured)
    return 2 if os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")) else 1


def add_arguments(parser: Any) -> None:
    parser.add_argument("--bind", default=os.environ.get("VUORO_BIND", "127.0.0.1:8000"))
    parser.add_argument("--workers", type=int, default=default_web_workers())
    parser.add_argument("--threads", type=int, default=int(os.environ.get("VUORO_WEB_THREADS", "8")))
    parser.add_argument("--no-worker", action="store_true", help="Do not start a task worker.")


def data_dir() -> Path:
    """``VUORO_DATA_DIR`` as the settings read it, without setting Django up."""
    from vuoro import settings

    return Path(settings.DATA_DIR)


def gunicorn_command(options: dict[str, Any], data: Path) -> list[str]:
    """The gunicorn command line for ``vuoro serve``'s options."""
    return [sys.executable, "-m", "gunicorn", "vuoro.wsgi:application",
            "--bind", options["bind"], "--workers", str(options["workers"]),
            "--threads", str(options["threads"]),
            "--worker-class", "vuoro.core.web_worker.ThreadWorker",
            "--control-socket", str(data / "gunicorn.ctl"),
            "--forwarded-allow-ips", os.environ.get("VUORO_FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
            "--access-logfile", "-", "--graceful-timeout", "10"]


def serve(options: dict[str, Any], data: Path, out: TextIO = sys.stdout) -> int:
    """Run gunicorn (and a worker unless ``no_worker``) until a signal or a child's exit."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="vuoro.settings")
    children: list[subprocess.Popen] = []
    if not options["no_worker"]:
        children.append(subprocess.Popen(
            [sys.executable, "-m", "vuoro.cli", "worker", "--queue-name", "*", "--no-reload",
             "--interval", "0.5"], env=env))
    children.append(subprocess.Popen(gunicorn_command(options, data), env=env))
    stopping = False

    def stop(signum, frame):  # type: ignore[no-untyped-def]
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    out.write(f"Vuoro is at http://{options['bind']}/ (Ctrl-C stops it)\n")
    out.flush()
    try:
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
    failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
    return 1 if failed and not stopping else 0


def main(argv: list[str]) -> int:
    """``vuoro serve [options]`` without Django set up in this process."""
    parser = argparse.ArgumentParser(prog="vuoro serve",
                                     description="Serve Vuoro (gunicorn) with a background worker; Ctrl-C stops both.")
    add_arguments(parser)
    return serve(vars(parser.parse_args(argv)), data_dir())
