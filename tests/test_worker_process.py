"""A real background worker process: it beats, /healthz sees it, and a killed one goes stale."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from vuoro.core.models import WorkerHeartbeat


def database_url_of_test_db() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    host = s.get("HOST") or "127.0.0.1"
    return f"postgres://{s['USER']}@{host}:{s.get('PORT') or 5432}/{s['NAME']}"


def start_worker(worker_id: str) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=database_url_of_test_db(), DJANGO_SETTINGS_MODULE="vuoro.settings")
    return subprocess.Popen(
        [sys.executable, "-m", "vuoro.cli", "worker", "--no-reload", "--no-startup-delay",
         "--worker-id", worker_id, "--interval", "0.2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_worker_heartbeat_makes_healthz_ok_and_sigkill_leaves_it_stale(client, settings):
    worker = start_worker("test-worker-1")
    try:
        assert wait_for(lambda: WorkerHeartbeat.objects.filter(worker_id="test-worker-1").exists()), (
            worker.stderr.read().decode() if worker.poll() is not None else "no heartbeat"
        )
        assert client.get("/healthz").status_code == 200
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        last = WorkerHeartbeat.objects.get(worker_id="test-worker-1").last_seen_at
        time.sleep(1.5)
        assert WorkerHeartbeat.objects.get(worker_id="test-worker-1").last_seen_at == last
        settings.VUORO_WORKER_STALE_SECONDS = 1
        assert client.get("/healthz").status_code == 503
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
