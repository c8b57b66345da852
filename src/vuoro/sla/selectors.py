"""Reads of SLA clocks for pages and the API; the caller has already checked who may see the ticket."""

import datetime as dt

from django.utils import timezone

from vuoro.calendars.selectors import business_calendar_for
from vuoro.sla.models import ClockKind, ClockState, SlaClock
from vuoro.tickets.models import Ticket


def ticket_clocks(*, ticket: Ticket) -> list[SlaClock]:
    """The ticket's clocks, first response before resolution; one query, none when the clocks
    were just started on this very ticket object (``clocks_start`` leaves them on it)."""
    order = {ClockKind.FIRST_RESPONSE: 0, ClockKind.RESOLUTION: 1}
    started = getattr(ticket, "_started_sla_clocks", None)
    clocks = started if started is not None else (
        SlaClock.objects.filter(ticket=ticket).select_related("calendar"))
    return sorted(clocks, key=lambda c: order.get(c.kind, 2))


def first_response_due(*, ticket: Ticket) -> dt.datetime | None:
    """When the first response is due, if its clock is running; no query when the clocks were
    just started on this very ticket object."""
    started = getattr(ticket, "_started_sla_clocks", None)
    if started is not None:
        return next((c.due_at for c in started
                     if c.kind == ClockKind.FIRST_RESPONSE and c.state == ClockState.RUNNING), None)
    return (SlaClock.objects.filter(ticket=ticket, kind=ClockKind.FIRST_RESPONSE,
                                    state=ClockState.RUNNING)
            .values_list("due_at", flat=True).first())


def clock_used_seconds(clock: SlaClock, now: dt.datetime | None = None) -> float:
    """Business time used so far, counting the current run of a running clock."""
    if clock.state != ClockState.RUNNING or clock.running_since is None:
        return clock.used_seconds
    run = business_calendar_for(clock.calendar).business_time_between(
        clock.running_since, now or timezone.now())
    return clock.used_seconds + max(run.total_seconds(), 0.0)
