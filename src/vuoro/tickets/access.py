"""Who may see and change which ticket. Every view, endpoint and export asks here.

Requesters see their own tickets, and their organisation's when allowed. Agents and admins
see every ticket. Service owners see the tickets of the services they own. Partner agents see
only what their out-of-hours work needs (``partner_scope``); they never see users,
organisations or other tickets. The partner's rule is coverage data and is registered by
coverage (``provide_partner_scope``); without it a partner sees nothing.
"""

from collections.abc import Callable

from django.db.models import Q, QuerySet

from vuoro.accounts.models import Role, User
from vuoro.tickets.models import Ticket

PartnerScope = Callable[[User], Q]
_partner_scope: list[PartnerScope] = []


def provide_partner_scope(rule: PartnerScope) -> None:
    """Register the rule for what a partner agent sees (replacing an earlier one).

    The rule is made of out-of-hours coverage data, which tickets do not import: coverage
    registers ``coverage.partner_scope.partner_scope`` when the project starts.
    """
    _partner_scope[:] = [rule]


def partner_scope(user: User) -> Q:
    """The tickets a partner agent needs (the registered rule); none at all without a rule."""
    return _partner_scope[0](user) if _partner_scope else Q(pk__in=[])


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


def can_work_on(user: User, ticket: Ticket) -> bool:
    """Change status, priority, assignment; write internal notes. Desk roles only."""
    return user.is_authenticated and user.uses_desk and can_view(user, ticket)


def can_reply(user: User, ticket: Ticket) -> bool:
    return can_view(user, ticket)


def sees_internal(user: User) -> bool:
    """Internal notes, internal attachments and desk-only history are for desk roles."""
    return user.is_authenticated and user.uses_desk
