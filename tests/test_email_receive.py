"""email_receive: one row per Message-ID, loops dropped, replies only where the sender may reply."""

import datetime as dt

import pytest
import time_machine

from tests import factories as f
from vuoro.accounts.models import Role, User
from vuoro.channels.models import InboundEmail, Mailbox, Outcome, UnknownSenders
from vuoro.channels.services import RATE_LIMIT, email_receive
from vuoro.tickets.models import Channel, Message, Ticket

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def mail(sender: str, subject: str = "Printer broken", body: str = "It jams.", *, mid: str | None = "<m@x.test>",
         extra: str = "") -> bytes:
    head = f"From: {sender}\r\nTo: desk@vuoro.test\r\nSubject: {subject}\r\n"
    if mid:
        head += f"Message-ID: {mid}\r\n"
    return (head + extra + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()


@pytest.fixture
def box(world):
    return Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=world.other)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_new_ticket_from_known_sender_then_duplicate(world, box):
    row = email_receive(raw=mail(world.requester_a.email), mailbox=box)
    assert row.outcome == Outcome.TICKET_CREATED
    ticket = row.ticket
    assert ticket.requester == world.requester_a and ticket.channel == Channel.EMAIL
    assert ticket.service == world.other and "It jams." in ticket.description
    again = email_receive(raw=mail(world.requester_a.email), mailbox=box)
    assert again.outcome == Outcome.DUPLICATE and again.pk == row.pk
    assert InboundEmail.objects.count() == 1 and Ticket.objects.count() == 1
    assert InboundEmail.objects.get().outcome == Outcome.TICKET_CREATED


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_reply_by_reference_strips_quote(world, box):
    ticket = f.ticket(world.requester_a, world.other)
    body = "Still broken.\r\n\r\nOn Mon, 23 Nov 2026, Desk <desk@vuoro.test> wrote:\r\n> old text"
    row = email_receive(raw=mail(world.requester_a.email, f"Re: [{ticket.reference}] x", body, mid="<r@x>"),
                        mailbox=box)
    assert row.outcome == Outcome.REPLY_ADDED and row.ticket == ticket
    message = Message.objects.get(pk=row.ticket_message_id)
    shown, _sep, folded = message.body.partition("<details>")
    assert "Still broken." in shown and "old text" not in shown
    assert "old text" in folded and folded.startswith("<summary>") and folded.endswith("</details>")


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_forged_reference_to_other_organisation_makes_new_ticket(world, box):
    victim = f.ticket(world.requester_b, world.other)
    before = victim.messages.count()
    row = email_receive(raw=mail(world.requester_a.email, f"Re: [{victim.reference}] x", mid="<f@x>"),
                        mailbox=box)
    assert row.outcome == Outcome.TICKET_CREATED and row.ticket != victim
    assert row.ticket.requester == world.requester_a
    assert victim.messages.count() == before


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_unknown_sender_contact_or_refused(world, box):
    row = email_receive(raw=mail("New Person <new@outside.test>"), mailbox=box)
    assert row.outcome == Outcome.TICKET_CREATED
    contact = User.objects.get(email="new@outside.test")
    assert contact.role == Role.REQUESTER and not contact.has_usable_password()
    box.unknown_senders = UnknownSenders.REFUSE
    box.save()
    refused = email_receive(raw=mail("other@outside.test", mid="<o@x>"), mailbox=box)
    assert refused.outcome == Outcome.REJECTED and refused.reason and refused.ticket is None
    assert not User.objects.filter(email="other@outside.test").exists()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_loops_and_auto_replies_ignored(world, box):
    for n, extra in enumerate(["Auto-Submitted: auto-replied\r\n", "X-Loop: vuoro\r\n",
                               "Precedence: bulk\r\n", "List-Id: <l.x.test>\r\n"]):
        row = email_receive(raw=mail(world.requester_a.email, mid=f"<l{n}@x>", extra=extra), mailbox=box)
        assert row.outcome == Outcome.IGNORED_LOOP and row.reason
    assert Ticket.objects.count() == 0


@pytest.mark.django_db
def test_rate_limit_per_sender(world, box):
    with time_machine.travel(NOW, tick=False):
        for n in range(RATE_LIMIT):
            assert email_receive(raw=mail("spam@outside.test", mid=f"<s{n}@x>"), mailbox=box).outcome \
                == Outcome.TICKET_CREATED
        over = email_receive(raw=mail("spam@outside.test", mid="<over@x>"), mailbox=box)
        assert over.outcome == Outcome.REJECTED and over.ticket is None
    with time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False):
        assert email_receive(raw=mail("spam@outside.test", mid="<later@x>"), mailbox=box).outcome \
            == Outcome.TICKET_CREATED


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_missing_message_id_is_deduplicated_by_content(world, box):
    raw = mail(world.requester_a.email, mid=None)
    first = email_receive(raw=raw, mailbox=box)
    assert first.message_id.startswith("<synthetic-sha256-")
    assert email_receive(raw=raw, mailbox=box).outcome == Outcome.DUPLICATE
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_the_rate_limit_is_a_setting(world, box, settings):
    settings.VUORO_EMAIL_RATE_LIMIT = 2
    with time_machine.travel(NOW, tick=False):
        outcomes = [email_receive(raw=mail("busy@outside.test", mid=f"<b{n}@x>"), mailbox=box).outcome
                    for n in range(3)]
    assert outcomes == [Outcome.TICKET_CREATED, Outcome.TICKET_CREATED, Outcome.REJECTED]
