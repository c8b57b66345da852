"""Reads for phone work: who is calling, and what they have asked before. Scoped by the user."""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from vuoro.accounts.models import User
from vuoro.accounts.phone_numbers import normalise
from vuoro.telephony.models import Call
from vuoro.tickets import access
from vuoro.tickets.models import Ticket

HISTORY_LIMIT = 10


def caller_find(*, number: str) -> User | None:
    """The active user whose stored phone is ``number`` (E.164), however the phone was typed.

    ``User.phone_e164`` holds each phone normalised on save, so this is one indexed equality;
    the oldest account wins when two share a number.
    """
    if len(number) < 7:
        return None
    return User.objects.filter(is_active=True, phone_e164=number).order_by("pk").first()


@dataclass
class Lookup:
    """What the desk sees about a number. For partners ``caller`` is always ``None`` and
    ``calls`` holds only calls on tickets in their scope: they get no customer register."""

    number: str | None
    caller: User | None = None
    tickets: list[Ticket] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return bool(self.caller or self.tickets or self.calls)


def lookup(*, user: User, raw_number: str) -> Lookup:
    """The caller and their recent tickets and calls, as far as ``user`` may see them."""
    number = normalise(raw_number)
    if number is None or not user.uses_desk:
        return Lookup(number=number)
    caller = caller_find(number=number)
    by_number = Q(calls__number=number)
    if caller is not None:
        by_number |= Q(requester=caller)
    tickets: QuerySet[Ticket] = access.tickets_visible_to(user, Ticket.objects.filter(by_number))
    tickets = tickets.distinct().order_by("-created_at")[:HISTORY_LIMIT]
    calls = Call.objects.filter(number=number).select_related("ticket", "logged_by")
    if access.ticket_scope(user) is not None:
        # A call on a ticket the user may not see would tell its reason and reference.
        visible = access.tickets_visible_to(user).values("pk")
        seen = Q(ticket__in=visible) if user.is_partner else Q(ticket__isnull=True) | Q(ticket__in=visible)
        calls = calls.filter(seen)
    if user.is_partner:
        return Lookup(number=number, tickets=list(tickets), calls=list(calls[:HISTORY_LIMIT]))
    return Lookup(number=number, caller=caller, tickets=list(tickets), calls=list(calls[:HISTORY_LIMIT]))
