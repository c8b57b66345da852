"""/healthz reports the database and the worker heartbeat."""

from datetime import timedelta

from django.utils import timezone

from vuoro.core.management.commands.worker import beat
from vuoro.core.models import WorkerHeartbeat


def test_healthz_degraded_without_worker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "worker": "never seen", "status": "degraded"}


def test_healthz_ok_with_recent_heartbeat(client, db):
    beat("worker-1", timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["worker"] == "ok"


def test_healthz_reports_stale_worker(client, db):
    beat("worker-1", timezone.now())
    WorkerHeartbeat.objects.update(last_seen_at=timezone.now() - timedelta(minutes=5))
    body = client.get("/healthz").json()
    assert body["status"] == "degraded" and body["worker"].startswith("stale since")
