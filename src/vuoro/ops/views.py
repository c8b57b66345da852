"""Health endpoint for load balancers and operators."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from vuoro.core.events import events_failed, events_waiting
from vuoro.core.models import WorkerHeartbeat
from vuoro.paging.engine import pages_overdue
from vuoro.paging.selectors import unknown_outcomes_unresolved

EVENTS_BEHIND_SECONDS = 60


@never_cache
def healthz(request):  # type: ignore[no-untyped-def]
    """200 when the database answers, a worker was seen recently and no page waits for an
    engine (due more than 30 s ago); 503 otherwise.

    ``pages_unknown_unresolved`` counts page notifications of unknown outcome not yet settled
    (the page is still triggered and nothing it moved on to has been sent). They make the
    status "attention" but keep the answer 200: the paging already moved on to the next
    contact method or step, and a load balancer must not take the service out for it; alert
    on the field (or the status) instead. The same holds for ``events_failed`` (reactions to
    domain events, such as a requester's mail, that failed for good) and ``events_waiting``
    (events still waiting for their reactions after ``EVENTS_BEHIND_SECONDS``).
    """
    body: dict[str, object] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        body["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        body["database"] = f"error: {exc.__class__.__name__}"
        return JsonResponse({"status": "error", **body}, status=503)
    cutoff = timezone.now() - timedelta(seconds=settings.VUORO_WORKER_STALE_SECONDS)
    latest = WorkerHeartbeat.objects.order_by("-last_seen_at").first()
    if latest is None:
        body["worker"] = "never seen"
        healthy = False
    elif latest.last_seen_at < cutoff:
        body["worker"] = f"stale since {latest.last_seen_at.isoformat()}"
        healthy = False
    else:
        body["worker"] = "ok"
        body["worker_last_seen"] = latest.last_seen_at.isoformat()
    overdue = pages_overdue()
    body["pages_overdue"] = overdue
    if overdue:
        healthy = False  # a page is waiting for an engine: nobody is being woken up
    unknown = unknown_outcomes_unresolved()
    body["pages_unknown_unresolved"] = unknown
    failed, behind = events_failed(), events_waiting(older_than_seconds=EVENTS_BEHIND_SECONDS)
    body["events_failed"] = failed
    body["events_waiting"] = behind
    attention = unknown or failed or behind
    body["status"] = ("attention" if attention else "ok") if healthy else "degraded"
    return JsonResponse(body, status=200 if healthy else 503)
