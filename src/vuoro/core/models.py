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


class EventState(models.TextChoices):
    PENDING = "pending", "pending"
    DONE = "done", "done"
    FAILED = "failed", "failed"


class DomainEvent(models.Model):
    """Something that happened (a ticket created, changed, answered), written in the transaction
    that made it happen, for the apps that react to it later (the transactional outbox).

    A worker claims pending events (a lease: ``claimed_until``), oldest first and never one while
    an earlier event of the same ticket is still pending, so reactions to one ticket keep their
    order. Each subscriber's reaction commits together with a ``Reaction`` row, so it happens
    once even when a worker dies mid-way and the event is claimed again.
    """

    name = models.CharField(max_length=60)
    ticket_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=EventState.choices, default=EventState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=80, blank=True)
    last_error = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at", "id"], name="core_event_due",
                         condition=models.Q(state="pending")),
            models.Index(fields=["ticket_id", "id"], name="core_event_ticket_pending",
                         condition=models.Q(state="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class Reaction(models.Model):
    """One subscriber's reaction to one event, written in the reaction's own transaction."""

    event = models.ForeignKey(DomainEvent, on_delete=models.CASCADE, related_name="reactions")
    subscriber = models.CharField(max_length=80)
    done_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "subscriber"], name="core_reaction_once")]

    def __str__(self) -> str:
        return f"{self.subscriber} ← {self.event_id}"


class ConfigVersion(models.Model):
    """One row whose number grows with every change to configuration the processes cache
    (``vuoro.core.config_cache``); each process compares it at most once a second."""

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.version)


class Counter(models.Model):
    """A named counter for databases without sequences (SQLite); see ``vuoro.core.counters``."""

    name = models.CharField(max_length=100, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
