"""The agent desk: who gets in, what the queue shows, bulk changes, the ticket page, logged calls."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f
from vuoro.coverage.models import CoverageModel, ServiceCoverage
from vuoro.tickets.models import Channel, Message, Status, Ticket, TicketEvent
from vuoro.tickets.selectors import ticket_timeline
from vuoro.tickets.services import ticket_change

QUEUE = reverse("desk:queue")
BULK = reverse("desk:bulk")
NEW = reverse("desk:new")


def shown_references(response) -> list[str]:
    """References of the queue rows, in the order shown."""
    return re.findall(r'class="ticket-row" data-reference="([^"]+)"', response.content.decode())


@pytest.fixture
def login(login_en):
    """The desk in English, so that assertions can quote its words."""
    return login_en


@pytest.fixture
def tickets(world):
    """One ticket on each side: the desk team's, the partner team's, and one assigned to the partner.

    The partner covers both services out of hours: partners see only tickets of services whose
    coverage names their team (the services have no hours, so intake still decides "normal").
    """
    for service in (world.critical, world.other):
        ServiceCoverage.objects.create(service=service, model=CoverageModel.CATCH_DISPATCH,
                                       partner_team=world.partner_team)
    desk_ticket = f.ticket(world.requester_a, world.other, world.cat_other, subject="Printer jams")
    partner_ticket = f.ticket(world.requester_b, world.critical, world.cat_critical,
                              subject="Mailbox full", stops_work="yes", affected="many")
    ticket_change(actor=world.agent, ticket=partner_ticket, team=world.partner_team)
    assigned = f.ticket(world.requester_a, world.other, world.cat_other, subject="Monitor flickers")
    ticket_change(actor=world.agent, ticket=assigned, assignee=world.partner)
    return {"desk": desk_ticket, "partner": Ticket.objects.get(pk=partner_ticket.pk),
            "assigned": Ticket.objects.get(pk=assigned.pk)}


# Who gets in -------------------------------------------------------------------------------


def test_agent_sees_every_active_ticket_in_the_queue(world, tickets, login):
    response = login(world.agent).get(QUEUE)
    assert response.status_code == 200
    assert set(shown_references(response)) == {t.reference for t in tickets.values()}
    assert "Printer jams" in response.content.decode()


def test_requester_is_refused_with_a_page_that_says_why(world, login):
    response = login(world.requester_a).get(QUEUE)
    assert response.status_code == 403
    assert "for support staff" in response.content.decode()


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_partner_sees_only_tickets_of_their_team_or_assigned_to_them(world, tickets, login):
    # Partners work in their console: the desk queue sends them there, and it lists their scope.
    client = login(world.partner)
    assert client.get(QUEUE)["Location"] == reverse("partner:queue")
    shown = re.findall(r'class="incoming[^"]*" data-reference="([^"]+)"',
                       client.get(reverse("partner:queue")).content.decode())
    assert set(shown) == {tickets["partner"].reference, tickets["assigned"].reference}


def test_partner_cannot_open_a_ticket_outside_their_scope(world, tickets, login):
    client = login(world.partner)
    response = client.get(reverse("desk:ticket", args=[tickets["desk"].reference]))
    assert response.status_code == 404
    # A ticket in scope opens in the partner console, which logs the view.
    response = client.get(reverse("desk:ticket", args=[tickets["partner"].reference]))
    assert response["Location"] == reverse("partner:ticket", args=[tickets["partner"].reference])


def test_service_owner_sees_only_tickets_of_their_service(world, tickets, login):
    response = login(world.owner).get(QUEUE)
    assert shown_references(response) == [tickets["partner"].reference]


# Filters, search, sorting, pages ------------------------------------------------------------


def test_queue_filters_by_status_priority_and_service(world, tickets, login):
    client = login(world.agent)
    ticket_change(actor=world.agent, ticket=tickets["desk"], status=Status.OPEN)
    assert shown_references(client.get(QUEUE, {"status": "open"})) == [tickets["desk"].reference]
    assert shown_references(client.get(QUEUE, {"priority": "P1"})) == [tickets["partner"].reference]
    by_service = shown_references(client.get(QUEUE, {"service": world.other.pk}))
    assert set(by_service) == {tickets["desk"].reference, tickets["assigned"].reference}


def test_mine_tab_shows_only_tickets_assigned_to_me(world, tickets, login):
    ticket_change(actor=world.agent, ticket=tickets["desk"], assignee=world.agent)
    response = login(world.agent).get(QUEUE, {"queue": "mine"})
    assert shown_references(response) == [tickets["desk"].reference]


def test_closed_tickets_are_hidden_unless_asked_for(world, tickets, login):
    ticket_change(actor=world.agent, ticket=tickets["desk"], status=Status.CLOSED)
    client = login(world.agent)
    assert tickets["desk"].reference not in shown_references(client.get(QUEUE))
    assert tickets["desk"].reference in shown_references(client.get(QUEUE, {"closed": "1"}))


def test_search_finds_a_word_in_the_subject_and_an_exact_reference(world, tickets, login):
    client = login(world.agent)
    assert shown_references(client.get(QUEUE, {"q": "printer"})) == [tickets["desk"].reference]
    reference = tickets["assigned"].reference
    assert shown_references(client.get(QUEUE, {"q": reference})) == [reference]


def test_keyset_pages_are_disjoint_and_cover_every_ticket(world, login, settings):
    settings.VUORO_PAGE_SIZE = 3
    made = {f.ticket(world.requester_a, world.other, world.cat_other, subject=f"Case {n}").reference
            for n in range(8)}
    client = login(world.agent)
    seen: list[str] = []
    url = QUEUE + "?sort=oldest"
    for _ in range(5):
        response = client.get(url)
        seen += shown_references(response)
        match = re.search(r'class="next-page" rel="next" href="([^"]+)"', response.content.decode())
        if not match:
            break
        url = match.group(1).replace("&amp;", "&")
    assert len(seen) == len(set(seen)) == 8
    assert set(seen) == made


@pytest.mark.parametrize("params", [
    {"status": "sleeping"}, {"priority": "P9"}, {"service": "abc"}, {"assignee": "1.5"},
    {"queue": "everything"}, {"sort": "random"},
])
def test_an_unknown_filter_value_is_a_bad_request_with_a_message(world, login, params):
    response = login(world.agent).get(QUEUE, params)
    assert response.status_code == 400
    assert "could not be understood" in response.content.decode()


def test_a_forged_page_cursor_is_a_bad_request(world, tickets, login):
    response = login(world.agent).get(QUEUE, {"after": "eyJmYWtlIjoxfQ:forged:signature"})
    assert response.status_code == 400
    assert "page link is broken" in response.content.decode()


def test_htmx_filter_request_gets_only_the_results(world, tickets, login):
    response = login(world.agent).get(QUEUE, {"q": "printer"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="bulk-form"' in body
    assert shown_references(response) == [tickets["desk"].reference]


def test_queue_runs_the_same_number_of_queries_for_5_and_30_tickets(world, login):
    client = login(world.agent)

    def queries_for_queue() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(QUEUE).status_code == 200
        return len(captured)

    for n in range(5):
        f.ticket(world.requester_a, world.other, world.cat_other, subject=f"Few {n}")
    few = queries_for_queue()
    for n in range(25):
        requester = f.user(organisation=world.org_b)
        ticket = f.ticket(requester, world.critical, world.cat_critical, subject=f"Many {n}")
        ticket_change(actor=world.agent, ticket=ticket, assignee=world.agent2, team=world.partner_team)
    assert queries_for_queue() == few


# Bulk changes -------------------------------------------------------------------------------


def test_bulk_assign_to_me_changes_every_selected_ticket(world, tickets, login):
    refs = [tickets["desk"].reference, tickets["partner"].reference]
    response = login(world.agent).post(BULK, {"ticket": refs, "action": "assign", "assignee": "me"},
                                       HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "2 of 2 tickets updated" in response.content.decode()
    assert set(Ticket.objects.filter(assignee=world.agent).values_list("reference", flat=True)) == set(refs)


def test_bulk_status_reports_tickets_that_refuse_the_transition(world, tickets, login):
    ticket_change(actor=world.agent, ticket=tickets["desk"], status=Status.CLOSED)
    refs = [tickets["desk"].reference, tickets["assigned"].reference]
    response = login(world.agent).post(BULK, {"ticket": refs, "action": "status", "status": "resolved"},
                                       HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "1 of 2 tickets updated" in body
    assert tickets["desk"].reference in body and "cannot move" in body
    assert Ticket.objects.get(pk=tickets["desk"].pk).status == Status.CLOSED
    assert Ticket.objects.get(pk=tickets["assigned"].pk).status == Status.RESOLVED


def test_bulk_change_cannot_touch_a_ticket_the_user_cannot_see(world, tickets, login):
    response = login(world.partner).post(
        BULK, {"ticket": [tickets["desk"].reference], "action": "priority", "priority": "P1"})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=tickets["desk"].pk).priority != "P1"
    followed = login(world.partner).get(response["Location"], follow=True)  # desk → partner console
    assert "No such ticket" in followed.content.decode()


def test_bulk_without_a_selection_is_a_bad_request(world, tickets, login):
    response = login(world.agent).post(BULK, {"action": "status", "status": "open"})
    assert response.status_code == 400
    assert "Select at least one ticket" in response.content.decode()


# The ticket page ----------------------------------------------------------------------------


def ticket_url(ticket: Ticket, name: str = "desk:ticket") -> str:
    return reverse(name, args=[ticket.reference])


def test_ticket_page_shows_header_answers_and_internal_note_to_agent(world, tickets, login):
    client = login(world.agent)
    client.post(ticket_url(tickets["desk"], "desk:reply"), {"body": "Checked the spooler", "internal": "1"})
    body = client.get(ticket_url(tickets["desk"])).content.decode()
    assert f'id="ticket-reference">{tickets["desk"].reference}<' in body
    assert 'id="ticket-status"' in body
    assert "<dt>Device</dt><dd>Laptop</dd>" in body  # the answer in the agent's language
    assert re.search(r'<li class="message internal"[^>]*>.*?Checked the spooler', body, re.S)


def test_public_reply_stamps_first_response_and_reaches_the_requester(world, tickets, login):
    ticket = tickets["desk"]
    response = login(world.agent).post(ticket_url(ticket, "desk:reply"),
                                       {"body": "Try turning it off and on", "internal": "0"})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).first_response_at is not None
    seen = ticket_timeline(user=world.requester_a, ticket=ticket)
    assert [e.item.body for e in seen if e.kind == "message"] == ["<p>Try turning it off and on</p>"]


def test_internal_note_is_not_shown_to_the_requester(world, tickets, login):
    ticket = tickets["desk"]
    login(world.agent).post(ticket_url(ticket, "desk:reply"), {"body": "Secret", "internal": "1"},
                            HTTP_HX_REQUEST="true")
    assert Message.objects.get(ticket=ticket).internal is True
    assert [e for e in ticket_timeline(user=world.requester_a, ticket=ticket) if e.kind == "message"] == []


def test_empty_reply_is_refused_next_to_the_field(world, tickets, login):
    response = login(world.agent).post(ticket_url(tickets["desk"], "desk:reply"), {"body": "  "},
                                       HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert 'id="reply-body-errors"' in response.content.decode()
    assert not Message.objects.exists()


def test_status_change_writes_history_and_refreshes_the_page_parts(world, tickets, login):
    ticket = tickets["desk"]
    response = login(world.agent).post(ticket_url(ticket, "desk:change"), {"status": "open"},
                                       HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="ticket-panel"' in body and 'id="ticket-activity" hx-swap-oob="true"' in body
    event = TicketEvent.objects.get(ticket=ticket, field="status")
    assert (event.actor, event.old_value, event.new_value) == (world.agent, "new", "open")
    assert "changed status from New → Open" in body


def test_invalid_status_transition_shows_an_error_and_changes_nothing(world, tickets, login):
    ticket = tickets["desk"]
    ticket_change(actor=world.agent, ticket=ticket, status=Status.CLOSED)
    response = login(world.agent).post(ticket_url(ticket, "desk:change"), {"status": "resolved"})
    assert response.status_code == 400
    assert "cannot move" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED
    assert not TicketEvent.objects.filter(ticket=ticket, new_value="resolved").exists()


def test_side_panel_offers_only_the_allowed_next_statuses(world, tickets, login):
    ticket = tickets["desk"]
    ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)
    body = login(world.agent).get(ticket_url(ticket)).content.decode()
    form = re.search(r'<form id="status-form".*?</form>', body, re.S).group(0)
    assert re.findall(r'<option value="(\w+)"', form) == ["resolved", "open", "closed"]


def test_assign_to_me_from_the_ticket_page(world, tickets, login):
    ticket = tickets["desk"]
    response = login(world.agent2).post(ticket_url(ticket, "desk:change"), {"assignee": "me"})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).assignee == world.agent2


# Logging a request on someone's behalf -----------------------------------------------------


def new_ticket_post(world, **extra):
    data = {"requester": world.requester_a.pk, "service": world.other.pk,
            "category": world.cat_other.pk, "subject": "Needs a new phone",
            "description": "Called at 9", "stops_work": "partly", "affected": "me",
            "answer_device": "phone", "answer_count": "2", "logged_call": "1"}
    data.update(extra)
    return data


def test_desk_logs_a_call_for_a_requester_with_form_answers(world, login):
    response = login(world.agent).post(NEW, new_ticket_post(world))
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == ticket_url(ticket)
    assert (ticket.requester, ticket.channel, ticket.created_by) == (world.requester_a, Channel.PHONE, world.agent)
    assert ticket.form_answers == {"device": "phone", "count": "2"}


def test_missing_required_answer_is_shown_next_to_the_field_and_nothing_stored(world, login):
    response = login(world.agent).post(NEW, new_ticket_post(world, answer_device=""))
    assert response.status_code == 400
    field = re.search(r'<label for="id_answer_device".*?</div>', response.content.decode(), re.S).group(0)
    assert "This field is required" in field or "errorlist" in field
    assert not Ticket.objects.exists()


def test_partner_names_the_requester_by_email_and_cannot_search_people(world, login):
    client = login(world.partner)
    page = client.get(NEW).content.decode()
    assert 'name="requester_email"' in page and 'name="requester_q"' not in page
    lookup = client.get(reverse("desk:requester_lookup"), {"requester_q": "req"})
    assert lookup.status_code == 403
    response = client.post(NEW, new_ticket_post(world, requester="", requester_email=world.requester_b.email))
    assert response.status_code == 302
    assert Ticket.objects.get().requester == world.requester_b


def test_agent_finds_requesters_by_name_or_email(world, login):
    response = login(world.agent).get(reverse("desk:requester_lookup"), {"requester_q": "req_b"})
    body = response.content.decode()
    assert f'value="{world.requester_b.pk}"' in body
    assert f'value="{world.agent2.pk}"' not in body


def test_category_fragment_renders_the_category_form(world, login):
    response = login(world.agent).get(reverse("desk:new_category"),
                                      {"service": world.other.pk, "category": world.cat_other.pk})
    body = response.content.decode()
    assert 'name="answer_device"' in body and 'name="answer_needed_by"' in body


def test_desk_pages_load_the_keyboard_shortcuts(world, tickets, login):
    client = login(world.agent)
    for url in (QUEUE, ticket_url(tickets["desk"]), NEW):
        assert "desk/desk.js" in client.get(url).content.decode()


def test_partner_and_paging_history_reads_as_sentences(world):
    from django.utils import translation

    from vuoro.desk.templatetags.desk_tags import event_sentence
    from vuoro.tickets.models import EventKind, TicketEvent

    ticket = f.ticket(world.requester_a, world.critical)
    now = ticket.created_at
    rows = [
        (EventKind.CAUGHT, "", "", world.partner),
        (EventKind.DISPATCHED, "team", "Desk", world.partner),
        (EventKind.DISPATCHED, "on_call", "Antti", world.partner),
        (EventKind.CALL_LOGGED, "call", "call_back", world.partner),
        (EventKind.PAGE, "page", "triggered", world.partner),
        (EventKind.PAGE, "page", "acknowledged", world.agent),
    ]
    with translation.override("en"):
        sentences = [
            str(event_sentence(TicketEvent.objects.create(
                ticket=ticket, actor=actor, kind=kind, field=field, new_value=value,
                internal=True, created_at=now))).split(" <time")[0]
            for kind, field, value, actor in rows
        ]
    partner, agent = world.partner.display_name(), world.agent.display_name()
    assert sentences == [
        f"{partner} caught the ticket",
        f"{partner} dispatched the ticket to Desk",
        f"{partner} dispatched the ticket to on-call: Antti",
        f"{partner} logged a call: Will call back",
        f"{partner} paged on-call",
        f"{agent} acknowledged the page",
    ]
