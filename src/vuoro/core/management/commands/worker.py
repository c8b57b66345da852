"""Background worker: django-tasks' database worker plus a heartbeat for /healthz."""

import os
import socket
import threading

from django.db import close_old_connections
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from vuoro.core.models import WorkerHeartbeat

HEARTBEAT_SECONDS = 5


def beat(worker_id: str, started_at) -> None:  # type: ignore[no-untyped-def]
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id[:64],
        defaults={
            "hostname": socket.gethostname()[:200],
            "pid": os.getpid(),
            "started_at": started_at,
            "last_seen_at": timezone.now(),
        },
    )


class Command(DbWorkerCommand):
    help = "Run Vuoro's background worker (database task queue) with a heartbeat."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        worker_id = options["worker_id"]
        started_at = timezone.now()
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                try:
                    beat(worker_id, started_at)
                except Exception:  # noqa: BLE001 - a missed beat shows as stale, never crashes
                    pass
                finally:
                    close_old_connections()
                stop.wait(HEARTBEAT_SECONDS)

        thread = threading.Thread(target=loop, name="vuoro-heartbeat", daemon=True)
        thread.start()
        try:
            return super().handle(*args, **options)
        finally:
            stop.set()
