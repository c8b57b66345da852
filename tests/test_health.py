"""/healthz reports the database, the worker heartbeat and pages waiting for an engine."""

from datetime import timedelta

from django.utils import timezone

from vuoro.core.models import WorkerHeartbeat
from vuoro.ops.management.commands.worker import beat


def test_healthz_degraded_without_worker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "worker": "never seen", "pages_overdue": 0,
                               "pages_unknown_unresolved": 0, "events_failed": 0,
                               "events_waiting": 0, "status": "degraded"}


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


def test_healthz_is_degraded_while_a_page_waits_for_an_engine(client, world):
    from tests import factories as f
    from vuoro.paging.services import page_open

    beat("worker-1", timezone.now())
    ticket = f.ticket(world.requester_a, world.critical)
    page = page_open(ticket=ticket, user=world.agent, opened_by=world.agent)
    assert client.get("/healthz").json()["pages_overdue"] == 0  # due now, not yet overdue
    type(page).objects.filter(pk=page.pk).update(next_escalation_at=timezone.now() - timedelta(minutes=2))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["pages_overdue"] == 1


def test_healthz_asks_for_attention_when_reactions_fail_or_fall_behind(client, world, settings):
    from tests import factories as f
    from vuoro.core.models import DomainEvent, EventState

    settings.VUORO_REACT_INLINE = False
    beat("worker-1", timezone.now())
    f.ticket(world.requester_a, world.other, world.cat_other)
    assert client.get("/healthz").json()["status"] == "ok"  # just written, not behind
    DomainEvent.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    body = client.get("/healthz").json()
    assert (body["events_waiting"], body["status"]) == (1, "attention")
    DomainEvent.objects.update(state=EventState.FAILED)
    response = client.get("/healthz")
    assert response.status_code == 200  # the service works; someone must look at the event
    assert (response.json()["events_failed"], response.json()["status"]) == (1, "attention")
