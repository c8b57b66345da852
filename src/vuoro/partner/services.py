"""What a partner agent does on a ticket at night: catch, triage, dispatch, log a call, resolve.

Every action goes through the ticket services (``ticket_change``, ``message_add``), so the
ticket's own rules, history and SLA clocks apply; on top, each writes its own history row and
the out-of-hours figures (``ooh_record``) in the same transaction. The access log is written on
every partner view of a ticket.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vuoro.accounts.models import Team, User
from vuoro.coverage.models import OutOfHoursDecision
from vuoro.coverage.services import Fact, ooh_record
from vuoro.partner.models import PartnerAccess
from vuoro.tickets import priority
from vuoro.tickets.models import EventKind, Message, Status, Ticket, TicketEvent
from vuoro.tickets.services import message_add, ticket_change

CALL_OUTCOMES = [
    ("solved", gettext_lazy("Solved on the call")),
    ("dispatched", gettext_lazy("Handed on")),
    ("call_back", gettext_lazy("Will call back")),
    ("next_day", gettext_lazy("Logged for the next business day")),
]
CALLER_MAX = 40
SUMMARY_MAX = 5000
REPLY_MAX = 20_000


def partner_access_log(*, user: User, ticket: Ticket, view: str, now: dt.datetime | None = None,
                       ip: str | None = None) -> PartnerAccess | None:
    """Record that a partner agent viewed ``ticket`` through ``view``; other roles are not logged.

    One INSERT, no lock; call it after the access check passed, on every view.
    """
    if not getattr(user, "is_partner", False):
        return None
    return PartnerAccess.objects.create(user=user, ticket=ticket, view=view, at=now or timezone.now(),
                                        ip=ip or None)


def partner_access_log_many(*, user: User, tickets: list[Ticket], view: str, ip: str | None = None) -> int:
    """``partner_access_log`` for every ticket of a list the partner was shown; one INSERT."""
    if not getattr(user, "is_partner", False) or not tickets:
        return 0
    now = timezone.now()
    return len(PartnerAccess.objects.bulk_create(
        [PartnerAccess(user=user, ticket=ticket, view=view, at=now, ip=ip or None) for ticket in tickets]))


def _event(ticket: Ticket, actor: User, kind: str, new: str = "", field: str = "") -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, actor=actor, kind=kind, field=field,
                                      new_value=new, internal=True, created_at=timezone.now())


def _require_partner(user: User) -> None:
    if not user.is_authenticated or not user.is_partner:
        raise PermissionDenied(_("Only partner agents work in the partner console."))


def partner_catch(*, user: User, ticket: Ticket) -> Ticket:
    """Take the ticket: assign it to ``user`` and open it; history CAUGHT and the catch figure.

    Locks the ticket row first, so of two partners catching at once the second waits, then
    sees the first one's catch and gets "already caught by …" with nothing changed. Catching a
    ticket one already holds changes nothing.
    """
    _require_partner(user)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        holder = locked.assignee_id
        caught_by = (OutOfHoursDecision.objects.filter(ticket_id=locked.pk)
                     .values_list("caught_by", flat=True).first())
        other = next((p for p in (holder, caught_by) if p is not None and p != user.pk), None)
        if other is not None:
            name = User.objects.get(pk=other).display_name()
            raise ValidationError({"catch": [_("Already caught by %(name)s.") % {"name": name}]})
        if holder == user.pk:
            return locked
        changes: dict[str, Any] = {"assignee": user}
        if locked.status == Status.NEW:
            changes["status"] = Status.OPEN
        ticket_change(actor=user, ticket=locked, **changes)
        now = timezone.now()
        _event(locked, user, EventKind.CAUGHT, user.display_name())
        ooh_record(ticket_id=locked.pk, fact=Fact.CAUGHT, at=now, user=user)
    return Ticket.objects.get(pk=ticket.pk)


def partner_triage(*, user: User, ticket: Ticket, stops_work: str, affected: str) -> list[str]:
    """The partner's answers to "does it stop work" and "how many are affected".

    Urgency and impact follow the answers through ``ticket_change`` (so the priority follows the
    matrix); the answers themselves are stored on the ticket with history rows. Returns the
    fields changed. Counts as a partner action.
    """
    _require_partner(user)
    errors: dict[str, list[str]] = {}
    try:
        urgency = priority.urgency_from_answer(stops_work)
    except ValueError:
        errors["stops_work"] = [_("Tell whether this stops work.")]
    try:
        impact = priority.impact_from_answer(affected)
    except ValueError:
        errors["affected"] = [_("Tell how many people are affected.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        changed = ticket_change(actor=user, ticket=ticket, urgency=urgency.value, impact=impact.value)
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        answers = {"stops_work": stops_work, "affected": affected}
        for field, value in answers.items():
            old = getattr(locked, field)
            if old != value:
                TicketEvent.objects.create(ticket=locked, actor=user, kind=EventKind.CHANGED,
                                           field=field, old_value=old, new_value=value,
                                           internal=True, created_at=timezone.now())
                changed.append(field)
        Ticket.objects.filter(pk=locked.pk).update(**answers)
        ooh_record(ticket_id=locked.pk, fact=Fact.PARTNER_ACTION, at=timezone.now(), user=user)
    return changed


def partner_dispatch_to_team(*, user: User, ticket: Ticket, team: Team) -> None:
    """Hand the ticket to ``team``, unassigned: history DISPATCHED and the escalation figure."""
    _require_partner(user)
    with transaction.atomic():
        ticket_change(actor=user, ticket=ticket, team=team, assignee=None)
        _event(ticket, user, EventKind.DISPATCHED, str(team), field="team")
        ooh_record(ticket_id=ticket.pk, fact=Fact.ESCALATED, at=timezone.now(), user=user)


def partner_dispatch_to_oncall(*, user: User, ticket: Ticket, schedule: Any = None,
                               person: User | None = None, reason: str = "") -> Any:
    """Page whoever is on call in ``schedule``, or ``person``; history DISPATCHED, escalation figure.

    The page is opened by the paging app in this same transaction (it records PAGED and its own
    history); when there is nobody to page its ValidationError rolls everything back.
    """
    from vuoro.paging.services import page_open

    _require_partner(user)
    if (schedule is None) == (person is None):
        raise ValidationError({"target": [_("Choose an on-call schedule or a desk person.")]})
    with transaction.atomic():
        Ticket.objects.select_for_update().get(pk=ticket.pk)
        page = page_open(ticket=ticket, opened_by=user, reason=reason, user=person, schedule=schedule)
        target = str(schedule) if schedule is not None else person.display_name()  # type: ignore[union-attr]
        _event(ticket, user, EventKind.DISPATCHED, target, field="on_call")
        ooh_record(ticket_id=ticket.pk, fact=Fact.ESCALATED, at=timezone.now(), user=user)
    return page


def _call_note(caller: str, minutes: int, summary: str, outcome: str) -> str:
    outcome_label = dict(CALL_OUTCOMES)[outcome]
    return "\n".join([
        _("Call from %(caller)s, %(minutes)d min.") % {"caller": caller, "minutes": minutes},
        _("Outcome: %(outcome)s") % {"outcome": outcome_label},
        "",
        summary,
    ])


def partner_call_log(*, user: User, ticket: Ticket, caller: str, minutes: int, summary: str,
                     outcome: str) -> Message:
    """A phone call with the requester: an internal note, history CALL_LOGGED, a partner action."""
    _require_partner(user)
    caller, summary = (caller or "").strip(), (summary or "").strip()
    errors: dict[str, list[str]] = {}
    if not caller or len(caller) > CALLER_MAX:
        errors["caller"] = [_("Give the caller's number.")]
    if not isinstance(minutes, int) or not 0 <= minutes <= 600:
        errors["minutes"] = [_("Give the call's length in minutes (0–600).")]
    if not summary or len(summary) > SUMMARY_MAX:
        errors["summary"] = [_("Summarise the call.")]
    if outcome not in dict(CALL_OUTCOMES):
        errors["outcome"] = [_("Choose the outcome.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        note = message_add(actor=user, ticket=ticket, body=_call_note(caller, minutes, summary, outcome),
                           internal=True)
        _event(ticket, user, EventKind.CALL_LOGGED, outcome, field="call")
        ooh_record(ticket_id=ticket.pk, fact=Fact.PARTNER_ACTION, at=timezone.now(), user=user)
    return note


def partner_resolve(*, user: User, ticket: Ticket, reply: str) -> Message:
    """Resolve with a public reply to the requester; the figures record a resolution by the partner."""
    _require_partner(user)
    if not (reply or "").strip():
        raise ValidationError({"reply": [_("Tell the requester how it was solved.")]})
    if len(reply) > REPLY_MAX:
        raise ValidationError({"reply": [_("The message is too long.")]})
    with transaction.atomic():
        message = message_add(actor=user, ticket=ticket, body=reply, internal=False)
        ticket_change(actor=user, ticket=ticket, status=Status.RESOLVED)
        ooh_record(ticket_id=ticket.pk, fact=Fact.PARTNER_ACTION, at=timezone.now(), user=user)
    return message
