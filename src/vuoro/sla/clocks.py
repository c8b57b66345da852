"""How one SLA clock moves: start, pause, resume, stop, restart and retarget.

These functions change an ``SlaClock`` in memory and return the unsaved ``SlaClockEvent`` that
records the move; ``vuoro.sla.services`` loads, locks and saves them. Business time is counted
on the clock's compiled calendar, so a pause over a weekend costs nothing and a resume on
Monday morning sets the due time from the time still left.

``used_seconds`` always means business time used before ``running_since``; before a clock
changes target, calendar or state, the time of the current run is folded into it first.
"""

import datetime as dt

from vuoro.calendars.businesstime import BusinessCalendar
from vuoro.sla.models import ClockEventKind, ClockState, SlaClock, SlaClockEvent, SlaPolicy
from vuoro.sla.policies import policy_calendar
from vuoro.tickets.models import Status

FINISHED = (Status.RESOLVED, Status.CLOSED)
PAUSE_FLAGS: dict[str, str] = {Status.WAITING: "pause_when_waiting", Status.ON_HOLD: "pause_when_on_hold"}


def pauses_clock(policy: SlaPolicy | None, status: str) -> bool:
    """Whether ``status`` stops the clock counting under ``policy`` (a lost policy pauses)."""
    flag = PAUSE_FLAGS.get(status)
    if flag is None:
        return False
    return True if policy is None else bool(getattr(policy, flag))


def _event(clock: SlaClock, kind: str, at: dt.datetime, note: str = "") -> SlaClockEvent:
    return SlaClockEvent(clock=clock, kind=kind, at=at, used_seconds=clock.used_seconds,
                         target_seconds=clock.target_seconds, due_at=clock.due_at, note=note)


def _run_from(clock: SlaClock, calendar: BusinessCalendar, at: dt.datetime) -> None:
    """Run from ``at``: due when the time left is used up (``at`` itself if it already is)."""
    clock.state = ClockState.RUNNING
    clock.running_since = at
    clock.stopped_at = None
    left = clock.target_seconds - clock.used_seconds
    clock.due_at = calendar.add_business_time(at, dt.timedelta(seconds=left)) if left > 0 else at
    warn_left = clock.target_seconds * clock.warning_percent / 100 - clock.used_seconds
    clock.warn_at = (calendar.add_business_time(at, dt.timedelta(seconds=warn_left))
                     if warn_left >= 0 else None)


def _halt(clock: SlaClock) -> None:
    clock.running_since = None
    clock.due_at = None
    clock.warn_at = None


def fold_run(clock: SlaClock, calendar: BusinessCalendar, at: dt.datetime) -> None:
    """Add the business time of the current run to ``used_seconds``; the run restarts at ``at``."""
    if clock.state == ClockState.RUNNING and clock.running_since is not None:
        used = calendar.business_time_between(clock.running_since, at).total_seconds()
        clock.used_seconds += max(used, 0.0)
        clock.running_since = at


def verdict(clock: SlaClock) -> str:
    return "met" if clock.used_seconds <= clock.target_seconds else "missed"


def start(clock: SlaClock, calendar: BusinessCalendar, at: dt.datetime, *, paused: bool = False) -> SlaClockEvent:
    """A new clock: running from ``at`` with nothing used, or paused if the ticket already waits."""
    clock.used_seconds = 0.0
    if paused:
        clock.state = ClockState.PAUSED
        _halt(clock)
    else:
        _run_from(clock, calendar, at)
    return _event(clock, ClockEventKind.START, at, "paused" if paused else "")


def pause(clock: SlaClock, calendar: BusinessCalendar, at: dt.datetime, note: str = "") -> SlaClockEvent:
    fold_run(clock, calendar, at)
    clock.state = ClockState.PAUSED
    _halt(clock)
    return _event(clock, ClockEventKind.PAUSE, at, note)


def resume(clock: SlaClock, calendar: BusinessCalendar, at: dt.datetime, note: str = "") -> SlaClockEvent:
    _run_from(clock, calendar, at)
    return _event(clock, ClockEventKind.RESUME, at, note)


def stop(clock: SlaClock, calendar: BusinessCalendar, at: dt.datetime, reason: str = "") -> SlaClockEvent:
    """Freeze the used time; the note says whether the target was met."""
    fold_run(clock, calendar, at)
    clock.state = ClockState.STOPPED
    clock.stopped_at = at
    _halt(clock)
    note = verdict(clock) if not reason else f"{verdict(clock)}; {reason}"
    return _event(clock, ClockEventKind.STOP, at, note)


def restart(clock: SlaClock, calendar: BusinessCalendar, at: dt.datetime) -> SlaClockEvent:
    """A new cycle on reopen: nothing used, and the last cycle's warning and breach cleared."""
    clock.cycle += 1
    clock.used_seconds = 0.0
    clock.warned_at = None
    clock.breached_at = None
    _run_from(clock, calendar, at)
    return _event(clock, ClockEventKind.RESTART, at, f"cycle {clock.cycle}")


def retarget(clock: SlaClock, *, policy: SlaPolicy, target_seconds: int, old_calendar: BusinessCalendar,
             new_calendar: BusinessCalendar, at: dt.datetime, note: str = "") -> SlaClockEvent:
    """Move a clock to another policy keeping the time used; warnings and breaches already
    recorded by the scanner stay as they are."""
    fold_run(clock, old_calendar, at)
    clock.policy = policy
    clock.calendar = policy_calendar(policy)
    clock.target_seconds = target_seconds
    clock.warning_percent = policy.warning_percent
    if clock.state == ClockState.RUNNING:
        _run_from(clock, new_calendar, at)
    return _event(clock, ClockEventKind.RECOMPUTE, at, note)
