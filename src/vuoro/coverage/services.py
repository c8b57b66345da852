"""The out-of-hours decision at intake, and routing the ticket to the partner when it handles it."""

import datetime as dt
from enum import StrEnum

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F

from vuoro.calendars.selectors import business_calendar_for
from vuoro.catalog.models import Service
from vuoro.core import config_cache, events
from vuoro.coverage.decide import Action, HandledBy, decide
from vuoro.coverage.models import CoverageModel, DecisionReason, OutOfHoursDecision, ServiceCoverage
from vuoro.tickets.models import EventKind, Ticket, TicketEvent

PAGE_WANTED = "ticket.page_wanted"  # payload: policy_id, reason


def _coverage(service: Service) -> ServiceCoverage | None:
    try:
        return service.coverage  # type: ignore[no-any-return]
    except ObjectDoesNotExist:
        return None


def coverage_decide_at_intake(*, ticket: Ticket, at: dt.datetime) -> OutOfHoursDecision:
    """Decide and store what happens to a new ticket out of hours; one row per ticket.

    Runs inside the intake transaction: the service, its calendar and coverage come from the
    configuration cache; one INSERT, plus compiling a calendar the process has not seen yet. When the partner handles
    the ticket now, it moves to the partner team, unassigned, with internal history rows (one
    UPDATE and one INSERT more). Called once per ticket; a second call fails on the
    one-row-per-ticket constraint rather than deciding twice.
    """
    service = config_cache.cached(("coverage.service", ticket.service_id), lambda: (
        Service.objects.select_related(
            "calendar", "coverage__partner_team", "coverage__out_of_hours_calendar",
        ).get(pk=ticket.service_id)))
    coverage = _coverage(service)
    model = coverage.model if coverage is not None else CoverageModel.NONE
    hours = business_calendar_for(service.calendar)
    service_open = hours.is_open(at)
    covered = False
    if coverage is not None and model != CoverageModel.NONE and not service_open:
        partner_hours = coverage.out_of_hours_calendar
        covered = partner_hours is None or business_calendar_for(partner_hours).is_open(at)
    decision = decide(service_open=service_open, covered=covered, critical=service.critical,
                      priority=ticket.priority, stops_work=ticket.stops_work)
    partner_team = coverage.partner_team if coverage is not None and model != CoverageModel.NONE else None
    row = OutOfHoursDecision.objects.create(
        ticket=ticket, action=decision.action.value, reason=decision.reason.value, model=model,
        handled_by=decision.handled_by.value, service_open=service_open, covered=covered,
        critical=service.critical, decided_at=at,
        next_opening=hours.next_opening(at) if decision.action == Action.DEFER else None,
        partner_team=partner_team,
    )
    if decision.action == Action.HANDLE_NOW and decision.handled_by == HandledBy.PARTNER:
        _route_to_partner(ticket, partner_team, at)  # type: ignore[arg-type]
    if decision.action == Action.HANDLE_NOW and decision.handled_by == HandledBy.DESK:
        _page_desk_on_call(ticket, coverage, at)
    return row


def _page_desk_on_call(ticket: Ticket, coverage: ServiceCoverage | None, at: dt.datetime) -> None:
    """Ask for a page by the service's escalation policy (``ticket.page_wanted``, opened inline
    by the paging app); a service without a policy is left to the desk queue."""
    if coverage is None or coverage.escalation_policy_id is None:
        return
    events.publish(PAGE_WANTED, at=at, ticket_id=ticket.pk, subject=ticket,
                   policy_id=coverage.escalation_policy_id,
                   reason=str(DecisionReason.URGENT_CRITICAL.label))


def _route_to_partner(ticket: Ticket, team, at: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """Move the ticket to the partner team; a desk assignee picked at intake is not on duty now."""
    if team is None or ticket.team_id == team.pk:
        return
    old_team, old_assignee = ticket.team, ticket.assignee
    Ticket.objects.filter(pk=ticket.pk).update(team=team, assignee=None)
    ticket.team, ticket.assignee = team, None
    events = [TicketEvent(ticket=ticket, kind=EventKind.CHANGED, field="team",
                          old_value="" if old_team is None else str(old_team), new_value=str(team),
                          internal=True, created_at=at)]
    if old_assignee is not None:
        events.append(TicketEvent(ticket=ticket, kind=EventKind.CHANGED, field="assignee",
                                  old_value=old_assignee.display_name(), new_value="",
                                  internal=True, created_at=at))
    TicketEvent.objects.bulk_create(events)


class Fact(StrEnum):
    """Something that happened to an out-of-hours ticket, for the monthly review."""

    CAUGHT = "caught"  # a partner took it
    PARTNER_ACTION = "partner_action"  # a partner did something on it (triage, runbook step, call…)
    ESCALATED = "escalated"  # handed on: dispatched to a team or person, or a page opened
    PAGED = "paged"  # a page was opened
    ACKNOWLEDGED = "acknowledged"  # a page was acknowledged
    RESOLVED = "resolved"  # the ticket was resolved


def ooh_record(*, ticket_id: int, fact: Fact, at: dt.datetime, user=None) -> int:  # type: ignore[no-untyped-def]
    """Record a fact on the ticket's out-of-hours decision; first occurrences only.

    Only tickets decided out of hours (not ``normal``) collect figures. One UPDATE, meant to run
    inside the transaction that makes the change. Returns the rows changed (0 or 1).
    """
    rows = OutOfHoursDecision.objects.filter(ticket_id=ticket_id).exclude(action=Action.NORMAL.value)
    if fact == Fact.PARTNER_ACTION:
        return rows.update(partner_actions=F("partner_actions") + 1)
    if fact == Fact.CAUGHT:
        return rows.filter(caught_at__isnull=True).update(
            caught_at=at, caught_by=user, partner_actions=F("partner_actions") + 1)
    if fact == Fact.RESOLVED:
        by_partner = user is not None and getattr(user, "role", "") == "partner"
        return rows.filter(resolved_at__isnull=True).update(resolved_at=at, resolved_by_partner=by_partner)
    field = {Fact.ESCALATED: "escalated_at", Fact.PAGED: "paged_at",
             Fact.ACKNOWLEDGED: "acknowledged_at"}[fact]
    return rows.filter(**{f"{field}__isnull": True}).update(**{field: at})
