"""Domain events: an app says what happened; the apps that react subscribe, unknown to it.

``publish`` is called inside the transaction that made the change:

- *inline* subscribers run at once, in that transaction, for what the caller's answer needs
  (SLA clocks, the out-of-hours decision, a page opened at once). Their failure fails the change.
- when the event has *deferred* subscribers (mail, webhooks, notices), one ``DomainEvent`` row is
  written in the same transaction: the transactional outbox. ``react_due`` (the worker's
  reactor thread) claims pending events and reacts to each in one transaction of its own: every
  deferred subscriber in a savepoint together with a ``Reaction`` row unique per event and
  subscriber, and the event's new state. So a reaction happens once, after the change
  committed and never without it, even when a worker dies mid-way and the event is claimed
  again after its lease ends.

Reactions to one ticket keep their order: an event is not claimed while an earlier event of the
same ticket is pending. A failing subscriber is retried with backoff; after ``MAX_ATTEMPTS`` the
event is ``failed`` with its error, shown by ``/healthz`` and in the admin, and no longer holds
back the ticket's later events.

With ``settings.VUORO_REACT_INLINE`` (the test suite's default) deferred subscribers run in
``publish`` itself, through the same reaction code, so a test sees the whole effect of a change.
Subscribers register in their app's ``AppConfig.ready``; this module imports no app.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from vuoro.core.models import DomainEvent, EventState, Reaction

logger = logging.getLogger(__name__)

LEASE_SECONDS = 30
BATCH = 50
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Event:
    """What a subscriber is told. ``subject`` (the changed row itself) and ``actor`` (who changed
    it) are given to inline subscribers only; deferred ones read what they need again."""

    name: str
    at: datetime
    ticket_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    subject: Any = None
    actor: Any = None
    id: int | None = None
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def remembered(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``'s value, computed once per event: the deferred subscribers of one event
        react in one transaction, so the second reads what the first read (the ticket row)
        instead of asking the database again. Readers must not change what they get."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


Handler = Callable[[Event], object]


@dataclass(frozen=True)
class Subscriber:
    name: str  # stable: stored in Reaction rows
    handler: Handler
    deferred: bool


_subscribers: dict[str, list[Subscriber]] = {}


def subscribe(event: str, name: str, handler: Handler, *, deferred: bool) -> None:
    """Register ``handler`` for ``event`` under a stable ``name``; registering again replaces it."""
    listeners = [s for s in _subscribers.get(event, []) if s.name != name]
    listeners.append(Subscriber(name, handler, deferred))
    _subscribers[event] = listeners


def subscribers(event: str, *, deferred: bool) -> list[Subscriber]:
    return [s for s in _subscribers.get(event, []) if s.deferred == deferred]


def publish(name: str, *, at: datetime, ticket_id: int | None = None, subject: Any = None,
            actor: Any = None, **payload: Any) -> DomainEvent | None:
    """Tell the subscribers of ``name``; call inside the causing transaction.

    Returns the outbox row when the event has deferred subscribers (None otherwise). The payload
    must be JSON: ids and plain values, not rows.
    """
    event = Event(name=name, at=at, ticket_id=ticket_id, payload=payload, subject=subject,
                  actor=actor)
    for subscriber in subscribers(name, deferred=False):
        subscriber.handler(event)
    if not subscribers(name, deferred=True):
        return None
    row = DomainEvent.objects.create(name=name, ticket_id=ticket_id, payload=payload,
                                     created_at=at, next_attempt_at=at)
    if getattr(settings, "VUORO_REACT_INLINE", False):
        _react_inline(row)
    return row


def _as_event(row: DomainEvent) -> Event:
    return Event(name=row.name, at=row.created_at, ticket_id=row.ticket_id,
                 payload=row.payload or {}, id=row.pk)


def _react_inline(row: DomainEvent) -> None:
    event = _as_event(row)
    now = timezone.now()
    for subscriber in subscribers(row.name, deferred=True):
        Reaction.objects.create(event=row, subscriber=subscriber.name, done_at=now)
        subscriber.handler(event)
    DomainEvent.objects.filter(pk=row.pk).update(state=EventState.DONE, done_at=now)


def worker_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def _unleased_due(now: datetime):  # type: ignore[no-untyped-def]
    return (DomainEvent.objects
            .filter(state=EventState.PENDING, next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)))


def _in_order(candidates: list[tuple[int, int | None]]) -> list[int]:
    """The candidates (id, ticket) that may run now: none after a pending event of its ticket
    that is not itself a candidate (leased elsewhere, or waiting for a retry)."""
    ids = [pk for pk, _ticket in candidates]
    tickets = {ticket for _pk, ticket in candidates if ticket is not None}
    held: dict[int, int] = {}
    for ticket, pk in (DomainEvent.objects.filter(state=EventState.PENDING, ticket_id__in=tickets)
                       .exclude(pk__in=ids).values_list("ticket_id", "id")):
        held[ticket] = min(pk, held.get(ticket, pk))
    return [pk for pk, ticket in candidates if ticket is None or ticket not in held or held[ticket] > pk]


def claim_due(limit: int = BATCH, *, now: datetime | None = None) -> list[DomainEvent]:
    """Lease up to ``limit`` due events to this process (compare-and-set; safe in many workers).

    Candidates are read oldest first; an event waits while an earlier pending event of its
    ticket is leased elsewhere or waiting for a retry. The lease is one short UPDATE taken only
    where no one else holds a live lease, so two workers never run the same event at once.
    """
    now = now or timezone.now()
    token = f"{worker_token()}:{now.timestamp():.6f}"
    candidates = list(_unleased_due(now).order_by("id").values_list("id", "ticket_id")[:limit])
    if not candidates:
        return []
    runnable = _in_order(candidates)
    if not runnable:
        return []
    DomainEvent.objects.filter(pk__in=runnable, state=EventState.PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    ).update(claimed_until=now + timedelta(seconds=LEASE_SECONDS), claimed_by=token)
    return list(DomainEvent.objects.filter(pk__in=runnable, claimed_by=token,
                                           state=EventState.PENDING).order_by("id"))


def react(row: DomainEvent) -> bool:
    """Run the deferred subscribers of a claimed event; True when all of them succeeded.

    One transaction for the event: each subscriber runs in a savepoint with its Reaction row
    (unique per event and subscriber, so one that already reacted is skipped), and the event's
    state is written in the same transaction. A failing subscriber's savepoint is rolled back
    and the event stays pending with backoff (the others' reactions are kept); after
    ``MAX_ATTEMPTS`` tries it is ``failed`` with the error. One write transaction per event
    keeps SQLite's single writer free for intake and paging.
    """
    event = _as_event(row)
    errors = []
    with transaction.atomic():
        done = set(Reaction.objects.filter(event_id=row.pk).values_list("subscriber", flat=True))
        for subscriber in subscribers(row.name, deferred=True):
            if subscriber.name in done:
                continue  # reacted before a crash, or by an expired lease's holder
            try:
                with transaction.atomic():
                    Reaction.objects.create(event=row, subscriber=subscriber.name,
                                            done_at=timezone.now())
                    subscriber.handler(event)
            except Exception as exc:  # noqa: BLE001 - recorded on the event, retried
                logger.exception("Reaction %s to event %s failed", subscriber.name, row.pk)
                errors.append(f"{subscriber.name}: {exc!r}"[:1000])
        now = timezone.now()
        if not errors:
            DomainEvent.objects.filter(pk=row.pk).update(state=EventState.DONE, done_at=now,
                                                         claimed_until=None)
            return True
        attempts = row.attempts + 1
        DomainEvent.objects.filter(pk=row.pk).update(
            attempts=attempts, last_error="\n".join(errors), claimed_until=None,
            state=EventState.FAILED if attempts >= MAX_ATTEMPTS else EventState.PENDING,
            next_attempt_at=now + timedelta(seconds=min(2 ** attempts, 300)),
        )
    return False


def react_due(limit: int = BATCH, *, pause: Callable[[], bool] | None = None) -> int:
    """Claim and react to due events; returns how many were reacted to (0: nothing done).

    When a reaction fails, the ticket's later events in the batch are let go unrun, to be
    claimed after the failed one succeeds (or fails for good). ``pause`` is asked before each
    event: when it says more urgent work waits (the worker passes "a page is due"), the rest
    of the batch is let go at once, so reactions never hold paging up.
    """
    rows = claim_due(limit)
    stalled: set[int] = set()
    reacted = 0
    for index, row in enumerate(rows):
        if pause is not None and pause():
            DomainEvent.objects.filter(pk__in=[r.pk for r in rows[index:]]).update(claimed_until=None)
            break
        if row.ticket_id is not None and row.ticket_id in stalled:
            DomainEvent.objects.filter(pk=row.pk).update(claimed_until=None)
            continue
        reacted += 1
        if not react(row) and row.ticket_id is not None:
            stalled.add(row.ticket_id)
    return reacted


def events_failed() -> int:
    """Events whose reactions failed for good: someone must look (``/healthz``, the admin)."""
    return DomainEvent.objects.filter(state=EventState.FAILED).count()


def events_waiting(older_than_seconds: float = 30.0) -> int:
    """Pending events older than ``older_than_seconds``: reactions are falling behind."""
    since = timezone.now() - timedelta(seconds=older_than_seconds)
    return DomainEvent.objects.filter(state=EventState.PENDING, created_at__lt=since).count()


def react_again(*, event_ids: list[int]) -> int:
    """Put failed or pending events back in the queue at once; reactions already done are
    skipped when they run (their Reaction rows stay). Returns the events requeued."""
    return DomainEvent.objects.filter(pk__in=event_ids).exclude(state=EventState.DONE).update(
        state=EventState.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None)
