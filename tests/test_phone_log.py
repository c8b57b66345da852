"""Logging a call at the desk: the caller is found by number, a ticket is made or noted on,
partners see only their scope, requesters are kept out."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tests import factories as f
from vuoro.coverage.models import CoverageModel, ServiceCoverage
from vuoro.telephony.models import Call
from vuoro.telephony.selectors import lookup
from vuoro.telephony.services import call_log
from vuoro.tickets.models import EventKind, Message, Ticket, TicketEvent

NUMBER = "+358401234567"


@pytest.fixture
def phoned(world):
    world.requester_a.phone = "040 123 4567"
    world.requester_a.save()
    return world


def test_a_logged_call_creates_a_phone_ticket_for_the_caller(phoned):
    call = call_log(actor=phoned.agent, raw_number="+358 40 123 4567", reason="VPN does not connect",
                    duration_seconds=180, outcome="answered", summary="Tried twice.", create_ticket=True,
                    service=phoned.other)
    ticket = Ticket.objects.get(pk=call.ticket_id)
    assert (ticket.channel, ticket.requester, ticket.subject) == ("phone", phoned.requester_a, "VPN does not connect")
    assert ticket.created_by == phoned.agent
    assert (call.number, call.caller, call.logged_by) == (NUMBER, phoned.requester_a, phoned.agent)
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CALL_LOGGED).count() == 1


def test_a_logged_call_adds_an_internal_note_to_a_ticket(phoned):
    ticket = f.ticket(phoned.requester_a, phoned.other, phoned.cat_other)
    call = call_log(actor=phoned.agent, raw_number="0401234567", reason="Asks for status", duration_seconds=60,
                    outcome="answered", ticket_reference=ticket.reference)
    note = Message.objects.get(ticket=ticket)
    assert note.internal and note.channel == "phone" and "Asks for status" in note.body
    assert call.ticket == ticket
    assert Ticket.objects.count() == 1


def test_refused_logs_write_nothing(phoned):
    with pytest.raises(ValidationError) as exc:
        call_log(actor=phoned.agent, raw_number="nope", reason="", duration_seconds=-1, outcome="x")
    assert set(exc.value.message_dict) == {"number", "reason", "duration", "outcome"}
    with pytest.raises(ValidationError):  # no such ticket
        call_log(actor=phoned.agent, raw_number=NUMBER, reason="r", duration_seconds=1, outcome="answered",
                 ticket_reference="2026-999999")
    with pytest.raises(ValidationError):  # a partner cannot make an unknown caller a requester
        call_log(actor=phoned.partner, raw_number="+358509999999", reason="r", duration_seconds=1,
                 outcome="answered", create_ticket=True, service=phoned.other)
    assert Call.objects.count() == 0 and Ticket.objects.count() == 0


def test_lookup_shows_the_caller_their_tickets_and_calls(phoned):
    ticket = f.ticket(phoned.requester_a, phoned.other, phoned.cat_other)
    f.ticket(phoned.requester_b, phoned.other, phoned.cat_other, subject="Not theirs")
    call_log(actor=phoned.agent, raw_number=NUMBER, reason="Earlier call", duration_seconds=30, outcome="missed")
    found = lookup(user=phoned.agent, raw_number="040 1234 567")
    assert found.caller == phoned.requester_a
    assert [t.reference for t in found.tickets] == [ticket.reference]
    assert [c.reason for c in found.calls] == ["Earlier call"]
    assert lookup(user=phoned.requester_a, raw_number=NUMBER).matches is False


def _partner_world(world):
    ServiceCoverage.objects.create(service=world.critical, model=CoverageModel.CATCH_DISPATCH,
                                   partner_team=world.partner_team)
    mine = f.ticket(world.requester_a, world.critical, world.cat_critical, subject="Partner handles this")
    Ticket.objects.filter(pk=mine.pk).update(team=world.partner_team)  # routed to the partner's team
    hidden = f.ticket(world.requester_a, world.other, world.cat_other, subject="Outside partner scope")
    call_log(actor=world.agent, raw_number=NUMBER, reason="About hidden", duration_seconds=5,
             outcome="answered", ticket_reference=hidden.reference)
    call_log(actor=world.agent, raw_number=NUMBER, reason="About mine", duration_seconds=5,
             outcome="answered", ticket_reference=mine.reference)
    return mine, hidden


def test_partner_sees_only_in_scope_history_and_no_caller(phoned):
    mine, hidden = _partner_world(phoned)
    found = lookup(user=phoned.partner, raw_number=NUMBER)
    assert found.caller is None
    assert [t.reference for t in found.tickets] == [mine.reference]
    assert [c.reason for c in found.calls] == ["About mine"]
    page = Client()
    page.force_login(phoned.partner)
    body = page.get("/phone/lookup/", {"number": NUMBER}).content.decode()
    assert mine.reference in body and hidden.reference not in body
    assert "About hidden" not in body and phoned.requester_a.last_name not in body


def test_partner_can_note_a_call_on_an_in_scope_ticket_only(phoned):
    mine, hidden = _partner_world(phoned)
    call_log(actor=phoned.partner, raw_number=NUMBER, reason="Partner took it", duration_seconds=5,
             outcome="answered", ticket_reference=mine.reference)
    with pytest.raises(ValidationError):
        call_log(actor=phoned.partner, raw_number=NUMBER, reason="x", duration_seconds=5, outcome="answered",
                 ticket_reference=hidden.reference)
    assert not Message.objects.filter(ticket=hidden, author=phoned.partner).exists()


def test_desk_page_logs_a_call_and_opens_the_ticket(phoned, login):
    phoned.agent.language = "en"
    phoned.agent.save()
    client = login(phoned.agent)
    page = client.get("/phone/log/")
    assert page.status_code == 200 and 'name="number"' in page.content.decode()
    assert NUMBER not in client.get("/phone/lookup/", {"number": "garbage"}).content.decode()
    assert phoned.requester_a.last_name in client.get("/phone/lookup/", {"number": "0401234567"}).content.decode()
    response = client.post("/phone/log/", {"number": "040 123 4567", "reason": "Printer jam", "duration": "2.5",
                                           "outcome": "answered", "then": "create", "service": phoned.other.pk})
    ticket = Ticket.objects.get(channel="phone")
    assert response.status_code == 302 and response.url.endswith(f"/desk/tickets/{ticket.reference}/")
    assert Call.objects.get().duration_seconds == 150
    bad = client.post("/phone/log/", {"number": "", "reason": "", "outcome": "answered"})
    assert bad.status_code == 400 and Call.objects.count() == 1


@pytest.mark.parametrize("role", ["requester_a", "colleague_a", "requester_b"])
def test_requesters_get_403_on_phone_pages(phoned, login, role):
    client = login(getattr(phoned, role))
    assert client.get("/phone/log/").status_code == 403
    assert client.get("/phone/lookup/", {"number": NUMBER}).status_code == 403
    assert client.post("/phone/log/", {"number": NUMBER, "reason": "x", "outcome": "answered"}).status_code == 403
    assert Call.objects.count() == 0


def test_api_lookup_for_desk_roles_only(phoned):
    ticket = f.ticket(phoned.requester_a, phoned.other, phoned.cat_other)
    agent = Client().get("/api/v1/calls/lookup", {"number": "0401234567"},
                         HTTP_AUTHORIZATION=f"Bearer {f.api_token(phoned.agent)}")
    assert agent.status_code == 200
    assert agent.json()["caller"]["id"] == phoned.requester_a.pk
    assert [t["reference"] for t in agent.json()["tickets"]] == [ticket.reference]
    requester = Client().get("/api/v1/calls/lookup", {"number": NUMBER},
                             HTTP_AUTHORIZATION=f"Bearer {f.api_token(phoned.requester_a)}")
    assert requester.status_code == 403
    partner = Client().get("/api/v1/calls/lookup", {"number": NUMBER},
                           HTTP_AUTHORIZATION=f"Bearer {f.api_token(phoned.partner)}")
    assert partner.status_code == 200 and partner.json()["caller"] is None and partner.json()["tickets"] == []
    assert Client().get("/api/v1/calls/lookup", {"number": NUMBER}).status_code == 401


def _partner_logs_a_new_ticket(world, client, service):
    world.partner.language = "en"
    world.partner.save(update_fields=["language"])
    client.force_login(world.partner)
    return client.post("/phone/log/", {"number": NUMBER, "reason": "Mail is down", "duration": "1",
                                       "outcome": "answered", "then": "create", "service": service.pk})


def test_a_partner_who_files_a_ticket_in_scope_goes_to_the_console_ticket(phoned, client):
    ServiceCoverage.objects.create(service=phoned.critical, model=CoverageModel.CATCH_DISPATCH,
                                   partner_team=phoned.partner_team)
    phoned.critical.default_team = phoned.partner_team
    phoned.critical.save()

    response = _partner_logs_a_new_ticket(phoned, client, phoned.critical)

    ticket = Ticket.objects.get(channel="phone")
    assert response.status_code == 302
    assert response.url == f"/partner/tickets/{ticket.reference}/"
    assert client.get(response.url).status_code == 200


def test_a_partner_who_files_a_ticket_outside_scope_returns_to_the_console_and_is_told(phoned, client):
    response = _partner_logs_a_new_ticket(phoned, client, phoned.other)

    ticket = Ticket.objects.get(channel="phone")
    assert Call.objects.get().ticket == ticket
    assert response.status_code == 302 and response.url == "/partner/"
    queue = client.get(response.url)
    assert queue.status_code == 200
    assert f"ticket {ticket.reference} was created" in queue.content.decode()  # the partner reads English
    assert client.get(f"/desk/tickets/{ticket.reference}/").status_code == 404


def test_a_work_stopping_call_at_night_goes_to_the_partner_at_once(phoned, login):
    import datetime as dt
    from zoneinfo import ZoneInfo

    import time_machine

    from tests.test_coverage_intake import cover, office_hours
    from vuoro.coverage.models import OutOfHoursDecision

    phoned.critical.calendar = office_hours()
    phoned.critical.save()
    cover(phoned.critical, phoned.partner_team)
    client = login(phoned.agent)
    form = client.get("/phone/log/").content.decode()
    assert 'name="stops_work" value="yes"' in form and 'name="affected" value="many"' in form
    with time_machine.travel(dt.datetime(2026, 11, 21, 2, 0, tzinfo=ZoneInfo("Europe/Helsinki")), tick=False):
        response = client.post("/phone/log/", {
            "number": "040 123 4567", "reason": "Nobody can send mail", "duration": "2", "outcome": "answered",
            "then": "create", "service": phoned.critical.pk, "stops_work": "yes", "affected": "many"})
    assert response.status_code == 302
    ticket = Ticket.objects.get(channel="phone")
    assert (ticket.stops_work, ticket.affected, ticket.team) == ("yes", "many", phoned.partner_team)
    decision = OutOfHoursDecision.objects.get(ticket=ticket)
    assert (decision.action, decision.handled_by) == ("handle_now", "partner")


def test_a_call_with_an_unknown_triage_answer_is_refused_and_nothing_is_written(phoned):
    with pytest.raises(ValidationError) as exc:
        call_log(actor=phoned.agent, raw_number=NUMBER, reason="Mail down", duration_seconds=60,
                 outcome="answered", create_ticket=True, service=phoned.other, stops_work="maybe")
    assert "stops_work" in exc.value.message_dict
    assert not Call.objects.exists() and not Ticket.objects.exists()


UNKNOWN = "+358509999999"


@pytest.mark.parametrize("role", ["agent", "owner", "admin"])
def test_desk_roles_log_a_ticket_for_an_unknown_caller_who_gets_a_contact(phoned, role):
    actor = getattr(phoned, role)
    call = call_log(actor=actor, raw_number="050 999 9999", reason="Cannot print", duration_seconds=60,
                    outcome="answered", create_ticket=True, service=phoned.other)
    ticket = Ticket.objects.get(pk=call.ticket_id)
    contact = ticket.requester
    assert (ticket.channel, ticket.created_by, contact.phone) == ("phone", actor, UNKNOWN)
    assert contact.role == "requester" and not contact.has_usable_password()
    again = call_log(actor=actor, raw_number=UNKNOWN, reason="Still cannot print", duration_seconds=60,
                     outcome="answered", create_ticket=True, service=phoned.other)
    assert again.ticket.requester == contact  # found again by number, not a second contact
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CALL_LOGGED).count() == 1


def test_a_partner_cannot_log_a_ticket_for_an_unknown_caller_and_nothing_is_written(phoned):
    from vuoro.accounts.models import User

    users = User.objects.count()
    with pytest.raises(ValidationError) as exc:
        call_log(actor=phoned.partner, raw_number=UNKNOWN, reason="Cannot print", duration_seconds=60,
                 outcome="answered", create_ticket=True, service=phoned.other)
    assert "number" in exc.value.message_dict
    assert (Call.objects.count(), Ticket.objects.count(), User.objects.count()) == (0, 0, users)


def test_a_refused_ticket_for_an_unknown_caller_leaves_no_contact_behind(phoned):
    from vuoro.accounts.models import User

    users = User.objects.count()
    with pytest.raises(ValidationError):
        call_log(actor=phoned.agent, raw_number=UNKNOWN, reason="Mail down", duration_seconds=60,
                 outcome="answered", create_ticket=True, service=phoned.other, stops_work="maybe")
    assert (Call.objects.count(), Ticket.objects.count(), User.objects.count()) == (0, 0, users)


def test_the_desk_page_creates_a_ticket_for_an_unknown_caller(phoned, login):
    client = login(phoned.agent)
    response = client.post("/phone/log/", {"number": "050 999 9999", "reason": "Printer jam", "duration": "1",
                                           "outcome": "answered", "then": "create", "service": phoned.other.pk})
    ticket = Ticket.objects.get(channel="phone")
    assert response.status_code == 302 and response.url.endswith(f"/desk/tickets/{ticket.reference}/")
    assert ticket.requester.phone == UNKNOWN


def test_the_partner_page_refuses_a_ticket_for_an_unknown_caller(phoned, client):
    phoned.partner.language = "en"
    phoned.partner.save(update_fields=["language"])
    client.force_login(phoned.partner)
    response = client.post("/phone/log/", {"number": UNKNOWN, "reason": "Printer jam", "duration": "1",
                                           "outcome": "answered", "then": "create", "service": phoned.other.pk})
    assert response.status_code == 400
    assert "No requester has this number" in response.content.decode()
    assert not Call.objects.exists() and not Ticket.objects.exists()
