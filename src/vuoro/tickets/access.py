"""Who may see and change which ticket. Every view, endpoint and export asks here.

Requesters see their own tickets, and their organisation's when allowed. Agents and admins
see every ticket. Service owners see the tickets of the services they own. Partner agents see
only what their out-of-hours work needs (``partner_scope``) and change only their open work
(``partner_work_scope``); tickets they handled stay readable for a while after resolution, but
not the desk's internal notes written after it (``internal_cutoff``). They never see users,
organisations or other tickets. The partner's rules are coverage data and are registered by
coverage (``provide_partner_scope``); without them a partner sees nothing.
"""

import datetime as dt
from collections.abc import Callable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from vuoro.accounts.models import Role, User
from vuoro.tickets.models import ACTIVE_STATUSES, Ticket

PartnerScope = Callable[[User], Q]
_partner_rules: dict[str, PartnerScope] = {}


def provide_partner_scope(*, sees: PartnerScope, works_on: PartnerScope) -> None:
    """Register the rules for what a partner agent reads and what it changes (replacing
    earlier ones); ``works_on`` must be narrower than ``sees``.

    The rules are made of out-of-hours coverage data, which tickets do not import: coverage
    registers ``coverage.partner_scope`` when the project starts.
    """
    _partner_rules.update(sees=sees, works_on=works_on)


def partner_scope(user: User) -> Q:
    """The tickets a partner agent may read (the registered rule); none at all without a rule."""
    rule = _partner_rules.get("sees")
    return rule(user) if rule else Q(pk__in=[])


def partner_work_scope(user: User) -> Q:
    """The tickets a partner agent may change or write on; none at all without a rule."""
    rule = _partner_rules.get("works_on")
    return rule(user) if rule else Q(pk__in=[])


def ticket_scope(user: User) -> Q | None:
    """A filter for the tickets ``user`` may see; ``None`` means every ticket."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.role in (Role.AGENT, Role.ADMIN):
        return None
    if user.role == Role.SERVICE_OWNER:
        return Q(service__owner=user)
    if user.role == Role.PARTNER:
        return partner_scope(user)
    scope = Q(requester=user)
    if user.can_see_organisation_tickets and user.organisation_id:
        scope |= Q(organisation_id=user.organisation_id)
    return scope


def tickets_visible_to(user: User, qs: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    qs = Ticket.objects.all() if qs is None else qs
    scope = ticket_scope(user)
    return qs if scope is None else qs.filter(scope)


def can_view(user: User, ticket: Ticket) -> bool:
    return tickets_visible_to(user, Ticket.objects.filter(pk=ticket.pk)).exists()


def _partner_may_change(user: User, ticket: Ticket) -> bool:
    return Ticket.objects.filter(pk=ticket.pk).filter(partner_work_scope(user)).exists()


def can_work_on(user: User, ticket: Ticket) -> bool:
    """Change status, priority, assignment; write internal notes. Desk roles only; a partner
    only on its open work, never on a ticket it merely still reads."""
    if not (user.is_authenticated and user.uses_desk):
        return False
    if user.role == Role.PARTNER:
        return _partner_may_change(user, ticket)
    return can_view(user, ticket)


def can_reply(user: User, ticket: Ticket) -> bool:
    if user.is_authenticated and user.role == Role.PARTNER:
        return _partner_may_change(user, ticket)
    return can_view(user, ticket)


def partner_change_refusals(user: User, ticket: Ticket, changes: dict[str, object]) -> dict[str, list[str]]:
    """What a partner agent may not change on its open work, field by field (empty: all fine).

    A partner hands a ticket on to any team (dispatch is its job) but assigns it only to
    itself or a teammate, and never moves it to another service or category: the same as the
    console offers, whichever way the change comes (console, desk panel or API).
    """
    if user.role != Role.PARTNER:
        return {}
    refusals: dict[str, list[str]] = {}
    for field in ("service", "category"):
        if field in changes and getattr(changes[field], "pk", changes[field]) != getattr(ticket, f"{field}_id"):
            refusals[field] = [_("A partner agent cannot move a ticket to another service or category.")]
    assignee = changes.get("assignee")
    if isinstance(assignee, User) and assignee.pk not in (user.pk, ticket.assignee_id) and not (
            assignee.teams.filter(members=user).exists()):
        refusals["assignee"] = [_("A partner agent assigns tickets only to itself or its teammates.")]
    return refusals


def sees_internal(user: User) -> bool:
    """Internal notes, internal attachments and desk-only history are for desk roles."""
    return user.is_authenticated and user.uses_desk


def internal_cutoff(user: User, ticket: Ticket) -> dt.datetime | None:
    """The moment after which ``user`` no longer sees the ticket's internal items; None: no cut.

    A partner reading a ticket it handled after it was resolved or closed sees the internal
    notes, history and attachments written up to then, never the desk's later ones.
    """
    if user.role != Role.PARTNER or ticket.status in ACTIVE_STATUSES:
        return None
    moments = [m for m in (ticket.resolved_at, ticket.closed_at) if m is not None]
    return min(moments) if moments else ticket.updated_at
