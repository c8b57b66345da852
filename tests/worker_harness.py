"""Real ``vuoro worker`` processes for the fault tests: start, stop, wait for an outcome.

Workers run against the test database (SQLite file or PostgreSQL) of the test that starts them;
their output goes to ``<log_dir>/<worker_id>.log`` and is shown when a wait times out.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.test_worker_process import database_url_of_test_db

REPO = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 30


def start_worker(worker_id: str, log_dir: Path, *extra: str, smtp_port: int | None = None,
                 **env: str) -> subprocess.Popen:
    """Start ``vuoro worker`` with a 0.2 s scheduler cycle; ``env`` adds or overrides variables."""
    environment = dict(
        os.environ,
        DATABASE_URL=database_url_of_test_db(),
        DJANGO_SETTINGS_MODULE="vuoro.settings",
        VUORO_SCAN_INTERVAL="0.2",
    )
    if smtp_port is not None:
        environment.update(
            VUORO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            VUORO_EMAIL_HOST="127.0.0.1",
            VUORO_EMAIL_PORT=str(smtp_port),
            VUORO_EMAIL_TIMEOUT="5",
        )
    environment.update(env)
    log = open(log_dir / f"{worker_id}.log", "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        [sys.executable, "-m", "vuoro.cli", "worker", "--no-reload", "--no-startup-delay",
         "--worker-id", worker_id, "--interval", "0.2", *extra],
        env=environment, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )


def stop(worker: subprocess.Popen) -> None:
    """SIGTERM and wait for a clean exit; SIGKILL if it does not come."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def kill(worker: subprocess.Popen) -> None:
    """SIGKILL: the worker gets no chance to finish anything it was doing."""
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)


def worker_logs(log_dir: Path, tail: int = 3000) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-tail:]}"
                     for p in sorted(log_dir.glob("*.log")))


def wait_for(predicate: Callable[[], object], workers: Sequence[subprocess.Popen], log_dir: Path,
             timeout: float = WAIT_SECONDS) -> None:
    """Poll ``predicate`` until true; fail with the workers' logs on timeout or if one exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if any(w.poll() is not None for w in workers):
            break
        time.sleep(0.05)
    pytest.fail(f"condition not reached in {timeout}s; worker logs:\n{worker_logs(log_dir)}")
