"""SLA clocks as the desk and the requester see them: time left in the queue, the ticket's card.

The callers have already checked that the user may see the tickets passed in. Business time
(targets, time used) is counted on each clock's calendar; "due" is a wall-clock instant.
"""

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from vuoro.sla.expected import expected_handling
from vuoro.sla.models import ClockKind, ClockState, SlaClock, SlaClockEvent
from vuoro.sla.selectors import clock_used_seconds
from vuoro.tickets.models import Status, Ticket

WARNING_SECONDS = 3600
KIND_ORDER = {ClockKind.FIRST_RESPONSE: 0, ClockKind.RESOLUTION: 1}


def duration_text(seconds: float, *, days_too: bool = True) -> str:
    """A length of time as people read it in a queue: "2 h 15 min", "3 d 4 h", "-35 min".

    Time still left is rounded down and time overdue up, so a row never looks better than it is.
    Business time is written in hours only (``days_too=False``): 24 business hours are three
    working days, not one day.
    """
    negative = seconds < 0
    minutes = math.ceil(-seconds / 60) if negative else math.floor(seconds / 60)
    days, rest = divmod(minutes, 24 * 60) if days_too else (0, minutes)
    hours, minutes = divmod(rest, 60)
    if days:
        text = _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    elif hours and minutes:
        text = _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    elif hours:
        text = _("%(hours)d h") % {"hours": hours}
    else:
        text = _("%(minutes)d min") % {"minutes": minutes}
    return f"-{text}" if negative else text


def urgency_class(seconds_left: float) -> str:
    """The queue's colour for the time left: overdue red, under an hour amber, else green."""
    if seconds_left < 0:
        return "sla-breached"
    return "sla-warning" if seconds_left < WARNING_SECONDS else "sla-ok"


def paused_ticket_ids(*, tickets: list[Ticket]) -> set[int]:
    """Which of these (already visible) tickets have a paused clock; one query for a whole page."""
    if not tickets:
        return set()
    return set(SlaClock.objects.filter(ticket_id__in=[t.pk for t in tickets], state=ClockState.PAUSED)
               .values_list("ticket_id", flat=True).distinct())


@dataclass(frozen=True)
class ClockCard:
    """One clock on the ticket page, with its business-time figures worked out for ``now``."""

    clock: SlaClock
    used_seconds: float
    events: list[SlaClockEvent] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.clock.kind

    @property
    def state(self) -> str:
        return self.clock.state

    @property
    def left_seconds(self) -> float:
        return self.clock.target_seconds - self.used_seconds

    @property
    def verdict(self) -> str:
        """"breached" once the target is passed (or the scanner said so), "met" when stopped in time."""
        if self.clock.breached_at is not None or self.left_seconds < 0:
            return "breached"
        return "met" if self.state == ClockState.STOPPED else ""


def ticket_clock_cards(*, ticket: Ticket, now: dt.datetime | None = None) -> list[ClockCard]:
    """The ticket's clocks with their history, first response before resolution; two queries."""
    now = now or timezone.now()
    clocks = (SlaClock.objects.filter(ticket=ticket).select_related("calendar")
              .prefetch_related(Prefetch("events", queryset=SlaClockEvent.objects.order_by("at", "id"))))
    ordered = sorted(clocks, key=lambda c: KIND_ORDER.get(c.kind, len(KIND_ORDER)))
    return [ClockCard(c, clock_used_seconds(c, now), list(c.events.all())) for c in ordered]


def requester_service_line(*, ticket: Ticket, language: str | None = None) -> dict[str, Any] | None:
    """What the requester is told about the service level: ``{"state", "text"}``, or None.

    Nothing for a finished ticket or one without clocks. A new ticket gets the expected handling
    time when the service can tell it; a paused clock says that the wait is on the requester.
    """
    if not ticket.is_active:
        return None
    states = set(SlaClock.objects.filter(ticket=ticket).exclude(state=ClockState.STOPPED)
                 .values_list("state", flat=True))
    if not states:
        return None
    if ClockState.RUNNING not in states:
        if ticket.status == Status.WAITING:
            return {"state": "paused", "text": _("Waiting for your reply — the clock is paused.")}
        return {"state": "paused", "text": _("Your request is on hold — the clock is paused.")}
    if ticket.status == Status.NEW:
        expected = _expected_text(ticket, language)
        if expected:
            return {"state": "running", "text": expected}
    return {"state": "running", "text": _("Your request is being handled.")}


def _expected_text(ticket: Ticket, language: str | None) -> str:
    return str(expected_handling(ticket, language).get("text") or "")
