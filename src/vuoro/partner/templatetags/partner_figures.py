"""``{% ooh_figures ticket %}``: the ticket's out-of-hours figures, on the console and the desk."""

from typing import Any

from django import template

from vuoro.coverage.models import OutOfHoursDecision

register = template.Library()


@register.inclusion_tag("partner/_ooh_figures.html")
def ooh_figures(ticket: Any, decision: OutOfHoursDecision | None = None) -> dict[str, Any]:
    """Decision, reason, model, catch, partner actions, escalation, acknowledgement, resolution.

    One query unless the caller passes the decision it already has. Nothing for tickets decided
    in business hours that never collected figures.
    """
    if decision is None:
        decision = (OutOfHoursDecision.objects.select_related("caught_by")
                    .filter(ticket_id=ticket.pk).first())
    return {"decision": decision}


@register.filter
def duration(value: Any) -> str:
    """A timedelta as "2 h 05 min" or "7 min"; empty for None."""
    if value is None:
        return ""
    minutes = max(0, int(value.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
