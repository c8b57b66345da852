"""Bounces in use: a permanent bounce stops mail to that address until the person writes again,
and the desk (never the requester or a partner) is told why replies are not emailed."""

import datetime as dt
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape

from tests import factories as f
from tests.test_partner_scope import night_ticket, night_world
from vuoro.channels.models import EmailBounce, Mailbox, Outcome
from vuoro.channels.selectors import bounce_stopping_mail, requester_bounce
from vuoro.channels.services import email_receive
from vuoro.notify.models import OutboundEmail
from vuoro.tickets.models import Message, Status, Ticket
from vuoro.tickets.services import message_add

ADDRESS = "Req.A@Customer.Example"  # as the contact typed it; reports name it in lower case
WARNING_END = "Replies are not emailed until the requester writes again."
LONG_DIAGNOSTIC = "smtp; 550 5.1.1 <req.a@customer.example>: Recipient address rejected: " + "no such user " * 20


@pytest.fixture(autouse=True)
def mail_on(settings):
    settings.VUORO_REQUESTER_MAIL = True
    settings.VUORO_AGENT_MAIL = True


@pytest.fixture
def mailbox(world):
    return Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=world.other)


@pytest.fixture
def requester(world):
    world.requester_a.email = ADDRESS
    world.requester_a.save(update_fields=["email"])
    return world.requester_a


@pytest.fixture
def login(login_en):
    """The desk in English, so that assertions can quote its words."""
    return login_en


def delivery_report(address: str, status: str, *, diagnostic: str = "smtp; 550 User unknown",
                    tag: str = "1") -> bytes:
    """A delivery status notification (RFC 3464) saying mail to ``address`` failed."""
    return f"""\
From: MAILER-DAEMON@mx.customer.example
To: desk@vuoro.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{tag}@mx.customer.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example

Final-Recipient: rfc822; {address}
Action: failed
Status: {status}
Diagnostic-Code: {diagnostic}

--B--
""".encode()


def bounced(mailbox, address: str, status: str = "5.1.1", *, ago: dt.timedelta = dt.timedelta(hours=2),
            diagnostic: str = "smtp; 550 User unknown", tag: str = "1") -> EmailBounce:
    """Receive a delivery report ``ago`` before now, as the mail channel does."""
    row = email_receive(raw=delivery_report(address, status, diagnostic=diagnostic, tag=tag),
                        mailbox=mailbox, now=timezone.now() - ago)
    assert row.outcome == Outcome.IGNORED_LOOP
    return EmailBounce.objects.get(inbound=row)


def writes_again(mailbox, person, ticket: Ticket, *, ago: dt.timedelta = dt.timedelta(hours=1)) -> None:
    """The person answers by email; the reference in the subject threads it to the ticket."""
    raw = (f"From: {person.email}\nTo: desk@vuoro.test\nSubject: Re: [{ticket.reference}] {ticket.subject}\n"
           f"Message-ID: <again-{ticket.pk}@customer.example>\n\nStill broken, call me.\n").encode()
    row = email_receive(raw=raw, mailbox=mailbox, now=timezone.now() - ago)
    assert row.outcome == Outcome.REPLY_ADDED


def requester_rows(ticket: Ticket) -> list[str]:
    return list(OutboundEmail.objects.filter(key__startswith=f"requester-{ticket.pk}-")
                .order_by("pk").values_list("key", flat=True))


def desk_page(client, ticket: Ticket) -> str:
    response = client.get(reverse("desk:ticket", args=[ticket.reference]))
    assert response.status_code == 200
    return response.content.decode()


# Requester mail ----------------------------------------------------------------------------


def test_a_permanent_bounce_stops_the_next_requester_mail_and_nothing_else(world, mailbox, requester, caplog):
    ticket = f.ticket(requester, world.other)
    bounce = bounced(mailbox, "req.a@customer.example", "5.1.1")

    with caplog.at_level(logging.INFO, logger="vuoro.notify.requester_mail"):
        message = message_add(actor=world.agent, ticket=ticket, body="Please restart it.")

    assert requester_rows(ticket) == [f"requester-{ticket.pk}-received"]
    [record] = [r for r in caplog.records if r.name == "vuoro.notify.requester_mail"]
    assert record.levelno == logging.INFO
    assert f"requester-{ticket.pk}-reply-{message.pk}" in record.getMessage()
    assert f"email bounce {bounce.pk}" in record.getMessage()
    # The reply itself is on the ticket as ever; only the mail was left out.
    ticket.refresh_from_db()
    assert Message.objects.filter(ticket=ticket, body__contains="Please restart it.").exists()
    assert ticket.first_response_at is not None


def test_a_permanent_bounce_stops_the_received_mail_of_a_new_request(world, mailbox, requester):
    bounced(mailbox, "req.a@customer.example", "5.1.1")
    ticket = f.ticket(requester, world.other)
    assert ticket.status == Status.NEW and requester_rows(ticket) == []


def test_a_temporary_bounce_does_not_stop_mail(world, mailbox, requester):
    ticket = f.ticket(requester, world.other)
    bounced(mailbox, "req.a@customer.example", "4.2.2", diagnostic="smtp; 452 mailbox full")

    message = message_add(actor=world.agent, ticket=ticket, body="Please restart it.")

    assert requester_rows(ticket)[-1] == f"requester-{ticket.pk}-reply-{message.pk}"


def test_a_bounce_older_than_thirty_days_no_longer_stops_mail(world, mailbox, requester):
    ticket = f.ticket(requester, world.other)
    bounced(mailbox, "req.a@customer.example", "5.1.1", ago=dt.timedelta(days=31))

    message = message_add(actor=world.agent, ticket=ticket, body="Please restart it.")

    assert requester_rows(ticket)[-1] == f"requester-{ticket.pk}-reply-{message.pk}"


def test_mail_resumes_once_the_requester_writes_again_from_that_address(world, mailbox, requester):
    ticket = f.ticket(requester, world.other)
    bounced(mailbox, "req.a@customer.example", "5.1.1", ago=dt.timedelta(hours=2))
    message_add(actor=world.agent, ticket=ticket, body="First answer.")
    assert len(requester_rows(ticket)) == 1

    writes_again(mailbox, requester, ticket, ago=dt.timedelta(hours=1))
    message = message_add(actor=world.agent, ticket=ticket, body="Second answer.")

    assert requester_rows(ticket)[-1] == f"requester-{ticket.pk}-reply-{message.pk}"


def test_mail_written_before_the_bounce_does_not_lift_it(world, mailbox, requester):
    ticket = f.ticket(requester, world.other)
    writes_again(mailbox, requester, ticket, ago=dt.timedelta(hours=3))
    bounced(mailbox, "req.a@customer.example", "5.1.1", ago=dt.timedelta(hours=2))

    message_add(actor=world.agent, ticket=ticket, body="Please restart it.")

    assert requester_rows(ticket) == [f"requester-{ticket.pk}-received"]


# Agent mail --------------------------------------------------------------------------------


def test_a_desk_member_whose_address_bounced_gets_no_agent_mail(world, mailbox, caplog):
    bounce = bounced(mailbox, world.agent2.email.upper(), "5.2.1")

    with caplog.at_level(logging.INFO, logger="vuoro.notify.agent_mail"):
        ticket = f.ticket(world.requester_a, world.other)

    recipients = OutboundEmail.objects.filter(key__startswith=f"agent-{ticket.pk}-").values_list("to", flat=True)
    assert list(recipients) == [world.agent.email]
    [record] = [r for r in caplog.records if r.name == "vuoro.notify.agent_mail"]
    assert record.levelno == logging.INFO and f"email bounce {bounce.pk}" in record.getMessage()


# The desk ticket page ----------------------------------------------------------------------


def test_the_desk_ticket_page_warns_the_agent_next_to_the_requester(world, mailbox, requester, login):
    ticket = f.ticket(requester, world.other)
    bounce = bounced(mailbox, "req.a@customer.example", "5.1.1", diagnostic=LONG_DIAGNOSTIC)

    page = desk_page(login(world.agent), ticket)

    with translation.override("en"):
        day = formats.date_format(timezone.localtime(bounce.at), "SHORT_DATE_FORMAT")
    requester_facts = page[page.index('class="requester"'):page.index("</dd>", page.index('class="requester"'))]
    assert 'class="errors requester-bounce"' in requester_facts
    assert f"Mail to req.a@customer.example bounced on {day}: 5.1.1 smtp; 550 5.1.1" in requester_facts
    assert WARNING_END in requester_facts
    shortened = escape(bounce.diagnostic[:119] + "…")
    assert shortened in requester_facts and escape(bounce.diagnostic) not in requester_facts


def test_no_warning_once_the_requester_wrote_again_or_for_a_temporary_failure(world, mailbox, requester, login):
    ticket = f.ticket(requester, world.other)
    bounced(mailbox, "req.a@customer.example", "4.4.1", tag="temporary")
    client = login(world.agent)
    assert "requester-bounce" not in desk_page(client, ticket)

    bounced(mailbox, "req.a@customer.example", "5.1.1", tag="permanent")
    assert "requester-bounce" in desk_page(client, ticket)

    writes_again(mailbox, requester, ticket, ago=dt.timedelta(minutes=5))
    assert "requester-bounce" not in desk_page(client, ticket)


def test_the_requester_never_sees_the_bounce(world, mailbox, requester, login):
    ticket = f.ticket(requester, world.other)
    bounced(mailbox, "req.a@customer.example", "5.1.1")

    response = login(requester).get(reverse("portal:ticket", args=[ticket.reference]))

    assert response.status_code == 200 and ticket.subject in response.text
    assert "bounced" not in response.text and "requester-bounce" not in response.text
    assert requester_bounce(user=requester, ticket=ticket) is None


def test_partner_agents_never_see_the_bounce(world, mailbox, requester, client, login):
    night = night_world(world)
    ticket = night_ticket(night, requester=requester)
    bounced(mailbox, "req.a@customer.example", "5.1.1")
    assert requester_bounce(user=night.agent, ticket=ticket) is not None  # the desk would see it

    console = login(night.partner)
    page = console.get(reverse("partner:ticket", args=[ticket.reference]))
    assert page.status_code == 200 and ticket.subject in page.text
    assert "bounced" not in page.text and "requester-bounce" not in page.text
    # The desk page the partner may reach (a side-panel error without htmx) leaves it out too.
    refused = console.post(reverse("desk:change", args=[ticket.reference]), {"priority": "P0"})
    assert refused.status_code == 400 and ticket.subject in refused.text
    assert "requester-bounce" not in refused.text
    assert requester_bounce(user=night.partner, ticket=ticket) is None


def test_the_warning_costs_the_same_queries_however_many_bounces_and_messages(world, mailbox, requester, login):
    ticket = f.ticket(requester, world.other)
    client = login(world.agent)
    desk_page(client, ticket)  # warm the session and caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            desk_page(client, ticket)
        return len(captured.captured_queries)

    without = queries()
    for n in range(5):
        bounced(mailbox, "req.a@customer.example", "5.1.1" if n % 2 else "4.2.2",
                ago=dt.timedelta(hours=10 - n), tag=f"many-{n}")
    assert "requester-bounce" in desk_page(client, ticket)
    some = queries()
    assert some <= without + 1  # a second look-up (mail received since) only once something bounced
    for n in range(5, 15):
        bounced(mailbox, "req.a@customer.example", "5.1.1", ago=dt.timedelta(hours=20 - n), tag=f"many-{n}")
    assert queries() == some


# The selector ------------------------------------------------------------------------------


def test_the_stopping_bounce_is_the_newest_permanent_one_of_the_window(world, mailbox):
    bounced(mailbox, "gone@customer.example", "5.1.1", ago=dt.timedelta(days=40), tag="too-old")
    old = bounced(mailbox, "gone@customer.example", "5.1.1", ago=dt.timedelta(days=3), tag="old")
    new = bounced(mailbox, "gone@customer.example", "5.1.2", ago=dt.timedelta(days=2), tag="new")
    bounced(mailbox, "gone@customer.example", "4.2.2", ago=dt.timedelta(days=1), tag="temporary")
    bounced(mailbox, "stale@customer.example", "5.1.1", ago=dt.timedelta(days=40), tag="stale")
    now = timezone.now()

    assert bounce_stopping_mail(address="Gone@Customer.Example", now=now) == new != old
    assert bounce_stopping_mail(address="stale@customer.example", now=now) is None
    assert bounce_stopping_mail(address="other@customer.example", now=now) is None