"""The partner console: the incoming queue, the ticket page, its actions and their figures."""

import re
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tests import factories as f
from tests.test_partner_scope import SATURDAY_NIGHT, night_ticket, night_world
from vuoro.accounts.models import Role
from vuoro.coverage.models import OutOfHoursDecision
from vuoro.oncall.models import Schedule
from vuoro.partner.models import PartnerAccess
from vuoro.partner.services import partner_catch
from vuoro.tickets.models import EventKind, Message, Status, Ticket, TicketEvent

LATER = SATURDAY_NIGHT.replace(minute=25)


@pytest.fixture
def night(world):
    return night_world(world)


@pytest.fixture
def console(night, client):
    """The night partner signed in, reading English."""
    night.partner.language = "en"
    night.partner.save(update_fields=["language"])
    client.force_login(night.partner)
    return client


def url(name, ticket):
    return reverse(f"partner:{name}", args=[ticket.reference])


def decision(ticket) -> OutOfHoursDecision:
    return OutOfHoursDecision.objects.get(ticket=ticket)


def events(ticket, kind) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, kind=kind))


# The queue ---------------------------------------------------------------------------------


def test_queue_lists_uncaught_first_with_age_priority_service_and_model(night, console):
    older = night_ticket(night, subject="Older, caught")
    partner_catch(user=night.partner, ticket=older)
    newer = night_ticket(night, at=LATER, subject="Newer, waiting")
    with time_machine.travel(LATER.replace(minute=40), tick=False):
        page = console.get(reverse("partner:queue")).content.decode()
    assert re.findall(r'data-reference="([^"]+)"', page) == [newer.reference, older.reference]
    assert 'hx-trigger="every 15s"' in page
    assert "15\xa0minutes ago" in page and "P1" in page and "Service email" in page
    assert "Catch &amp; dispatch" in page and "Stops work:" in page


def test_queue_refresh_is_just_the_rows(night, console):
    night_ticket(night)
    response = console.get(reverse("partner:queue"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and "incoming-list" in body


def test_queue_costs_the_same_queries_for_many_tickets(night, console):
    def queries_for_queue():
        with CaptureQueriesContext(connection) as captured:
            assert console.get(reverse("partner:queue")).status_code == 200
        return len(captured)

    night_ticket(night, subject="First")
    few = queries_for_queue()
    for n in range(12):
        ticket = night_ticket(night, subject=f"More {n}")
        if n % 2:
            partner_catch(user=night.partner, ticket=ticket)
    assert queries_for_queue() == few


@pytest.mark.parametrize("role", ["agent", "admin", "owner", "requester_a"])
def test_only_partners_use_the_console(night, client, role):
    ticket = night_ticket(night)
    client.force_login(getattr(night, role))
    assert client.get(reverse("partner:queue")).status_code == 403
    assert client.get(url("ticket", ticket)).status_code == 403
    assert client.post(url("catch", ticket)).status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get(reverse("partner:queue"))["Location"].startswith(reverse("login"))


def test_partners_land_in_the_console(night, console):
    assert console.get(reverse("home"))["Location"] == reverse("partner:queue")


# The ticket page ---------------------------------------------------------------------------


def test_ticket_page_shows_the_work_the_instructions_and_the_figures(night, console):
    ticket = night_ticket(night)
    page = console.get(url("ticket", ticket)).content.decode()
    assert ticket.subject in page and "It does not start." in page
    assert "Laptop" in page  # the form answer
    assert "Check the mail relay status page first." in page
    assert 'id="ooh-figures"' in page and "Handle now" in page
    for action in ("catch", "triage", "dispatch", "call", "resolve"):
        assert f'action="{url(action, ticket)}"' in page


def test_desk_ticket_page_shows_the_figures_too(night, client):
    ticket = night_ticket(night)
    night.agent.language = "en"
    night.agent.save(update_fields=["language"])
    client.force_login(night.agent)
    page = client.get(reverse("desk:ticket", args=[ticket.reference])).content.decode()
    assert 'id="ooh-figures"' in page and 'data-figure="partner-actions">0<' in page


def test_actions_answer_only_post(night, console):
    ticket = night_ticket(night)
    assert console.get(url("catch", ticket)).status_code == 405


# Catch -------------------------------------------------------------------------------------


def test_catch_assigns_opens_and_records_the_time_to_catch(night, console):
    ticket = night_ticket(night)
    with time_machine.travel(LATER, tick=False):
        response = console.post(url("catch", ticket))
    assert response["Location"] == url("ticket", ticket)
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.assignee, stored.status) == (night.partner, Status.OPEN)
    [caught] = events(ticket, EventKind.CAUGHT)
    assert caught.actor == night.partner
    figures = decision(ticket)
    assert figures.caught_by == night.partner and figures.time_to_catch.total_seconds() == 25 * 60
    assert figures.partner_actions == 1
    page = console.get(url("ticket", ticket)).content.decode()
    assert 'data-figure="time-to-catch">25 min<' in page


def test_a_second_partner_is_told_who_caught_it_and_nothing_changes(night, client):
    ticket = night_ticket(night)
    partner_catch(user=night.partner, ticket=ticket)
    second = f.user(Role.PARTNER, username="second", language="en")
    night.partner_team.members.add(second)
    client.force_login(second)
    response = client.post(url("catch", ticket))
    assert response.status_code == 400
    assert f"Already caught by {night.partner.display_name()}" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).assignee == night.partner
    assert len(events(ticket, EventKind.CAUGHT)) == 1 and decision(ticket).caught_by == night.partner


def test_catching_twice_changes_nothing(night):
    ticket = night_ticket(night)
    partner_catch(user=night.partner, ticket=ticket)
    partner_catch(user=night.partner, ticket=ticket)
    assert len(events(ticket, EventKind.CAUGHT)) == 1 and decision(ticket).partner_actions == 1


@pytest.mark.django_db(transaction=True)
def test_two_partners_catching_at_once_make_exactly_one_catch(night):
    """Two threads, two database connections, one ticket: the row lock lets one catch."""
    ticket = night_ticket(night)
    second = f.user(Role.PARTNER, username="second")
    night.partner_team.members.add(second)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def catch_as(person):
        try:
            start.wait()
            with translation.override("en"):
                partner_catch(user=person, ticket=ticket)
            outcomes[person.username] = "caught"
        except ValidationError as exc:
            outcomes[person.username] = " ".join(exc.messages)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=catch_as, args=(p,)) for p in (night.partner, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [name for name, outcome in outcomes.items() if outcome == "caught"]
    assert len(winners) == 1, outcomes
    [loser] = [outcome for outcome in outcomes.values() if outcome != "caught"]
    assert loser.startswith("Already caught by")
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.assignee.username == winners[0]
    assert len(events(ticket, EventKind.CAUGHT)) == 1
    assert decision(ticket).caught_by.username == winners[0]
    assert connection.vendor in ("postgresql", "sqlite")


# Triage, dispatch, calls, resolution -------------------------------------------------------


def test_triage_moves_urgency_impact_and_priority_by_the_matrix(night, console):
    ticket = night_ticket(night)
    assert ticket.priority == "P1"
    response = console.post(url("triage", ticket), {"stops_work": "no", "affected": "me"})
    assert response.status_code == 302
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.urgency, stored.impact, stored.priority) == ("low", "low", "P5")
    assert (stored.stops_work, stored.affected) == ("no", "me")
    assert decision(ticket).partner_actions == 1


def test_triage_with_a_bad_answer_shows_the_form_error_and_changes_nothing(night, console):
    ticket = night_ticket(night)
    response = console.post(url("triage", ticket), {"stops_work": "maybe", "affected": "me"})
    assert response.status_code == 400 and "field-error" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).priority == "P1" and decision(ticket).partner_actions == 0


def test_dispatch_to_a_team_hands_the_ticket_on_and_records_the_escalation(night, console):
    ticket = night_ticket(night)
    partner_catch(user=night.partner, ticket=ticket)
    response = console.post(url("dispatch", ticket), {"team": night.desk_team.pk})
    assert response.status_code == 302
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.team, stored.assignee) == (night.desk_team, None)
    [dispatched] = events(ticket, EventKind.DISPATCHED)
    assert dispatched.new_value == "Desk"
    assert decision(ticket).escalated


def test_dispatch_to_a_named_desk_person_opens_a_page(night, console):
    ticket = night_ticket(night)
    response = console.post(url("dispatch", ticket), {"person_email": night.agent.email,
                                                      "reason": "Relay down"})
    assert response.status_code == 302, response.content.decode()
    from vuoro.paging.models import Page

    page = Page.objects.get(ticket=ticket)
    assert page.opened_by == night.partner
    assert len(events(ticket, EventKind.DISPATCHED)) == 1 and events(ticket, EventKind.PAGE)
    figures = decision(ticket)
    assert figures.escalated and figures.paged_at is not None


def test_dispatch_needs_exactly_one_target_and_never_pages_a_requester(night, console):
    ticket = night_ticket(night)
    both = console.post(url("dispatch", ticket), {"team": night.desk_team.pk,
                                                  "person_email": night.agent.email})
    customer = console.post(url("dispatch", ticket), {"person_email": night.requester_a.email})
    assert both.status_code == customer.status_code == 400
    assert not events(ticket, EventKind.DISPATCHED) and not decision(ticket).escalated


def test_dispatch_to_an_on_call_schedule_pages_whoever_is_on_call_there(night, console):
    ticket = night_ticket(night)
    schedule = Schedule.objects.create(name="Nights")
    response = console.post(url("dispatch", ticket), {"schedule": schedule.pk})
    assert response.status_code == 302
    from vuoro.paging.models import Page

    assert Page.objects.get(ticket=ticket).snapshot  # the schedule, as paging snapshots it
    [dispatched] = events(ticket, EventKind.DISPATCHED)
    assert dispatched.new_value == "Nights" and decision(ticket).escalated


def test_dispatch_offers_teams_and_schedules_but_no_people(night, console):
    ticket = night_ticket(night)
    Schedule.objects.create(name="Nights")
    page = console.get(url("ticket", ticket)).content.decode()
    dispatch = page[page.index('id="dispatch"'):page.index('id="call"')]
    assert "Desk" in dispatch and "Nights" in dispatch
    assert night.agent.display_name() not in dispatch and night.requester_a.email not in dispatch


def test_a_logged_call_is_an_internal_note_with_its_own_history_row(night, console):
    ticket = night_ticket(night)
    response = console.post(url("call", ticket), {"caller": "+358 40 555 0101", "minutes": "7",
                                                  "summary": "Restarted the client.",
                                                  "outcome": "solved"})
    assert response.status_code == 302
    [note] = Message.objects.filter(ticket=ticket)
    assert note.internal and "+358 40 555 0101" in note.body and "Restarted the client." in note.body
    [logged] = events(ticket, EventKind.CALL_LOGGED)
    assert logged.new_value == "solved" and decision(ticket).partner_actions == 1


def test_a_call_without_a_summary_is_refused(night, console):
    ticket = night_ticket(night)
    response = console.post(url("call", ticket), {"caller": "+358", "minutes": "-1", "outcome": "x"})
    assert response.status_code == 400
    assert not Message.objects.filter(ticket=ticket).exists()


def test_resolve_replies_to_the_requester_and_counts_as_resolved_by_the_partner(night, console):
    ticket = night_ticket(night)
    partner_catch(user=night.partner, ticket=ticket)
    response = console.post(url("resolve", ticket), {"reply": "The relay is back; mail flows."})
    assert response.status_code == 302
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.status == Status.RESOLVED
    [reply] = Message.objects.filter(ticket=ticket)
    assert not reply.internal
    figures = decision(ticket)
    assert figures.resolved_by_partner and figures.resolved_at is not None
    assert figures.partner_actions == 2  # catch + resolve


def test_resolve_without_a_reply_is_refused(night, console):
    ticket = night_ticket(night)
    assert console.post(url("resolve", ticket), {"reply": "  "}).status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW


def test_each_console_view_of_a_ticket_is_logged(night, console):
    ticket = night_ticket(night)
    console.get(url("ticket", ticket), REMOTE_ADDR="10.0.0.7")
    [row] = PartnerAccess.objects.all()
    assert (row.user, row.ticket, row.view, row.ip) == (night.partner, ticket, "console_ticket", "10.0.0.7")


def test_the_console_history_reads_as_sentences_and_follows_the_runbook(night, console):
    ticket = night_ticket(night)
    partner_catch(user=night.partner, ticket=ticket)
    page = console.get(url("ticket", ticket)).content.decode()
    assert f"{night.partner.display_name()} caught the ticket" in page
    assert 'hx-trigger="runbookChanged from:body"' in page
