"""Reads for runbooks: which version a ticket gets, its runs, and the versions a user may see."""

from django.db.models import Q, QuerySet

from vuoro.accounts.models import Role, User
from vuoro.catalog.models import Service
from vuoro.runbooks.models import Runbook, RunbookRun, RunbookVersion, RunStatus
from vuoro.tickets.models import Ticket


def runbook_for_ticket(ticket: Ticket) -> RunbookVersion | None:
    """The latest version of the active runbook for the ticket's service and category, else
    the service-wide one; None when the service has no runbook (or it has no version yet)."""
    candidates = Runbook.objects.filter(service_id=ticket.service_id, active=True).filter(
        Q(category__isnull=True) | Q(category_id=ticket.category_id)
    )
    # The category's own runbook sorts before the service-wide one (NULLs last).
    for runbook in sorted(candidates, key=lambda r: r.category_id is None):
        version = runbook.versions.select_related("runbook").order_by("-number").first()
        if version is not None:
            return version
    return None


def run_running(*, ticket: Ticket) -> RunbookRun | None:
    return (RunbookRun.objects.select_related("version__runbook")
            .filter(ticket=ticket, status=RunStatus.RUNNING).first())


def runs_for_ticket(*, ticket: Ticket) -> QuerySet[RunbookRun]:
    """Every run on the ticket, newest first, with its results and who did them."""
    return (RunbookRun.objects.filter(ticket=ticket)
            .select_related("version__runbook", "started_by")
            .prefetch_related("results__by"))


def can_see_service_runbooks(*, user: User, service: Service) -> bool:
    """Agents and admins see every service's runbooks; a service owner the services they own."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role in (Role.AGENT, Role.ADMIN):
        return True
    return user.role == Role.SERVICE_OWNER and service.owner_id == user.pk


def runbooks_for_service(*, user: User, service: Service) -> QuerySet[Runbook]:
    """The service's runbooks with every version, for those who may see them; else none."""
    if not can_see_service_runbooks(user=user, service=service):
        return Runbook.objects.none()
    return (Runbook.objects.filter(service=service).select_related("category")
            .prefetch_related("versions__created_by"))
