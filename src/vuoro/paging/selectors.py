"""Reads on pages, scoped by the acting user through ``tickets.access``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from vuoro.accounts.models import User
from vuoro.paging.models import Page, PageStatus, UnknownOutcome
from vuoro.tickets import access
from vuoro.tickets.models import Ticket


def pages_visible_to(user: User) -> QuerySet[Page]:
    """Pages of the tickets the user may work on; nothing for requesters."""
    if not (user.is_authenticated and user.uses_desk):
        return Page.objects.none()
    return Page.objects.filter(ticket__in=access.tickets_visible_to(user))


def pages_for_ticket(*, user: User, ticket: Ticket) -> list[Page]:
    """The ticket's pages, newest first, with their events; empty if the user may not see them."""
    if not access.can_work_on(user, ticket):
        return []
    return list(
        Page.objects.filter(ticket=ticket)
        .select_related("acknowledged_by", "opened_by", "policy")
        .prefetch_related("events__user", "unknown_outcomes__message__user",
                          "unknown_outcomes__moved_to")
        .order_by("-opened_at", "-id")
    )


def page_get(*, user: User, page_id: int) -> Page | None:
    return (pages_visible_to(user).select_related("ticket", "acknowledged_by")
            .prefetch_related("events").filter(pk=page_id).first())


def pages_list(*, user: User, status: str | None = None, after_id: int | None = None,
               limit: int = 50) -> list[Page]:
    """Newest first, keyset by id."""
    qs = pages_visible_to(user).select_related("ticket", "acknowledged_by").order_by("-id")
    if status:
        qs = qs.filter(status=status)
    if after_id is not None:
        qs = qs.filter(pk__lt=after_id)
    return list(qs[:limit])


def policy_for_ticket(ticket: Ticket) -> Any:
    """The escalation policy of the ticket's service coverage, or None."""
    from vuoro.coverage.models import ServiceCoverage

    coverage = ServiceCoverage.objects.filter(service_id=ticket.service_id).select_related(
        "escalation_policy").first()
    return None if coverage is None else coverage.escalation_policy


def unknown_outcomes_unresolved() -> int:
    """Page notifications of unknown outcome nobody has settled: the page is still triggered
    (not acknowledged or resolved) and no notification it moved on to has been sent."""
    return (UnknownOutcome.objects.filter(page__status=PageStatus.TRIGGERED)
            .exclude(moved_to__status="sent").count())
