"""Fire SLA warnings and breaches: the worker's scan over running clocks that fell due.

Each clock is handled in its own short transaction that locks the ticket and then the clock
(the order ticket changes use), checks the clock is still due, and records everything the
alert causes together: the ``SlaAlert`` (unique per clock, kind and cycle), the clock's stamp,
the clock event, desk notices, outbox emails and a raised priority. A scanner killed at any
point leaves all of it or none of it; two scanners never fire one alert twice, because rows
locked by the other are skipped (PostgreSQL), writers are serialized (SQLite) and the unique
alert is the last word.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from vuoro.accounts.models import User
from vuoro.notify.services import Notice, notice_recipients, notice_send
from vuoro.sla.models import (
    ClockEventKind,
    ClockKind,
    ClockState,
    SlaAlert,
    SlaAlertKind,
    SlaClock,
    SlaClockEvent,
)
from vuoro.sla.services import clocks_follow_ticket
from vuoro.tickets.models import EventKind, Priority, Ticket, TicketEvent

# Which column falls due and which stamp records the firing, per alert kind.
COLUMNS: dict[str, tuple[str, str]] = {
    SlaAlertKind.WARNING: ("warn_at", "warned_at"),
    SlaAlertKind.BREACH: ("due_at", "breached_at"),
}


@dataclass(frozen=True)
class ScanResult:
    warnings: int = 0
    breaches: int = 0

    def __bool__(self) -> bool:
        return bool(self.warnings or self.breaches)


def _locked(queryset: QuerySet) -> QuerySet:
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset.select_for_update()


def due_clocks(kind: str, now: datetime) -> QuerySet[SlaClock]:
    """Running clocks whose ``kind`` threshold passed and has not fired (a partial index)."""
    due_column, stamp = COLUMNS[kind]
    return SlaClock.objects.filter(
        state=ClockState.RUNNING, **{f"{stamp}__isnull": True, f"{due_column}__lte": now}
    )


def _candidates(kind: str, now: datetime, batch: int) -> Iterator[tuple[int, int]]:
    """(clock id, ticket id) of due clocks, walking the index in pages; each seen once."""
    due_column = COLUMNS[kind][0]
    after: tuple[datetime, int] | None = None
    while True:
        page = due_clocks(kind, now)
        if after is not None:
            page = page.filter(Q(**{f"{due_column}__gt": after[0]})
                               | Q(**{due_column: after[0], "pk__gt": after[1]}))
        rows = list(page.order_by(due_column, "pk").values_list(due_column, "pk", "ticket_id")[:batch])
        for _at, pk, ticket_id in rows:
            yield pk, ticket_id
        if len(rows) < batch:
            return
        after = (rows[-1][0], rows[-1][1])


def _raise_priority(ticket: Ticket, now: datetime) -> tuple[str, str] | None:
    """One step up (P3 → P2), never past P1; a history row by the system (no actor).

    The clocks then follow the new priority's policy, as after any priority change.
    """
    order = list(Priority.values)
    position = order.index(ticket.priority)
    if position == 0:
        return None
    old, new = ticket.priority, order[position - 1]
    TicketEvent.objects.create(ticket=ticket, actor=None, kind=EventKind.CHANGED, field="priority",
                               old_value=old, new_value=new, internal=False, created_at=now)
    ticket.priority = new
    ticket.updated_at = now
    ticket.save(update_fields=["priority", "updated_at"])
    clocks_follow_ticket(ticket=ticket, at=now, previous_status=ticket.status, previous_priority=old)
    return old, new


def _headline(clock: SlaClock, kind: str) -> str:
    first_response = clock.kind == ClockKind.FIRST_RESPONSE
    if kind == SlaAlertKind.BREACH:
        if first_response:
            return _("SLA breached: first response target passed")
        return _("SLA breached: resolution target passed")
    due = formats.date_format(timezone.localtime(clock.due_at), "SHORT_DATETIME_FORMAT")
    if first_response:
        return _("SLA warning: first response due %(due)s") % {"due": due}
    return _("SLA warning: resolution due %(due)s") % {"due": due}


def _renderer(ticket: Ticket, clock: SlaClock, kind: str,
              raised: tuple[str, str] | None) -> Callable[[User], Notice]:
    """Build each recipient's notice; runs inside that recipient's language."""
    url = f"{settings.BASE_URL}/desk/tickets/{ticket.reference}/"

    def render(user: User) -> Notice:
        headline = _headline(clock, kind)
        lines = [
            headline,
            "",
            _("Ticket: %(reference)s %(subject)s") % {"reference": ticket.reference, "subject": ticket.subject},
            _("Priority: %(priority)s") % {"priority": Priority(ticket.priority).label},
        ]
        if raised:
            lines.append(_("Priority raised from %(old)s to %(new)s because the target passed.")
                         % {"old": raised[0], "new": raised[1]})
        lines += ["", _("Open the ticket: %(url)s") % {"url": url}, ""]
        return Notice(text=f"{ticket.reference}: {headline}",
                      subject=f"[{ticket.reference}] {headline}", body="\n".join(lines))

    return render


def _record_alert(clock: SlaClock, kind: str, now: datetime) -> SlaAlert | None:
    """Insert the alert and stamp the clock; None when this cycle's alert already exists."""
    due_column, stamp = COLUMNS[kind]
    setattr(clock, stamp, now)
    clock.save(update_fields=[stamp])
    try:
        with transaction.atomic():
            return SlaAlert.objects.create(clock=clock, kind=kind, cycle=clock.cycle, fired_at=now,
                                           due_at=getattr(clock, due_column))
    except IntegrityError:
        return None


def fire_alert(*, clock_id: int, ticket_id: int, kind: str, now: datetime) -> SlaAlert | None:
    """Fire one clock's warning or breach if still due; None when skipped or already fired.

    Locks the ticket, then the clock (both skipped if another scanner holds them). Everything
    the alert causes commits with it; idempotent per (clock, kind, cycle).
    """
    with transaction.atomic():
        ticket = _locked(Ticket.objects.filter(pk=ticket_id)).first()
        if ticket is None:
            return None
        clock = _locked(due_clocks(kind, now).filter(pk=clock_id, ticket_id=ticket_id)).first()
        if clock is None:
            return None
        alert = _record_alert(clock, kind, now)
        if alert is None:
            return None
        # Business time used when the threshold was crossed, which is what due_at/warn_at mean.
        used = clock.target_seconds if kind == SlaAlertKind.BREACH else (
            clock.target_seconds * clock.warning_percent / 100)
        SlaClockEvent.objects.create(
            clock=clock, at=now, used_seconds=used, target_seconds=clock.target_seconds,
            due_at=clock.due_at,
            kind=ClockEventKind.BREACH if kind == SlaAlertKind.BREACH else ClockEventKind.WARNING,
        )
        raised = None
        if kind == SlaAlertKind.BREACH and clock.policy_id and clock.policy.raise_priority_on_breach:
            raised = _raise_priority(ticket, now)
        lead = ticket.team.lead if ticket.team_id else None
        notice_send(users=notice_recipients(ticket.assignee, lead), ticket=ticket,
                    key=f"sla-{alert.pk}", render=_renderer(ticket, clock, kind, raised), now=now)
    return alert


def scan_sla(*, now: datetime | None = None, batch: int = 100) -> ScanResult:
    """Fire every warning, then every breach, due at ``now``; one transaction per clock.

    Clocks another scanner is handling are skipped and picked up by the next scan if still due.
    """
    now = now or timezone.now()
    fired = dict.fromkeys(COLUMNS, 0)
    for kind in COLUMNS:
        for clock_id, ticket_id in _candidates(kind, now, batch):
            if fire_alert(clock_id=clock_id, ticket_id=ticket_id, kind=kind, now=now):
                fired[kind] += 1
    return ScanResult(warnings=fired[SlaAlertKind.WARNING], breaches=fired[SlaAlertKind.BREACH])
