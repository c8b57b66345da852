"""What a partner agent may see: the rule, here because it is made of coverage data.

``tickets.access`` asks this rule for every partner agent (registered in ``CoverageConfig.ready``),
so every view, endpoint and export scopes partners the same way.
"""

from django.db.models import Exists, OuterRef, Q

from vuoro.accounts.models import User
from vuoro.coverage.decide import Action, HandledBy
from vuoro.coverage.models import OutOfHoursDecision, ServiceCoverage
from vuoro.tickets.models import ACTIVE_STATUSES


def partner_scope(user: User) -> Q:
    """The tickets a partner agent needs, and nothing more.

    Only services whose out-of-hours coverage names one of the partner's teams; of those, the
    open tickets that intake decided the partner handles now, and the tickets the partner
    handled: caught by them, assigned to them, or routed to one of their teams. A resolved
    ticket the partner never touched drops out of sight. One SQL condition (subqueries on
    the coverage, the teams and the decision), no per-row Python.
    """
    teams = user.teams.values("pk")
    covered = ServiceCoverage.objects.filter(partner_team__in=teams).values("service_id")
    # One EXISTS on the one-per-ticket decision rather than a join on it. Measured on PostgreSQL
    # with 100k tickets (20k on the covered service): a ticket by reference 0.1 ms (a hashed
    # IN subquery took 37 ms, a join on every decision 9 ms); the partner queue 45 ms.
    needed = OutOfHoursDecision.objects.filter(ticket_id=OuterRef("pk")).filter(
        Q(caught_by=user)
        | Q(action=Action.HANDLE_NOW.value, handled_by=HandledBy.PARTNER.value,
            ticket__status__in=ACTIVE_STATUSES)
    )
    return Q(service_id__in=covered) & (Q(Exists(needed)) | Q(assignee=user) | Q(team__in=teams))
