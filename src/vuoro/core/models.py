"""Operational state shared by every app."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """Last sign of life from each background worker, read by /healthz."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"
