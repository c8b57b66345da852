"""A real web server process for tests: ``vuoro serve --no-worker`` (gunicorn) on a free port.

It serves the current test database (tests need ``transactional_db``: the server is another
process); its output goes to ``<log_dir>/web.log``.
"""

import os
import signal
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

from tests.test_worker_process import database_url_of_test_db

REPO = Path(__file__).resolve().parent.parent
START_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _descendants(pid: int) -> list[int]:
    pending, found = [pid], []
    while pending:
        current = pending.pop()
        found.append(current)
        pending += _children(current)
    return found


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class WebProcess:
    base_url: str
    process: subprocess.Popen

    def peak_rss_mb(self) -> float:
        """The largest VmHWM (peak resident memory) of the gunicorn master and its workers, MB."""
        gunicorn = []
        for pid in _descendants(self.process.pid):
            try:
                if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    gunicorn.append(pid)
            except OSError:
                continue
        return max((_hwm_mb(pid) for pid in gunicorn), default=0.0)


@contextmanager
def web_process(log_dir: Path, **env: str) -> Iterator[WebProcess]:
    """`vuoro serve --no-worker` (gunicorn) on a free loopback port against the current test
    database (use tests.test_worker_process.database_url_of_test_db()); stops it on exit."""
    port = _free_port()
    environment = dict(os.environ, DATABASE_URL=database_url_of_test_db(),
                       DJANGO_SETTINGS_MODULE="vuoro.settings", **env)
    log = open(log_dir / "web.log", "ab")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(
        [sys.executable, "-m", "vuoro.cli", "serve", "--no-worker", "--bind", f"127.0.0.1:{port}"],
        env=environment, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                urllib.request.urlopen(base_url + "/healthz", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # answering (503 without a worker is an answer)
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("web process did not start:\n"
                                       + (log_dir / "web.log").read_text(errors="replace")[-3000:]) from None
                time.sleep(0.2)
        yield WebProcess(base_url=base_url, process=process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
