"""The out-of-hours decision is part of the intake's answer: it is taken inline, in the intake
transaction. A resolution is stamped on the decision row in the resolving transaction."""

from vuoro.core.events import Event, subscribe
from vuoro.coverage.services import Fact, coverage_decide_at_intake, ooh_record


def _decide(event: Event) -> None:
    coverage_decide_at_intake(ticket=event.subject, at=event.at)


def _resolved(event: Event) -> None:
    ooh_record(ticket_id=event.ticket_id, fact=Fact.RESOLVED, at=event.at, user=event.actor)  # type: ignore[arg-type]


def connect() -> None:
    subscribe("ticket.created", "coverage.decide", _decide, deferred=False)
    subscribe("ticket.resolved", "coverage.resolved", _resolved, deferred=False)
