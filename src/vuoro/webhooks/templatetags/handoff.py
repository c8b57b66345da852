"""``{% load handoff %}{% handoff_card ticket user %}``: the ticket's hand-off on the desk ticket page."""

from typing import Any

from django import template

from vuoro.webhooks.selectors import handoff_card_for_ticket

register = template.Library()


@register.inclusion_tag("webhooks/_handoff_card.html")
def handoff_card(ticket: Any, user: Any) -> dict[str, Any]:
    """Renders nothing when the ticket was not handed off or ``user`` is not desk staff."""
    return {"card": handoff_card_for_ticket(user=user, ticket=ticket)}
