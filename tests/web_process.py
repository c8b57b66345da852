"""A real ``vuoro serve --no-worker`` (gunicorn) process for tests that need the real server.

It serves the current test database (SQLite file or PostgreSQL) on a free loopback port, with
its own ``VUORO_DATA_DIR`` under ``log_dir``; its output goes to ``<log_dir>/web.log`` and is
shown when it does not start. Tests using it need ``transactional_db`` so the process sees
their rows.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_worker_process import database_url_of_test_db
from tests.worker_harness import stop

REPO = Path(__file__).resolve().parent.parent
START_SECONDS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class WebProcess:
    base_url: str  # e.g. "http://127.0.0.1:54321"
    process: subprocess.Popen
    log_path: Path
    data_dir: Path

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def gunicorn_pids(self) -> list[int]:
        """The gunicorn master (the child of ``vuoro serve``) and its workers."""
        masters = _children(self.process.pid)
        return masters + [w for m in masters for w in _children(m)]

    def peak_rss_mb(self) -> float:
        """The largest peak resident size (VmHWM) of the gunicorn master and its workers, in MB."""
        return max((_vm_hwm_kb(pid) for pid in self.gunicorn_pids()), default=0) / 1024

    def log(self, tail: int = 5000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]


def _healthz_answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:
            return response.status in (200, 503)
    except urllib.error.HTTPError as error:
        return error.code in (200, 503)
    except OSError:
        return False


@contextmanager
def web_process(log_dir: Path, **env: str) -> Iterator[WebProcess]:
    """`vuoro serve --no-worker` (gunicorn) on a free loopback port against the current test
    database (tests.test_worker_process.database_url_of_test_db()); waits until /healthz
    answers; stops it on exit; shows its log if start fails. ``env`` adds or overrides
    variables (e.g. VUORO_WEB_WORKERS, VUORO_BODY_DEADLINE)."""
    port = free_port()
    data_dir = log_dir / "web-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    environment = dict(os.environ, DATABASE_URL=database_url_of_test_db(),
                       DJANGO_SETTINGS_MODULE="vuoro.settings", VUORO_DATA_DIR=str(data_dir),
                       VUORO_WEB_WORKERS="2", VUORO_WEB_THREADS="8")
    environment.update(env)
    log_path = log_dir / "web.log"
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(
        [sys.executable, "-m", "vuoro.cli", "serve", "--no-worker", "--bind", f"127.0.0.1:{port}"],
        env=environment, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )
    web = WebProcess(base_url=f"http://127.0.0.1:{port}", process=process, log_path=log_path,
                     data_dir=data_dir)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _healthz_answers(web.base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"vuoro serve did not answer /healthz in {START_SECONDS}s; its log:\n{web.log()}")
            time.sleep(0.1)
        yield web
    finally:
        stop(process)
        log.close()
