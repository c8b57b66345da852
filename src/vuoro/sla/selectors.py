"""Reads of SLA clocks for pages and the API; the caller has already checked who may see the ticket."""

import datetime as dt

from vuoro.sla.models import ClockKind, ClockState, SlaClock
from vuoro.tickets.models import Ticket


def ticket_clocks(*, ticket: Ticket) -> list[SlaClock]:
    """The ticket's clocks, first response before resolution; one query."""
    order = {ClockKind.FIRST_RESPONSE: 0, ClockKind.RESOLUTION: 1}
    return sorted(SlaClock.objects.filter(ticket=ticket), key=lambda c: order.get(c.kind, 2))


def first_response_due(*, ticket: Ticket) -> dt.datetime | None:
    """When the first response is due, if its clock is running."""
    return (SlaClock.objects.filter(ticket=ticket, kind=ClockKind.FIRST_RESPONSE,
                                    state=ClockState.RUNNING)
            .values_list("due_at", flat=True).first())
