"""Replies, notes, status workflow, reopen window and the append-only history."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests import factories as f
from vuoro.tickets.models import EventKind, Status, TicketEvent
from vuoro.tickets.services import message_add, ticket_change, tickets_bulk_change


@pytest.fixture
def ticket(world):
    return f.ticket(world.requester_a, world.other, world.cat_other)


def test_first_public_agent_reply_stamps_first_response(world, ticket):
    message_add(actor=world.agent, ticket=ticket, body="Internal thought", internal=True)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    message_add(actor=world.agent, ticket=ticket, body="We are on it")
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None


def test_requester_cannot_write_internal_note(world, ticket):
    with pytest.raises(PermissionDenied):
        message_add(actor=world.requester_a, ticket=ticket, body="psst", internal=True)
    assert ticket.messages.count() == 0


def test_other_organisation_cannot_reply(world, ticket):
    with pytest.raises(PermissionDenied):
        message_add(actor=world.requester_b, ticket=ticket, body="hello")


def test_empty_reply_is_refused(world, ticket):
    with pytest.raises(ValidationError):
        message_add(actor=world.requester_a, ticket=ticket, body="   ")


def test_requester_reply_moves_waiting_ticket_back_to_open(world, ticket):
    ticket_change(actor=world.agent, ticket=ticket, status=Status.WAITING)
    message_add(actor=world.requester_a, ticket=ticket, body="Here is the info")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_reply_within_window_reopens_resolved_ticket(world, ticket):
    ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)
    message_add(actor=world.requester_a, ticket=ticket, body="Still broken")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.resolved_at is None
    assert ticket.events.filter(kind=EventKind.REOPENED).exists()


def test_reply_after_window_does_not_reopen(world, ticket, settings):
    ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)
    later = timezone.now() + timedelta(days=settings.VUORO_REOPEN_WINDOW_DAYS + 1)
    with time_machine.travel(later, tick=False):
        message_add(actor=world.requester_a, ticket=ticket, body="Thanks")
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_closed_ticket_refuses_requester_reply(world, ticket):
    ticket_change(actor=world.agent, ticket=ticket, status=Status.CLOSED)
    with pytest.raises(ValidationError):
        message_add(actor=world.requester_a, ticket=ticket, body="one more thing")


def test_invalid_transition_is_refused_and_nothing_changes(world, ticket):
    ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)
    with pytest.raises(ValidationError) as exc:
        ticket_change(actor=world.agent, ticket=ticket, status=Status.WAITING)
    assert "status" in exc.value.message_dict
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_each_change_is_one_history_row_with_old_and_new(world, ticket):
    ticket_change(actor=world.agent, ticket=ticket, status=Status.OPEN, priority="P2", assignee=world.agent2)
    rows = {e.field: (e.old_value, e.new_value, e.actor) for e in ticket.events.filter(kind=EventKind.CHANGED)}
    assert rows["status"] == ("new", "open", world.agent)
    assert rows["priority"] == ("P5", "P2", world.agent)
    assert rows["assignee"][1] == world.agent2.display_name()


def test_changing_impact_recomputes_priority(world, ticket):
    ticket_change(actor=world.agent, ticket=ticket, impact="high", urgency="high")
    ticket.refresh_from_db()
    assert ticket.priority == "P1"


def test_requester_cannot_change_a_ticket(world, ticket):
    with pytest.raises(PermissionDenied):
        ticket_change(actor=world.requester_a, ticket=ticket, status=Status.CLOSED)


def test_requester_cannot_be_assigned(world, ticket):
    with pytest.raises(ValidationError):
        ticket_change(actor=world.agent, ticket=ticket, assignee=world.requester_a)


def test_history_rows_cannot_be_rewritten(world, ticket):
    event = TicketEvent.objects.filter(ticket=ticket).first()
    event.new_value = "forged"
    with pytest.raises(ValueError):
        event.save()


def test_bulk_change_reports_refusals_per_ticket(world, ticket):
    other = f.ticket(world.requester_a, world.other, world.cat_other)
    ticket_change(actor=world.agent, ticket=other, status=Status.CLOSED)
    failures = tickets_bulk_change(actor=world.agent, tickets=[ticket, other], status=Status.WAITING)
    assert list(failures) == [other.reference]
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING


def test_partner_may_only_work_on_partner_team_tickets(world, ticket):
    # Partners see only services whose out-of-hours coverage names their team.
    from vuoro.coverage.models import CoverageModel, ServiceCoverage

    ServiceCoverage.objects.create(service=ticket.service, model=CoverageModel.CATCH_DISPATCH,
                                   partner_team=world.partner_team)
    with pytest.raises(PermissionDenied):
        ticket_change(actor=world.partner, ticket=ticket, status=Status.OPEN)
    ticket_change(actor=world.agent, ticket=ticket, team=world.partner_team)
    assert ticket_change(actor=world.partner, ticket=ticket, status=Status.OPEN) == ["status"]
