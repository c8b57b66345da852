"""SLA clocks follow every ticket write: intake, pauses, first response, resolution, reopen, priority."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from vuoro.calendars import selectors as calendar_selectors
from vuoro.calendars.models import Calendar, OpeningHours
from vuoro.sla.models import ClockState, SlaClock, SlaClockEvent, SlaPolicy
from vuoro.tickets.models import Status
from vuoro.tickets.services import message_add, ticket_change, tickets_bulk_change

HELSINKI = ZoneInfo("Europe/Helsinki")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HELSINKI)


def office_hours() -> Calendar:
    """Monday to Friday 8–16, Finnish public holidays."""
    calendar = Calendar.objects.create(name="Office hours", timezone="Europe/Helsinki", holiday_country="FI")
    for weekday in range(5):
        OpeningHours.objects.create(calendar=calendar, weekday=weekday, start=dt.time(8), end=dt.time(16))
    return calendar


def clock(ticket, kind: str) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, kind=kind)


def events(ticket, kind: str) -> list[str]:
    return list(SlaClockEvent.objects.filter(clock__ticket=ticket, clock__kind=kind)
                .order_by("at", "id").values_list("kind", flat=True))


def refreshed(ticket):
    ticket.refresh_from_db()
    return ticket


@pytest.fixture(autouse=True)
def fresh_calendars():
    """Compiled calendars are cached per row id and version; test rows reuse both."""
    calendar_selectors._compiled.cache_clear()
    yield
    calendar_selectors._compiled.cache_clear()


@pytest.fixture
def policy(world):
    """Workstations, every priority (the factory's answers make P5) get 1 h response, 8 h resolution, 24/7."""
    return SlaPolicy.objects.create(service=world.other, priority="", first_response_minutes=60,
                                    resolution_minutes=480)


@pytest.fixture
def start():
    with time_machine.travel(local(2026, 11, 18, 10, 0), tick=False) as traveller:
        yield traveller


# Intake


def test_office_hours_clock_started_on_friday_afternoon_is_due_on_monday_morning(world):
    world.other.calendar = office_hours()
    world.other.save()
    SlaPolicy.objects.create(service=world.other, first_response_minutes=120)
    with time_machine.travel(local(2026, 11, 20, 15, 0), tick=False):
        ticket = f.ticket(world.requester_a, world.other)
    first = clock(ticket, "first_response")
    assert first.state == ClockState.RUNNING
    assert first.due_at == local(2026, 11, 23, 9, 0)
    assert first.warn_at == local(2026, 11, 23, 8, 36)
    assert refreshed(ticket).sla_due_at == local(2026, 11, 23, 9, 0)


def test_critical_service_without_hours_counts_around_the_clock(world):
    SlaPolicy.objects.create(service=world.critical, priority="P1", first_response_minutes=30,
                             resolution_minutes=240)
    with time_machine.travel(local(2026, 11, 21, 2, 0), tick=False):
        ticket = f.ticket(world.requester_a, world.critical, stops_work="yes", affected="many")
    assert ticket.priority == "P1"
    assert clock(ticket, "first_response").due_at == local(2026, 11, 21, 2, 30)
    assert clock(ticket, "resolution").due_at == local(2026, 11, 21, 6, 0)
    assert refreshed(ticket).sla_due_at == local(2026, 11, 21, 2, 30)


def test_the_policy_for_the_priority_wins_over_the_catch_all(world, policy, start):
    SlaPolicy.objects.create(service=world.other, priority="P5", resolution_minutes=120)
    ticket = f.ticket(world.requester_a, world.other)
    assert [c.kind for c in SlaClock.objects.filter(ticket=ticket)] == ["resolution"]
    assert clock(ticket, "resolution").target_seconds == 7200


def test_a_policy_calendar_overrides_the_service_hours(world, start):
    SlaPolicy.objects.create(service=world.other, first_response_minutes=60, calendar=office_hours())
    with time_machine.travel(local(2026, 11, 21, 12, 0), tick=False):
        ticket = f.ticket(world.requester_a, world.other)
    assert clock(ticket, "first_response").due_at == local(2026, 11, 23, 9, 0)


def test_without_a_policy_there_are_no_clocks_and_every_write_still_works(world, start):
    ticket = f.ticket(world.requester_a, world.other)
    message_add(actor=world.agent, ticket=ticket, body="On it.")
    ticket_change(actor=world.agent, ticket=ticket, status=Status.WAITING, priority="P1")
    message_add(actor=world.requester_a, ticket=ticket, body="Here you are.")
    ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)
    assert not SlaClock.objects.filter(ticket=ticket).exists()
    assert refreshed(ticket).status == Status.RESOLVED
    assert ticket.sla_due_at is None


def test_intake_with_a_policy_costs_a_few_queries_more(world, policy, start, django_assert_max_num_queries):
    f.ticket(world.requester_a, world.other)  # warms the compiled calendar cache
    with CaptureQueriesContext(connection) as without_sla:
        f.ticket(world.requester_b, world.critical)
    with django_assert_max_num_queries(len(without_sla.captured_queries) + 3):
        f.ticket(world.requester_b, world.other)
    assert SlaClock.objects.filter(ticket__requester=world.requester_b).count() == 2


# Pauses


def test_waiting_pauses_and_the_requester_reply_resumes_with_the_used_time_kept(world, policy, start):
    ticket = f.ticket(world.requester_a, world.other)
    start.move_to(local(2026, 11, 18, 10, 30))
    ticket_change(actor=world.agent, ticket=ticket, status=Status.WAITING)
    resolution = clock(ticket, "resolution")
    assert resolution.state == ClockState.PAUSED
    assert resolution.used_seconds == 1800
    assert resolution.due_at is None
    start.move_to(local(2026, 11, 18, 14, 0))
    message_add(actor=world.requester_a, ticket=ticket, body="Here is the serial number.")
    resolution.refresh_from_db()
    assert refreshed(ticket).status == Status.OPEN
    assert resolution.state == ClockState.RUNNING
    assert resolution.used_seconds == 1800
    assert resolution.running_since == local(2026, 11, 18, 14, 0)
    assert resolution.due_at == local(2026, 11, 18, 21, 30)


def test_a_pause_over_the_weekend_on_office_hours_counts_only_open_time(world, start):
    world.other.calendar = office_hours()
    world.other.save()
    SlaPolicy.objects.create(service=world.other, resolution_minutes=600)
    with time_machine.travel(local(2026, 11, 20, 14, 0), tick=False) as traveller:
        ticket = f.ticket(world.requester_a, world.other)
        traveller.move_to(local(2026, 11, 20, 17, 0))
        ticket_change(actor=world.agent, ticket=ticket, status=Status.WAITING)
        traveller.move_to(local(2026, 11, 22, 12, 0))
        message_add(actor=world.requester_a, ticket=ticket, body="Back.")
    resolution = clock(ticket, "resolution")
    assert resolution.used_seconds == 2 * 3600
    assert resolution.due_at == local(2026, 11, 23, 16, 0)


def test_on_hold_pauses_by_default(world, policy, start):
    ticket = f.ticket(world.requester_a, world.other)
    ticket_change(actor=world.agent, ticket=ticket, status=Status.ON_HOLD)
    assert clock(ticket, "resolution").state == ClockState.PAUSED
    assert refreshed(ticket).sla_due_at is None


def test_on_hold_keeps_counting_when_the_policy_says_so(world, policy, start):
    policy.pause_when_on_hold = False
    policy.save()
    ticket = f.ticket(world.requester_a, world.other)
    ticket_change(actor=world.agent, ticket=ticket, status=Status.ON_HOLD)
    assert clock(ticket, "resolution").state == ClockState.RUNNING
    assert events(ticket, "resolution") == ["start"]


def test_moving_from_waiting_to_a_non_pausing_on_hold_resumes(world, policy, start):
    policy.pause_when_on_hold = False
    policy.save()
    ticket = f.ticket(world.requester_a, world.other)
    ticket_change(actor=world.agent, ticket=ticket, status=Status.WAITING)
    ticket_change(actor=world.agent, ticket=ticket, status=Status.ON_HOLD)
    assert clock(ticket, "resolution").state == ClockState.RUNNING
    assert events(ticket, "resolution") == ["start", "pause", "resume"]


# First response and resolution


def test_the_first_public_reply_by_the_desk_stops_the_first_response_clock(world, policy, start):
    ticket = f.ticket(world.requester_a, world.other)
    start.move_to(local(2026, 11, 18, 10, 20))
    message_add(actor=world.agent, ticket=ticket, body="We are looking at it.")
    first = clock(ticket, "first_response")
    assert first.state == ClockState.STOPPED
    assert first.used_seconds == 1200
    assert first.stopped_at == local(2026, 11, 18, 10, 20)
    assert first.events.last().note.startswith("met")
    assert clock(ticket, "resolution").state == ClockState.RUNNING
    assert refreshed(ticket).sla_due_at == local(2026, 11, 18, 18, 0)


def test_a_late_first_response_is_recorded_as_missed(world, policy, start):
    ticket = f.ticket(world.requester_a, world.other)
    start.move_to(local(2026, 11, 18, 12, 0))
    message_add(actor=world.agent, ticket=ticket, body="Sorry for the wait.")
    assert clock(ticket, "first_response").events.last().note.startswith("missed")


def test_an_internal_note_or_the_requester_does_not_stop_the_first_response_clock(world, policy, start):
    ticket = f.ticket(world.requester_a, world.other)
    message_add(actor=world.agent, ticket=ticket, body="Checking stock.", internal=True)
    message_add(actor=world.requester_a, ticket=ticket, body="Any news?")
    assert clock(ticket, "first_response").state == ClockState.RUNNING
    assert events(ticket, "first_response") == ["start"]


def test_resolving_stops_both_clocks_and_clears_the_due_time(world, policy, start):
    ticket = f.ticket(world.requester_a, world.other)
    start.move_to(local(2026, 11, 18, 13, 0))
    ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)
    resolution = clock(ticket, "resolution")
    assert resolution.state == ClockState.STOPPED
    assert resolution.used_seconds == 3 * 3600
    assert resolution.events.last().note.startswith("met")
    assert clock(ticket, "first_response").state == ClockState.STOPPED
    assert refreshed(ticket).sla_due_at is None


def test_bulk_closing_stops_the_clocks_of_every_ticket(world, policy, start):
    tickets = [f.ticket(world.requester_a, world.other) for _ in range(3)]
    assert tickets_bulk_change(actor=world.agent, tickets=tickets, status=Status.CLOSED) == {}
    assert set(SlaClock.objects.values_list("state", flat=True)) == {ClockState.STOPPED}


# Reopen


def test_reopening_restarts_the_resolution_clock_as_cycle_two(world, policy, start):
    ticket = f.ticket(world.requester_a, world.other)
    ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)
    SlaClock.objects.filter(ticket=ticket, kind="resolution").update(
        warned_at=local(2026, 11, 18, 10, 0), breached_at=local(2026, 11, 18, 10, 0))
    start.move_to(local(2026, 11, 19, 9, 0))
    ticket_change(actor=world.agent, ticket=ticket, status=Status.OPEN)
    resolution = clock(ticket, "resolution")
    assert resolution.cycle == 2
    assert resolution.state == ClockState.RUNNING
    assert resolution.used_seconds == 0
    assert resolution.warned_at is None and resolution.breached_at is None
    assert resolution.due_at == local(2026, 11, 19, 17, 0)
    assert events(ticket, "resolution") == ["start", "stop", "restart"]
    assert clock(ticket, "first_response").state == ClockState.STOPPED


def test_the_requester_reopening_by_reply_restarts_the_resolution_clock(world, policy, start):
    ticket = f.ticket(world.requester_a, world.other)
    ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)
    start.move_to(local(2026, 11, 19, 9, 0))
    message_add(actor=world.requester_a, ticket=ticket, body="It broke again.")
    assert refreshed(ticket).status == Status.OPEN
    assert clock(ticket, "resolution").cycle == 2
    assert ticket.sla_due_at == local(2026, 11, 19, 17, 0)


# Priority changes


def test_a_priority_change_moves_to_the_new_target_and_keeps_the_used_time(world, policy, start):
    SlaPolicy.objects.create(service=world.other, priority="P1", first_response_minutes=30,
                             resolution_minutes=240)
    ticket = f.ticket(world.requester_a, world.other)
    start.move_to(local(2026, 11, 18, 11, 0))
    ticket_change(actor=world.agent, ticket=ticket, priority="P1")
    resolution = clock(ticket, "resolution")
    assert resolution.target_seconds == 4 * 3600
    assert resolution.used_seconds == 3600
    assert resolution.due_at == local(2026, 11, 18, 14, 0)
    assert events(ticket, "resolution") == ["start", "recompute"]
    first = clock(ticket, "first_response")
    assert first.due_at == local(2026, 11, 18, 11, 0)
    assert refreshed(ticket).sla_due_at == local(2026, 11, 18, 11, 0)


def test_an_impact_change_that_raises_the_priority_recomputes(world, policy, start):
    SlaPolicy.objects.create(service=world.other, priority="P2", resolution_minutes=120)
    ticket = f.ticket(world.requester_a, world.other)
    ticket_change(actor=world.agent, ticket=ticket, impact="high", urgency="medium")
    assert refreshed(ticket).priority == "P2"
    assert clock(ticket, "resolution").target_seconds == 7200
    assert ticket.sla_due_at == local(2026, 11, 18, 12, 0)


def test_a_new_policy_without_a_response_target_stops_that_clock(world, policy, start):
    SlaPolicy.objects.create(service=world.other, priority="P3", resolution_minutes=5 * 480)
    ticket = f.ticket(world.requester_a, world.other)
    ticket_change(actor=world.agent, ticket=ticket, priority="P3")
    assert clock(ticket, "first_response").state == ClockState.STOPPED
    assert events(ticket, "first_response") == ["start", "stop"]
    assert clock(ticket, "resolution").target_seconds == 5 * 480 * 60


def test_a_target_the_old_policy_lacked_starts_on_a_priority_change(world, start):
    SlaPolicy.objects.create(service=world.other, resolution_minutes=480)
    SlaPolicy.objects.create(service=world.other, priority="P1", first_response_minutes=30,
                             resolution_minutes=240)
    ticket = f.ticket(world.requester_a, world.other)
    ticket_change(actor=world.agent, ticket=ticket, priority="P1")
    first = clock(ticket, "first_response")
    assert first.state == ClockState.RUNNING
    assert first.due_at == local(2026, 11, 18, 10, 30)
    assert events(ticket, "first_response") == ["start"]


def test_a_recompute_leaves_a_recorded_warning_alone(world, policy, start):
    SlaPolicy.objects.create(service=world.other, priority="P4", resolution_minutes=960)
    ticket = f.ticket(world.requester_a, world.other)
    warned = local(2026, 11, 18, 16, 24)
    SlaClock.objects.filter(ticket=ticket, kind="resolution").update(warned_at=warned)
    ticket_change(actor=world.agent, ticket=ticket, priority="P4")
    resolution = clock(ticket, "resolution")
    assert resolution.warned_at == warned
    assert resolution.warn_at == local(2026, 11, 18, 22, 48)


# The audit trail


def test_every_move_of_a_clock_is_an_event_with_its_numbers(world, policy, start):
    ticket = f.ticket(world.requester_a, world.other)
    start.move_to(local(2026, 11, 18, 11, 0))
    ticket_change(actor=world.agent, ticket=ticket, status=Status.WAITING)
    start.move_to(local(2026, 11, 18, 12, 0))
    message_add(actor=world.requester_a, ticket=ticket, body="Done.")
    start.move_to(local(2026, 11, 18, 13, 0))
    ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)
    rows = list(SlaClockEvent.objects.filter(clock__ticket=ticket, clock__kind="resolution")
                .values_list("kind", "at", "used_seconds", "target_seconds", "due_at"))
    assert rows == [
        ("start", local(2026, 11, 18, 10, 0), 0, 28800, local(2026, 11, 18, 18, 0)),
        ("pause", local(2026, 11, 18, 11, 0), 3600, 28800, None),
        ("resume", local(2026, 11, 18, 12, 0), 3600, 28800, local(2026, 11, 18, 19, 0)),
        ("stop", local(2026, 11, 18, 13, 0), 7200, 28800, None),
    ]
