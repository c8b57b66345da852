"""What a partner agent may see and change: the rule, here because it is made of coverage data.

``tickets.access`` asks these rules for every partner agent (registered in ``CoverageConfig.ready``),
so every view, endpoint, attachment and export scopes partners the same way.

The rule, in full:

- Only services whose out-of-hours coverage names one of the partner's teams.
- **Open** tickets of those services (new, open, waiting, on hold) that intake decided the
  partner handles now, that the partner caught, that are assigned to the partner, or that are
  routed to one of the partner's teams. The partner sees and works on these.
- **After resolution or closure**, only the tickets the partner itself handled (caught, or
  assigned to them), read-only, for ``VUORO_PARTNER_AFTERCARE_DAYS`` (7 by default) after the
  ticket was resolved or closed; and of their internal notes and history, only what was written
  before then (``tickets.access.internal_cutoff``). A ticket routed to the partner's team but
  never touched by them drops out of sight when it is resolved.
"""

import datetime as dt

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from vuoro.accounts.models import User
from vuoro.coverage.decide import Action, HandledBy
from vuoro.coverage.models import OutOfHoursDecision, ServiceCoverage
from vuoro.tickets.models import ACTIVE_STATUSES

AFTERCARE_DAYS = 7


def aftercare() -> dt.timedelta:
    """How long a partner still reads a ticket it handled after it was resolved or closed."""
    return dt.timedelta(days=float(getattr(settings, "VUORO_PARTNER_AFTERCARE_DAYS", AFTERCARE_DAYS)))


def _covered(user: User) -> Q:
    teams = user.teams.values("pk")
    return Q(service_id__in=ServiceCoverage.objects.filter(partner_team__in=teams).values("service_id"))


def partner_work_scope(user: User) -> Q:
    """The open tickets the partner works on (see the module's rule). One SQL condition."""
    teams = user.teams.values("pk")
    # One EXISTS on the one-per-ticket decision rather than a join on it. Measured on PostgreSQL
    # with 100k tickets (20k on the covered service): a ticket by reference 0.1 ms (a hashed
    # IN subquery took 37 ms, a join on every decision 9 ms); the partner queue 45 ms.
    needed = OutOfHoursDecision.objects.filter(ticket_id=OuterRef("pk")).filter(
        Q(caught_by=user) | Q(action=Action.HANDLE_NOW.value, handled_by=HandledBy.PARTNER.value))
    return (_covered(user) & Q(status__in=ACTIVE_STATUSES)
            & (Q(Exists(needed)) | Q(assignee=user) | Q(team__in=teams)))


def partner_scope(user: User) -> Q:
    """Every ticket the partner may read: its open work and, for a while, what it handled."""
    since = timezone.now() - aftercare()
    caught = OutOfHoursDecision.objects.filter(ticket_id=OuterRef("pk"), caught_by=user)
    handled = (_covered(user) & ~Q(status__in=ACTIVE_STATUSES)
               & (Q(resolved_at__gte=since) | Q(resolved_at__isnull=True, closed_at__gte=since))
               & (Q(Exists(caught)) | Q(assignee=user)))
    return partner_work_scope(user) | handled
