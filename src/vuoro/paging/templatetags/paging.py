"""``{% load paging %}{% pages_card ticket user %}``: the ticket's pages on the desk ticket page."""

from typing import Any

from django import template

from vuoro.paging.selectors import pages_for_ticket

register = template.Library()


@register.inclusion_tag("paging/_pages_card.html", takes_context=True)
def pages_card(context: Any, ticket: Any, user: Any) -> dict[str, Any]:
    return {"pages": pages_for_ticket(user=user, ticket=ticket), "ticket": ticket,
            "csrf_token": context.get("csrf_token")}
