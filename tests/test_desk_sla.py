"""SLA clocks in the desk and the portal: time left in the queue, the due sort, the ticket's card."""

import datetime as dt
import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f
from vuoro.sla.models import ClockKind, ClockState, SlaClock, SlaPolicy
from vuoro.tickets.models import Status, Ticket
from vuoro.tickets.services import message_add, ticket_change

QUEUE = reverse("desk:queue")
NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))


@pytest.fixture
def login(login_en):
    """The desk in English, so that assertions can quote its words."""
    return login_en


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def policy(world):
    """Workstations around the clock: first response in 1 h, resolution in 8 h."""
    return SlaPolicy.objects.create(service=world.other, priority="", first_response_minutes=60,
                                    resolution_minutes=480)


def ticket_due(world, subject: str, due: dt.datetime | None) -> Ticket:
    """A ticket whose earliest running clock falls due at ``due`` (a running resolution clock)."""
    ticket = f.ticket(world.requester_a, world.other, world.cat_other, subject=subject)
    if due is not None:
        SlaClock.objects.create(ticket=ticket, kind=ClockKind.RESOLUTION, target_seconds=8 * 3600,
                                running_since=NOW, due_at=due)
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
    return ticket


def time_left_cell(response, ticket: Ticket) -> str:
    """The "time left" cell of the ticket's queue row."""
    body = response.content.decode()
    row = re.search(rf'data-reference="{ticket.reference}">(.*?)</tr>', body, re.S).group(1)
    return re.search(r'<td class="time-left">(.*?)</td>', row, re.S).group(1)


def shown_references(response) -> list[str]:
    return re.findall(r'class="ticket-row" data-reference="([^"]+)"', response.content.decode())


def clock_block(response, kind: str) -> str:
    body = response.content.decode()
    return re.search(rf'<div class="sla-clock[^"]*" data-kind="{kind}".*?</ol>', body, re.S).group(0)


# Queue: time left -----------------------------------------------------------------------------


def test_time_left_over_an_hour_is_green(world, login, frozen):
    ticket = ticket_due(world, "Printer jams", NOW + dt.timedelta(hours=2, minutes=15, seconds=40))
    cell = time_left_cell(login(world.agent).get(QUEUE), ticket)
    assert "sla-ok" in cell and ">2 h 15 min<" in cell


def test_time_left_under_an_hour_is_amber(world, login, frozen):
    ticket = ticket_due(world, "Printer jams", NOW + dt.timedelta(minutes=35))
    cell = time_left_cell(login(world.agent).get(QUEUE), ticket)
    assert "sla-warning" in cell and ">35 min<" in cell


def test_overdue_time_is_negative_and_red(world, login, frozen):
    ticket = ticket_due(world, "Printer jams", NOW - dt.timedelta(minutes=34, seconds=10))
    cell = time_left_cell(login(world.agent).get(QUEUE), ticket)
    assert "sla-breached" in cell and ">-35 min<" in cell


def test_days_left_are_shown_in_days_and_hours(world, login, frozen):
    ticket = ticket_due(world, "Printer jams", NOW + dt.timedelta(days=3, hours=4, minutes=20))
    cell = time_left_cell(login(world.agent).get(QUEUE), ticket)
    assert ">3 d 4 h<" in cell


def test_a_ticket_whose_clocks_are_paused_shows_paused(world, login, frozen):
    ticket = ticket_due(world, "Printer jams", None)
    SlaClock.objects.create(ticket=ticket, kind=ClockKind.RESOLUTION, target_seconds=3600,
                            state=ClockState.PAUSED, used_seconds=600)
    cell = time_left_cell(login(world.agent).get(QUEUE), ticket)
    assert "sla-paused" in cell and ">paused<" in cell


def test_a_ticket_without_a_running_clock_shows_a_dash(world, login, frozen):
    ticket = ticket_due(world, "Printer jams", None)
    cell = time_left_cell(login(world.agent).get(QUEUE), ticket)
    assert 'data-sla="none"' in cell and "—" in cell


def test_the_queue_runs_the_same_number_of_queries_for_5_and_30_tickets_with_clocks(world, login, frozen):
    client = login(world.agent)

    def queries_for_queue() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(QUEUE, {"sort": "due"}).status_code == 200
        return len(captured)

    def add(n: int) -> None:
        for i in range(n):
            ticket = ticket_due(world, f"Ticket {i}", NOW + dt.timedelta(minutes=10 * i) if i % 3 else None)
            if i % 3 == 0:
                SlaClock.objects.create(ticket=ticket, kind=ClockKind.FIRST_RESPONSE, target_seconds=60,
                                        state=ClockState.PAUSED)

    add(5)
    few = queries_for_queue()
    add(25)
    assert queries_for_queue() == few


# Queue: due sort ------------------------------------------------------------------------------


def test_due_sort_puts_the_soonest_first_and_tickets_without_a_due_time_last(world, login, frozen):
    later = ticket_due(world, "Later", NOW + dt.timedelta(hours=5))
    none = ticket_due(world, "No clock", None)
    overdue = ticket_due(world, "Overdue", NOW - dt.timedelta(hours=1))
    soon = ticket_due(world, "Soon", NOW + dt.timedelta(minutes=20))
    response = login(world.agent).get(QUEUE, {"sort": "due"})
    assert shown_references(response) == [overdue.reference, soon.reference, later.reference, none.reference]


def test_due_sort_is_offered_in_the_sort_picker(world, login):
    body = login(world.agent).get(QUEUE, {"sort": "due"}).content.decode()
    assert re.search(r'<option value="due" selected>Due soonest</option>', body)


def test_due_sort_pages_continue_past_the_tickets_without_a_due_time(world, login, frozen, settings):
    settings.VUORO_PAGE_SIZE = 2
    made = [ticket_due(world, f"T{n}", NOW + dt.timedelta(hours=n) if n % 2 else None) for n in range(5)]
    client = login(world.agent)
    shown, params = [], {"sort": "due"}
    while True:
        response = client.get(QUEUE, params)
        shown += shown_references(response)
        link = re.search(r'class="next-page" rel="next" href="([^"]+)"', response.content.decode())
        if not link:
            break
        params = dict(parse_qsl(urlsplit(unescape(link.group(1))).query))
    assert sorted(shown) == sorted(t.reference for t in made) and len(shown) == len(set(shown))
    assert shown[:2] == [made[1].reference, made[3].reference]


# Ticket page: the service level card ---------------------------------------------------------


def test_card_shows_both_clocks_with_targets_and_time_used(world, policy, login):
    with time_machine.travel(NOW, tick=False) as traveller:
        ticket = f.ticket(world.requester_a, world.other, world.cat_other)
        traveller.shift(dt.timedelta(minutes=90))
        response = login(world.agent).get(reverse("desk:ticket", args=[ticket.reference]))
    assert 'id="sla-clocks"' in response.content.decode()
    first = clock_block(response, "first_response")
    resolution = clock_block(response, "resolution")
    assert 'data-state="running"' in first and 'data-verdict="breached"' in first
    assert '<dd class="sla-target">1 h</dd>' in first
    assert '<dd class="sla-target">8 h</dd>' in resolution
    assert '<dd class="sla-used">1 h 30 min</dd>' in resolution
    assert '<dd class="sla-left-business">6 h 30 min</dd>' in resolution
    assert 'class="sla-due" datetime="2026-11-18T18:00:00+02:00"' in resolution


def test_card_lists_the_clock_history(world, policy, login):
    with time_machine.travel(NOW, tick=False) as traveller:
        ticket = f.ticket(world.requester_a, world.other, world.cat_other)
        traveller.shift(dt.timedelta(minutes=10))
        ticket_change(actor=world.agent, ticket=ticket, status=Status.WAITING)
        traveller.shift(dt.timedelta(minutes=10))
        message_add(actor=world.requester_a, ticket=Ticket.objects.get(pk=ticket.pk), body="Here you are.")
        response = login(world.agent).get(reverse("desk:ticket", args=[ticket.reference]))
    resolution = clock_block(response, "resolution")
    assert re.findall(r'data-event="(\w+)"', resolution) == ["start", "pause", "resume"]
    assert 'data-state="running"' in resolution


def test_a_clock_stopped_in_time_says_met(world, policy, login):
    with time_machine.travel(NOW, tick=False) as traveller:
        ticket = f.ticket(world.requester_a, world.other, world.cat_other)
        traveller.shift(dt.timedelta(minutes=20))
        message_add(actor=world.agent, ticket=ticket, body="On it.")
        response = login(world.agent).get(reverse("desk:ticket", args=[ticket.reference]))
    first = clock_block(response, "first_response")
    assert 'data-state="stopped"' in first and 'data-verdict="met"' in first
    assert '<dd class="sla-used">20 min</dd>' in first


def test_status_change_by_htmx_refreshes_the_card(world, policy, login):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    response = login(world.agent).post(reverse("desk:change", args=[ticket.reference]),
                                       {"status": Status.WAITING}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="sla-clocks"' in response.content.decode()
    assert 'data-state="paused"' in clock_block(response, "resolution")


def test_a_ticket_without_a_policy_says_no_service_level_applies(world, login):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    body = login(world.agent).get(reverse("desk:ticket", args=[ticket.reference])).content.decode()
    assert "No service level applies to this ticket." in body and 'class="sla-clock' not in body


def test_a_requester_cannot_open_the_desk_card(world, policy, login):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    response = login(world.requester_a).get(reverse("desk:ticket", args=[ticket.reference]))
    assert response.status_code == 403
    assert 'id="sla-clocks"' not in response.content.decode()


# Portal: the requester's line -----------------------------------------------------------------


def test_portal_says_the_clock_is_paused_while_waiting_for_the_requester(world, policy, login):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    ticket_change(actor=world.agent, ticket=ticket, status=Status.OPEN)
    ticket_change(actor=world.agent, ticket=Ticket.objects.get(pk=ticket.pk), status=Status.WAITING)
    body = login(world.requester_a).get(reverse("portal:ticket", args=[ticket.reference])).content.decode()
    assert 'id="service-level" class="service-level" data-state="paused"' in body
    assert "Waiting for your reply — the clock is paused." in body
    assert 'id="sla-clocks"' not in body


def test_portal_says_an_open_request_is_being_handled(world, policy, login):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    ticket_change(actor=world.agent, ticket=ticket, status=Status.OPEN)
    body = login(world.requester_a).get(reverse("portal:ticket", args=[ticket.reference])).content.decode()
    assert 'data-state="running"' in body and "Your request is being handled." in body


def test_portal_shows_no_service_level_line_without_clocks(world, login):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    body = login(world.requester_a).get(reverse("portal:ticket", args=[ticket.reference])).content.decode()
    assert 'id="service-level"' not in body


def test_business_time_is_written_in_hours_not_days():
    from vuoro.desk.templatetags.desk_tags import sla_duration

    assert sla_duration(24 * 3600) == "24 h"
    assert sla_duration(90 * 60) == "1 h 30 min"
