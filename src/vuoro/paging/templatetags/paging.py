"""``{% load paging %}{% pages_card ticket user %}``: the ticket's pages on the desk ticket page."""

from typing import Any

from django import template

from vuoro.paging.selectors import pages_for_ticket, policy_for_ticket
from vuoro.tickets import access
from vuoro.tickets.models import ACTIVE_STATUSES

register = template.Library()


@register.inclusion_tag("paging/_pages_card.html", takes_context=True)
def pages_card(context: Any, ticket: Any, user: Any) -> dict[str, Any]:
    """The pages with their history and an acknowledge button; "Page on-call" when none is
    active and the service has an escalation policy."""
    pages = pages_for_ticket(user=user, ticket=ticket)
    can_page = (not any(p.is_active for p in pages) and ticket.status in ACTIVE_STATUSES
                and access.can_work_on(user, ticket) and policy_for_ticket(ticket) is not None)
    return {"pages": pages, "ticket": ticket, "can_page": can_page,
            "csrf_token": context.get("csrf_token")}
