"""The requester's one line about the service level, for the portal's ticket page.

It lives beside the desk's SLA reads so that both pages word the clocks from the same rules;
the portal and the tracking link share the template that loads it.
"""

from typing import Any

from django import template
from django.utils.translation import get_language

from vuoro.desk.sla import requester_service_line
from vuoro.tickets.models import Ticket

register = template.Library()


@register.simple_tag
def service_line(ticket: Ticket) -> dict[str, Any] | None:
    return requester_service_line(ticket=ticket, language=get_language())
