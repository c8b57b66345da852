"""Reads for the partner console and the access log, each scoped by the acting user."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.utils.translation import gettext as _

from vuoro.accounts.models import DESK_ROLES, Role, Team, User
from vuoro.catalog.models import Service
from vuoro.core.pagination import Page, keyset_page
from vuoro.coverage.models import OutOfHoursDecision, ServiceCoverage
from vuoro.partner.models import PartnerAccess
from vuoro.tickets import access
from vuoro.tickets.models import ACTIVE_STATUSES, Ticket
from vuoro.tickets.selectors import ticket_get

QUEUE_LIMIT = 200
QUEUE_FIELDS = (
    "id", "reference", "subject", "status", "priority", "stops_work", "affected", "created_at",
    "service__id", "service__name_fi", "service__name_en", "service__name_sv",
    "assignee__id", "assignee__first_name", "assignee__last_name", "assignee__username",
    "assignee__email",
)
ACCESS_LOG_ORDER = ["-at", "-id"]


def partner_queue(*, user: User, limit: int = QUEUE_LIMIT) -> list[Ticket]:
    """The partner's incoming work: open tickets in scope, uncaught first, then oldest first.

    One query (the scope is subqueries and joins); at most ``limit`` rows, since a night's
    incoming work is tens of tickets, not thousands.
    """
    # The catch time comes by a correlated subquery (one probe of the decision's unique ticket
    # index per row in scope) and the decisions by a prefetch of the rows shown, so that no
    # query joins every decision there is.
    caught_at = Subquery(OutOfHoursDecision.objects.filter(ticket_id=OuterRef("pk")).order_by().values("caught_at")[:1])
    decisions = Prefetch("out_of_hours_decision", queryset=OutOfHoursDecision.objects.only(
        "id", "ticket_id", "model", "action", "caught_at", "decided_at"))
    return list(
        access.tickets_visible_to(user)
        .filter(status__in=ACTIVE_STATUSES)
        .select_related("service", "assignee")
        .only(*QUEUE_FIELDS)
        .annotate(ooh_caught_at=caught_at)
        .prefetch_related(decisions)
        .order_by(F("ooh_caught_at").asc(nulls_first=True), "created_at", "id")[:limit]
    )


@dataclass(frozen=True)
class ConsoleTicket:
    ticket: Ticket
    decision: OutOfHoursDecision | None
    coverage: ServiceCoverage | None


def console_ticket_get(*, user: User, reference: str) -> ConsoleTicket | None:
    """The ticket with its out-of-hours decision and the service's coverage, if in ``user``'s scope."""
    ticket = ticket_get(user=user, reference=reference)
    if ticket is None:
        return None
    decision = (OutOfHoursDecision.objects.select_related("caught_by")
                .filter(ticket_id=ticket.pk).first())
    coverage = ServiceCoverage.objects.filter(service_id=ticket.service_id).first()
    return ConsoleTicket(ticket, decision, coverage)


def dispatch_teams() -> QuerySet[Team]:
    """Teams a partner may hand a ticket to; names only."""
    return Team.objects.only("id", "name").order_by("name")


def dispatch_schedules() -> QuerySet:  # type: ignore[type-arg]
    """On-call schedules a partner may page; names only."""
    from vuoro.oncall.models import Schedule

    return Schedule.objects.only("id", "name").order_by("name")


def desk_person_by_email(*, email: str) -> User | None:
    """The one active desk person (not a partner) with this email; partners name, never list."""
    email = (email or "").strip()
    if not email:
        return None
    found = list(User.objects.filter(is_active=True, role__in=DESK_ROLES - {Role.PARTNER},
                                     email__iexact=email)[:2])
    return found[0] if len(found) == 1 else None


def _sees_all_access(user: User) -> bool:
    return user.is_authenticated and (user.role == Role.ADMIN or user.is_superuser)


def can_read_access_log(user: User) -> bool:
    """Service owners (their services) and administrators (all)."""
    return _sees_all_access(user) or (user.is_authenticated and user.role == Role.SERVICE_OWNER)


def access_log_services(*, user: User) -> QuerySet[Service]:
    """The services whose access log ``user`` may read, for the filter."""
    services = Service.objects.only("id", "name_fi", "name_en", "name_sv").order_by("order", "name_fi")
    return services if _sees_all_access(user) else services.filter(owner=user)


@dataclass(frozen=True)
class AccessFilters:
    service_id: int | None = None
    day_from: dt.date | None = None
    day_to: dt.date | None = None


def access_log_rows(*, user: User, filters: AccessFilters) -> QuerySet[PartnerAccess]:
    """The access log ``user`` may read, filtered, newest first; refuses other roles."""
    if not can_read_access_log(user):
        raise PermissionDenied(_("Only service owners and administrators read the access log."))
    rows = PartnerAccess.objects.all()
    if not _sees_all_access(user):
        rows = rows.filter(ticket__service__owner=user)
    if filters.service_id is not None:
        rows = rows.filter(ticket__service_id=filters.service_id)
    if filters.day_from is not None:
        rows = rows.filter(at__date__gte=filters.day_from)
    if filters.day_to is not None:
        rows = rows.filter(at__date__lte=filters.day_to)
    return rows.select_related("user", "ticket", "ticket__service").only(
        "id", "at", "view", "ip", "user__id", "user__first_name", "user__last_name",
        "user__username", "user__email", "ticket__id", "ticket__reference", "ticket__service__id",
        "ticket__service__name_fi", "ticket__service__name_en", "ticket__service__name_sv",
    ).order_by(*ACCESS_LOG_ORDER)


def access_log_page(*, user: User, filters: AccessFilters, cursor: str | None = None,
                    size: int = 100) -> Page:
    """A keyset page of the access log (two indexed queries at most whatever the page)."""
    return keyset_page(access_log_rows(user=user, filters=filters), ACCESS_LOG_ORDER, cursor, size)


def decision_for(ticket: Ticket) -> OutOfHoursDecision | None:
    try:
        return ticket.out_of_hours_decision  # type: ignore[no-any-return]
    except ObjectDoesNotExist:
        return None

