"""The runbook runner on a ticket page, and how runbook rows read in the ticket's timeline.

``{% load runbooks %}{% runbook_panel ticket request.user %}`` renders the runner; the views
under /runbooks/ answer its htmx posts with the same panel.
"""

from typing import Any

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from vuoro.runbooks.models import RunStatus
from vuoro.runbooks.panel import panel_context
from vuoro.runbooks.services import EVENT_ENDED, EVENT_STARTED, EVENT_STEP
from vuoro.tickets.models import TicketEvent

register = template.Library()


@register.inclusion_tag("runbooks/_panel.html", takes_context=True)
def runbook_panel(context: template.Context, ticket: Any, user: Any) -> dict[str, Any]:
    """The runner for ``ticket`` as ``user`` sees it; nothing for those who cannot work on it."""
    request = context.get("request")
    return panel_context(ticket=ticket, user=user, request=request,
                         csrf_token=context.get("csrf_token"))


@register.simple_tag
def runbook_event_sentence(event: TicketEvent) -> SafeString:
    """A runbook history row in words: who started, answered or ended which runbook, and when."""
    who = event.actor.display_name() if event.actor_id and event.actor else _("Vuoro")
    when = date_format(localtime(event.created_at), "SHORT_DATETIME_FORMAT")
    values = {"who": who, "what": event.new_value, "why": event.old_value}
    if event.field == EVENT_STARTED:
        text = _("%(who)s started the runbook %(what)s") % values
    elif event.field == EVENT_STEP:
        text = _("%(who)s, runbook step: %(what)s") % values
    elif event.field == EVENT_ENDED[RunStatus.RESOLVED]:
        text = _("%(who)s finished the runbook %(what)s: resolved") % values
    elif event.field == EVENT_ENDED[RunStatus.ESCALATED]:
        text = _("%(who)s finished the runbook %(what)s: escalated") % values
        if event.old_value:
            text = f"{text}. {event.old_value}"
    elif event.field == EVENT_ENDED[RunStatus.ABANDONED]:
        text = _("%(who)s abandoned the runbook %(what)s") % values
    else:
        text = _("%(who)s, runbook: %(what)s") % values
    return format_html('{} <time datetime="{}">{}</time>', text, event.created_at.isoformat(), when)
