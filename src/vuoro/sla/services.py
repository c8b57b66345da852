"""SLA clock services, called by the ticket services inside their transactions.

The caller has locked the ticket row; these lock the ticket's clocks (the breach scanner writes
to them too), change them, write one ``SlaClockEvent`` per change in the same transaction and
keep ``Ticket.sla_due_at`` equal to the earliest due time of a running clock. They never set
``warned_at`` or ``breached_at`` (the scanner does), except that a restart on reopen clears them
for the new cycle.

Cost: intake is one policy query plus, when the policy has targets, one insert of clocks, one
of events and one ticket update. A later ticket write that touches status, priority or the first
response costs one clock query plus one update per changed clock and one insert of events.
"""

import datetime as dt

from vuoro.sla import clocks as clock_moves
from vuoro.sla.models import ClockKind, ClockState, SlaClock, SlaClockEvent, SlaPolicy
from vuoro.sla.policies import compiled_calendar, policy_calendar, policy_for, policy_targets
from vuoro.tickets.models import Ticket

CLOCK_FIELDS = ["policy", "calendar", "target_seconds", "warning_percent", "state", "used_seconds",
                "running_since", "due_at", "warn_at", "cycle", "stopped_at"]
CYCLE_FIELDS = ["warned_at", "breached_at"]


def _new_clock(ticket: Ticket, policy: SlaPolicy, kind: str, target_seconds: int) -> SlaClock:
    return SlaClock(ticket=ticket, kind=kind, policy=policy, calendar=policy_calendar(policy),
                    target_seconds=target_seconds, warning_percent=policy.warning_percent)


def _calendar(clock: SlaClock):  # type: ignore[no-untyped-def]
    return compiled_calendar(clock.calendar)


def _keep_due(ticket: Ticket, clocks: list[SlaClock]) -> None:
    """Store the earliest due time of the running clocks on the ticket when it changed."""
    due = min((c.due_at for c in clocks if c.state == ClockState.RUNNING and c.due_at), default=None)
    if due != ticket.sla_due_at:
        ticket.sla_due_at = due
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)


def clocks_start(*, ticket: Ticket, at: dt.datetime) -> list[SlaClock]:
    """Start the clocks of a new ticket under its service's policy for its priority.

    A kind gets a clock only when the policy has a target for it; no policy, no clocks.
    """
    policy = policy_for(ticket.service_id, ticket.priority)
    targets = policy_targets(policy)
    if policy is None or not targets:
        clocks: list[SlaClock] = []
    else:
        calendar = compiled_calendar(policy_calendar(policy))
        clocks = [_new_clock(ticket, policy, kind, seconds) for kind, seconds in targets.items()]
        events = [clock_moves.start(clock, calendar, at) for clock in clocks]
        SlaClock.objects.bulk_create(clocks)
        SlaClockEvent.objects.bulk_create(events)
        _keep_due(ticket, clocks)
    # The new ticket's clocks are known: the intake's answer reads them without another query
    # (``selectors.ticket_clocks``); the ORM's own caches are left alone.
    ticket._started_sla_clocks = clocks  # type: ignore[attr-defined]
    return clocks


class _Changes:
    """The clocks of one ticket write: which changed, which are new, and their events."""

    def __init__(self, clocks: list[SlaClock]) -> None:
        self.clocks = {c.kind: c for c in clocks}
        self.events: list[SlaClockEvent] = []
        self.changed: set[str] = set()
        self.created: set[str] = set()
        self.restarted: set[str] = set()

    def record(self, clock: SlaClock, event: SlaClockEvent) -> None:
        self.events.append(event)
        if clock.kind not in self.created:
            self.changed.add(clock.kind)

    def save(self) -> None:
        new = [self.clocks[k] for k in self.created]
        if new:
            SlaClock.objects.bulk_create(new)
        for kind in self.changed:
            fields = CLOCK_FIELDS + (CYCLE_FIELDS if kind in self.restarted else [])
            self.clocks[kind].save(update_fields=fields)
        if self.events:
            SlaClockEvent.objects.bulk_create(self.events)


def _locked_clocks(ticket: Ticket) -> list[SlaClock]:
    return list(SlaClock.objects.select_for_update(of=("self",))
                .select_related("policy__service__calendar", "calendar").filter(ticket=ticket))


def _restart_resolution(ticket: Ticket, changes: _Changes, at: dt.datetime) -> None:
    clock = changes.clocks.get(ClockKind.RESOLUTION)
    if clock is None or clock.policy is None or ClockKind.RESOLUTION not in policy_targets(clock.policy):
        return
    changes.record(clock, clock_moves.restart(clock, _calendar(clock), at))
    changes.restarted.add(clock.kind)


def _recompute(ticket: Ticket, changes: _Changes, at: dt.datetime) -> None:
    """Follow a priority or service change: the new policy's targets, keeping the time used."""
    policy = policy_for(ticket.service_id, ticket.priority)
    targets = policy_targets(policy)
    note = f"priority {ticket.priority}"
    for kind in ClockKind.values:
        clock = changes.clocks.get(kind)
        if policy is not None and kind in targets:
            if clock is None:
                _start_late(ticket, changes, policy, kind, targets[kind], at)
            elif clock.state != ClockState.STOPPED:
                old_calendar = _calendar(clock)
                event = clock_moves.retarget(
                    clock, policy=policy, target_seconds=targets[kind], old_calendar=old_calendar,
                    new_calendar=compiled_calendar(policy_calendar(policy)), at=at, note=note)
                changes.record(clock, event)
        elif clock is not None and clock.state != ClockState.STOPPED:
            changes.record(clock, clock_moves.stop(clock, _calendar(clock), at, f"no target at {note}"))
            clock.policy = policy


def _start_late(ticket: Ticket, changes: _Changes, policy: SlaPolicy, kind: str, seconds: int,
                at: dt.datetime) -> None:
    """A target that appears after intake starts counting now, if it still has something to time."""
    if not ticket.is_active or (kind == ClockKind.FIRST_RESPONSE and ticket.first_response_at):
        return
    clock = _new_clock(ticket, policy, kind, seconds)
    paused = clock_moves.pauses_clock(policy, ticket.status)
    changes.clocks[kind] = clock
    changes.created.add(kind)
    changes.record(clock, clock_moves.start(clock, compiled_calendar(clock.calendar), at, paused=paused))


def _settle(ticket: Ticket, changes: _Changes, at: dt.datetime) -> None:
    """Bring every unstopped clock in line with the ticket's status."""
    for clock in changes.clocks.values():
        if clock.state == ClockState.STOPPED:
            continue
        calendar = _calendar(clock)
        if ticket.status in clock_moves.FINISHED:
            changes.record(clock, clock_moves.stop(clock, calendar, at, f"status {ticket.status}"))
        elif clock_moves.pauses_clock(clock.policy, ticket.status):
            if clock.state == ClockState.RUNNING:
                changes.record(clock, clock_moves.pause(clock, calendar, at, f"status {ticket.status}"))
        elif clock.state == ClockState.PAUSED:
            changes.record(clock, clock_moves.resume(clock, calendar, at, f"status {ticket.status}"))


def clocks_follow_ticket(*, ticket: Ticket, at: dt.datetime, previous_status: str,
                         previous_priority: str, first_response: bool = False,
                         service_changed: bool = False) -> None:
    """Move the ticket's clocks after a write that changed its status, priority, service or
    first response.

    In order: a reopen (resolved/closed → active) restarts the resolution clock as a new cycle;
    a priority or service change moves the clocks to the new policy, keeping the time used (a kind the new
    policy lacks stops, one it adds starts); the first public reply by the desk stops the first
    response clock; then every clock follows the status (stopped when resolved or closed, paused
    while waiting or on hold if the policy says so, running otherwise). Does nothing, without a
    query, when none of these changed.
    """
    status_changed = ticket.status != previous_status
    priority_changed = ticket.priority != previous_priority or service_changed
    if not (status_changed or priority_changed or first_response):
        return
    changes = _Changes(_locked_clocks(ticket))
    if not changes.clocks and not priority_changed:
        return
    if previous_status in clock_moves.FINISHED and ticket.is_active:
        _restart_resolution(ticket, changes, at)
    if priority_changed:
        _recompute(ticket, changes, at)
    first = changes.clocks.get(ClockKind.FIRST_RESPONSE)
    if first_response and first is not None and first.state != ClockState.STOPPED:
        changes.record(first, clock_moves.stop(first, _calendar(first), at, "first response"))
    _settle(ticket, changes, at)
    changes.save()
    _keep_due(ticket, list(changes.clocks.values()))
