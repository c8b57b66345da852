"""Agent mail: a new ticket, an assignment, a requester's message; once, to the right people."""

import re
from email.utils import make_msgid

import pytest
from django.db import transaction
from django.utils import timezone

from tests import factories as f
from tests.smtp_recorder import keeping_smtp  # noqa: F401  (fixture)
from vuoro.accounts.models import AssignmentStrategy, Role
from vuoro.channels.models import Mailbox, Outcome
from vuoro.channels.services import email_receive
from vuoro.notify.agent_mail import agent_mail_assigned, agent_mail_message, agent_mail_new_ticket
from vuoro.notify.models import EmailPreference, OutboundEmail
from vuoro.notify.sender import message_id, send_outbox
from vuoro.tickets.models import Message, Ticket
from vuoro.tickets.services import message_add, ticket_change

SUBJECT_WORDS = {"en": "New ticket", "sv": "Nytt ärende", "fi": "Uusi tiketti"}


@pytest.fixture(autouse=True)
def agent_mail_on(settings):
    settings.VUORO_AGENT_MAIL = True
    settings.VUORO_X_LOOP = "vuoro"
    settings.BASE_URL = "https://desk.example.test"


@pytest.fixture
def staff(world):
    """The desk team speaks three languages; the owner is on it too, the partner is not staff."""
    world.agent.language, world.agent2.language, world.owner.language = "en", "sv", "fi"
    for person in (world.agent, world.agent2, world.owner):
        person.save()
    world.desk_team.members.add(world.owner, world.partner)
    return world


def agent_rows(ticket: Ticket) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(key__startswith=f"agent-{ticket.pk}-").order_by("to", "pk"))


def recipients(ticket: Ticket) -> list[str]:
    return sorted(row.to for row in agent_rows(ticket))


def test_a_new_unassigned_ticket_mails_each_staff_member_of_its_team_in_their_language(staff):
    ticket = f.ticket(staff.requester_a, staff.other, subject="Printer jams", description="Paper stuck.\n\nTray 2.")

    rows = agent_rows(ticket)
    assert recipients(ticket) == sorted([staff.agent.email, staff.agent2.email, staff.owner.email])
    languages = {staff.agent.email: "en", staff.agent2.email: "sv", staff.owner.email: "fi"}
    for row in rows:
        assert f'<html lang="{languages[row.to]}">' in row.html_body
        assert row.key.startswith(f"agent-{ticket.pk}-new-")
    english = next(row for row in rows if row.to == staff.agent.email)
    assert english.subject == f"[{ticket.reference}] New ticket: Printer jams"
    assert ticket.priority == "P5"
    link = f"https://desk.example.test/desk/tickets/{ticket.reference}/"
    for part in (english.body, english.html_body):
        assert "Printer jams" in part and "Service workstations" in part and "P5 – planning" in part
        assert staff.requester_a.display_name() in part and link in part
    assert "Paper stuck.\n\nTray 2." in english.body and "<p>Tray 2.</p>" in english.html_body
    assert english.headers == {"X-Loop": "vuoro", "Auto-Submitted": "auto-generated"}


def test_subjects_are_in_the_recipients_language(staff):
    ticket = f.ticket(staff.requester_a, staff.other, subject="Printer jams")
    for row in agent_rows(ticket):
        language = {staff.agent.email: "en", staff.agent2.email: "sv", staff.owner.email: "fi"}[row.to]
        assert row.subject == f"[{ticket.reference}] {SUBJECT_WORDS[language]}: Printer jams"


def test_no_mail_to_the_creator_inactive_people_or_people_without_an_address(staff):
    gone = f.user(Role.AGENT, is_active=False)
    silent = f.user(Role.AGENT)
    silent.email = ""
    silent.save()
    staff.desk_team.members.add(gone, silent)

    ticket = f.ticket(staff.requester_a, staff.other, actor=staff.agent)

    assert recipients(ticket) == sorted([staff.agent2.email, staff.owner.email])


def test_a_ticket_assigned_at_intake_mails_only_its_assignee(staff):
    staff.desk_team.assignment_strategy = AssignmentStrategy.ROUND_ROBIN
    staff.desk_team.save()

    ticket = f.ticket(staff.requester_a, staff.other)

    assert ticket.assignee is not None
    assert recipients(ticket) == [ticket.assignee.email]


def test_an_assignment_mails_the_new_assignee_unless_they_took_it_themselves(staff):
    ticket = f.ticket(staff.requester_a, staff.other)
    OutboundEmail.objects.all().delete()

    ticket_change(actor=staff.agent, ticket=ticket, assignee=staff.agent2)
    [row] = agent_rows(ticket)
    assert row.to == staff.agent2.email and "-assigned-" in row.key
    assert row.subject.startswith(f"[{ticket.reference}] ") and '<html lang="sv">' in row.html_body

    ticket_change(actor=staff.agent, ticket=ticket, assignee=staff.agent)
    assert len(agent_rows(ticket)) == 1  # the agent assigned it to themselves
    ticket_change(actor=staff.agent, ticket=ticket, priority="P2")
    assert len(agent_rows(ticket)) == 1  # not an assignment


def test_a_requesters_message_mails_the_assignee_only(staff):
    ticket = f.ticket(staff.requester_a, staff.other)
    ticket_change(actor=staff.agent2, ticket=ticket, assignee=staff.agent)
    OutboundEmail.objects.all().delete()

    message_add(actor=staff.requester_a, ticket=ticket, body="It now shows <error 42>.")

    [row] = agent_rows(ticket)
    assert row.to == staff.agent.email and row.subject.startswith(f"[{ticket.reference}] New message")
    assert "It now shows <error 42>." in row.body and "&lt;error 42&gt;" in row.html_body
    assert staff.requester_a.display_name() in row.body


def test_a_requesters_message_on_an_unassigned_ticket_mails_the_team(staff):
    ticket = f.ticket(staff.requester_a, staff.other)
    OutboundEmail.objects.all().delete()

    message_add(actor=staff.requester_a, ticket=ticket, body="Any news?")

    assert recipients(ticket) == sorted([staff.agent.email, staff.agent2.email, staff.owner.email])


def test_no_mail_for_internal_notes_or_desk_replies(staff):
    ticket = f.ticket(staff.requester_a, staff.other)
    OutboundEmail.objects.all().delete()

    message_add(actor=staff.agent, ticket=ticket, body="Checked the logs.", internal=True)
    message_add(actor=staff.agent, ticket=ticket, body="Please restart it.")

    assert agent_rows(ticket) == []


def test_a_repeat_writes_nothing_twice(staff):
    ticket = f.ticket(staff.requester_a, staff.other)
    ticket_change(actor=staff.agent, ticket=ticket, assignee=staff.agent2)
    message = message_add(actor=staff.requester_a, ticket=ticket, body="Any news?")
    before = len(agent_rows(ticket))
    assert before == 3 + 1 + 1

    with transaction.atomic():
        now = timezone.now()
        ticket.refresh_from_db()
        assert agent_mail_new_ticket(ticket=ticket, actor=staff.requester_a, now=now) == 0
        assert agent_mail_assigned(ticket=ticket, actor=staff.agent, now=now) == 0
        assert agent_mail_message(ticket=ticket, message=message, now=now) == 0
    assert len(agent_rows(ticket)) == before


def test_later_mails_thread_to_the_recipients_first_mail_about_the_ticket(staff):
    ticket = f.ticket(staff.requester_a, staff.other)
    ticket_change(actor=staff.agent, ticket=ticket, assignee=staff.agent2)

    first, assigned = [row for row in agent_rows(ticket) if row.to == staff.agent2.email]
    assert "In-Reply-To" not in first.headers
    assert assigned.headers["In-Reply-To"] == assigned.headers["References"] == message_id(first)


def test_switched_off_by_the_person(staff, login):
    client = login(staff.agent)
    assert client.post("/notify/contacts/", {"action": "email_preference"}).status_code == 302
    assert EmailPreference.objects.get(user=staff.agent).about_my_tickets is False

    ticket = f.ticket(staff.requester_a, staff.other)
    ticket_change(actor=staff.agent2, ticket=ticket, assignee=staff.agent)
    message_add(actor=staff.requester_a, ticket=ticket, body="Any news?")
    assert staff.agent.email not in recipients(ticket)
    assert recipients(ticket) == sorted([staff.agent2.email, staff.owner.email])

    client.post("/notify/contacts/", {"action": "email_preference", "about_my_tickets": "on"})
    again = f.ticket(staff.requester_a, staff.other)
    assert staff.agent.email in recipients(again)


def test_the_contacts_page_shows_the_choice_checked_by_default(staff, login):
    client = login(staff.agent)
    checkbox = re.compile(r'<input type="checkbox" name="about_my_tickets"[^>]*>')
    [shown] = checkbox.findall(client.get("/notify/contacts/").content.decode())
    assert " checked" in shown

    client.post("/notify/contacts/", {"action": "email_preference"})
    [shown] = checkbox.findall(client.get("/notify/contacts/").content.decode())
    assert " checked" not in shown


def test_off_for_everyone_by_setting(staff, settings):
    settings.VUORO_AGENT_MAIL = False
    ticket = f.ticket(staff.requester_a, staff.other)
    ticket_change(actor=staff.agent, ticket=ticket, assignee=staff.agent2)
    message_add(actor=staff.requester_a, ticket=ticket, body="Any news?")
    assert agent_rows(ticket) == []


def test_sent_over_smtp_as_text_and_html(staff, keeping_smtp, settings):  # noqa: F811
    settings.VUORO_REQUESTER_MAIL = False
    ticket = f.ticket(staff.requester_a, staff.other, subject="Printer jams")

    assert send_outbox().sent == 3

    sent = {str(m["To"]): m for m in keeping_smtp.recorder.messages}
    assert sorted(sent) == sorted([staff.agent.email, staff.agent2.email, staff.owner.email])
    english = sent[staff.agent.email]
    assert english["Subject"] == f"[{ticket.reference}] New ticket: Printer jams"
    assert english["X-Loop"] == "vuoro" and english["Auto-Submitted"] == "auto-generated"
    assert english.get_content_type() == "multipart/alternative"
    assert "Printer jams" in english.get_body(("plain",)).get_content()
    assert f'href="https://desk.example.test/desk/tickets/{ticket.reference}/"' in (
        english.get_body(("html",)).get_content())
    assert sorted(keeping_smtp.recorder.counts().values()) == [1, 1, 1]


def test_an_agents_emailed_answer_lands_on_the_ticket(staff, keeping_smtp):  # noqa: F811
    box = Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=staff.other)
    ticket = f.ticket(staff.requester_a, staff.other, subject="Printer jams")
    send_outbox()
    to_agent = next(m for m in keeping_smtp.recorder.messages if str(m["To"]) == staff.agent.email)

    # Only In-Reply-To: the subject carries no reference to fall back on.
    answer = (f"From: {staff.agent.email}\r\nTo: desk@vuoro.test\r\nSubject: Re: that printer\r\n"
              f"Message-ID: {make_msgid(domain='agents.example.test')}\r\n"
              f"In-Reply-To: {to_agent['Message-ID']}\r\n"
              "Content-Type: text/plain; charset=utf-8\r\n\r\nOn my way with a new drum.")
    row = email_receive(raw=answer.encode(), mailbox=box)

    assert (row.outcome, row.ticket) == (Outcome.REPLY_ADDED, ticket)
    assert Ticket.objects.count() == 1
    reply = Message.objects.get(ticket=ticket)
    assert reply.author == staff.agent and not reply.internal and "new drum" in reply.body
