"""Paging reacts inline: a page wanted at intake opens in the intake transaction (the pager
picks it up within its interval), and resolving a ticket resolves its page in the same
transaction, so no one is woken for a ticket already resolved."""

import logging

from django.core.exceptions import ValidationError

from vuoro.core.events import Event, subscribe
from vuoro.paging.models import EscalationPolicy
from vuoro.paging.services import page_open, pages_resolve_for_ticket, unknown_outcome_follow_up

logger = logging.getLogger(__name__)


def _page_wanted(event: Event) -> None:
    policy = EscalationPolicy.objects.filter(pk=event.payload["policy_id"]).first()
    if policy is None:
        return
    try:
        page_open(ticket=event.subject, policy=policy, now=event.at,
                  reason=event.payload.get("reason", ""))
    except ValidationError:  # a policy that cannot run must not lose the request
        logger.exception("Could not page for ticket %s", event.subject.reference)


def _resolved(event: Event) -> None:
    pages_resolve_for_ticket(ticket=event.subject, by=event.actor, now=event.at)


def _outcome_unknown(event: Event) -> None:
    unknown_outcome_follow_up(message=event.subject, now=event.at)


def connect() -> None:
    subscribe("ticket.page_wanted", "paging.open", _page_wanted, deferred=False)
    subscribe("ticket.resolved", "paging.resolve", _resolved, deferred=False)
    subscribe("message.outcome_unknown", "paging.move_on", _outcome_unknown, deferred=False)
