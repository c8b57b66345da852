"""Email in through a real dovecot: tickets, threaded replies, and the fault cases with their counts."""

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from tests.dovecot import dovecot  # noqa: F401  (fixture)
from tests.smtp_recorder import SmtpServer
from vuoro.channels import services as channel_services
from vuoro.channels.imap import mailbox_poll
from vuoro.channels.models import InboundEmail, Mailbox, Outcome
from vuoro.notify.models import OutboundEmail, OutboxStatus
from vuoro.notify.sender import message_id, send_outbox
from vuoro.tickets.models import Message, Ticket

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def mail(n: int, *, sender: str | None = None, subject: str | None = None, in_reply_to: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = sender or f"person{n}@customer.example"
    message["To"] = "desk@example.test"
    message["Subject"] = subject or f"Printer {n} is jammed"
    message["Message-ID"] = f"<imap-flow-{n}@customer.example>"
    message["Date"] = format_datetime(NOW)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(f"Request number {n}: the printer on floor {n} shows an error.")
    return message.as_bytes()


@pytest.fixture
def mailbox(world, dovecot):  # noqa: F811
    return Mailbox.objects.create(
        name="Desk", address="desk@example.test", service=world.other, imap_host=dovecot.host,
        imap_port=dovecot.port, imap_username=dovecot.user, imap_password=dovecot.password, imap_ssl=False,
    )


@pytest.fixture(autouse=True)
def _quiet_poll_logs(caplog):
    caplog.set_level("CRITICAL", logger="vuoro.channels.imap")


def test_a_requesters_email_becomes_a_ticket_and_the_reply_lands_on_it(world, dovecot, mailbox):  # noqa: F811
    requester = world.requester_a
    dovecot.append(mail(1, sender=requester.email, subject="VPN does not connect"))

    first = mailbox_poll(mailbox=mailbox, now=NOW)

    assert (first.fetched, first.received, first.error) == (1, 1, "")
    ticket = Ticket.objects.get()
    assert (ticket.requester, ticket.service, ticket.subject) == (requester, world.other, "VPN does not connect")
    assert dovecot.flags()["<imap-flow-1@customer.example>"] >= {"\\Seen"}
    # The acknowledgement over SMTP belongs to the outgoing-mail work, not yet in this tree;
    # the reply below threads by the ticket reference in the subject, as a reply to it would.
    dovecot.append(mail(2, sender=requester.email, subject=f"Re: {ticket.reference} VPN does not connect",
                        in_reply_to="<imap-flow-1@customer.example>"))

    second = mailbox_poll(mailbox=mailbox, now=NOW)

    assert second.received == 1 and Ticket.objects.count() == 1
    reply = InboundEmail.objects.get(message_id="<imap-flow-2@customer.example>")
    assert (reply.outcome, reply.ticket) == (Outcome.REPLY_ADDED, ticket)
    assert Message.objects.filter(ticket=ticket, pk=reply.ticket_message_id, author=requester).exists()
    assert dovecot.unseen_count() == 0


def test_server_down_loses_nothing_and_processes_each_message_once_when_back(world, dovecot, mailbox):  # noqa: F811
    dovecot.append(*(mail(n) for n in range(1, 11)))
    dovecot.stop()

    down = mailbox_poll(mailbox=mailbox, now=NOW)

    assert down.error and down.received == 0 and Ticket.objects.count() == 0
    dovecot.start()
    assert dovecot.unseen_count() == 10

    back = mailbox_poll(mailbox=mailbox, now=NOW)
    again = mailbox_poll(mailbox=mailbox, now=NOW)

    assert (back.fetched, back.received, back.failed) == (10, 10, 0)
    assert (again.fetched, again.received) == (0, 0)
    assert Ticket.objects.count() == 10 and InboundEmail.objects.count() == 10
    assert dovecot.unseen_count() == 0
    print(f"server down: poll error {down.error!r}; back: {back.received} received, "
          f"then {again.fetched} fetched; tickets {Ticket.objects.count()}")


def test_ingest_failing_for_one_message_leaves_it_unseen_and_the_next_poll_takes_it(
    world, dovecot, mailbox, monkeypatch,  # noqa: F811
):
    dovecot.append(*(mail(n) for n in range(1, 6)))
    real_receive = channel_services.email_receive

    def fails_on_third(*, raw, mailbox, now=None):
        # Fault injection: the ingest dies for one message (as a killed worker would) after the
        # real service ran for the others; a real failure mid-ingest cannot be triggered on demand.
        if b"<imap-flow-3@" in raw:
            raise RuntimeError("ingest died")
        return real_receive(raw=raw, mailbox=mailbox, now=now)

    monkeypatch.setattr(channel_services, "email_receive", fails_on_third)
    broken = mailbox_poll(mailbox=mailbox, now=NOW)

    assert (broken.fetched, broken.received, broken.failed) == (5, 4, 1)
    flags = dovecot.flags()
    assert "\\Seen" not in flags["<imap-flow-3@customer.example>"]
    assert sum("\\Seen" in found for found in flags.values()) == 4
    assert Ticket.objects.count() == 4

    monkeypatch.setattr(channel_services, "email_receive", real_receive)
    healed = mailbox_poll(mailbox=mailbox, now=NOW)

    assert (healed.fetched, healed.received, healed.failed) == (1, 1, 0)
    assert Ticket.objects.count() == 5 and InboundEmail.objects.count() == 5
    assert dovecot.unseen_count() == 0
    print(f"ingest failure: first poll {broken.received} received, {broken.failed} left unseen; "
          f"next poll {healed.received} received; tickets {Ticket.objects.count()}")


def test_committed_but_not_flagged_is_flagged_on_the_next_poll_without_a_second_ticket(
    world, dovecot, mailbox,  # noqa: F811
):
    """A poller killed after the ingest committed but before the flag: the message is still unseen."""
    raws = [mail(n) for n in range(1, 4)]
    dovecot.append(*raws)
    channel_services.email_receive(raw=raws[1], mailbox=mailbox, now=NOW)
    assert Ticket.objects.count() == 1 and dovecot.unseen_count() == 3

    result = mailbox_poll(mailbox=mailbox, now=NOW)

    assert (result.fetched, result.received) == (3, 3)
    assert Ticket.objects.count() == 3 and InboundEmail.objects.count() == 3
    assert dovecot.unseen_count() == 0
    print(f"killed before flag: {result.fetched} fetched, tickets {Ticket.objects.count()} (no duplicate)")


def test_the_acknowledgement_goes_out_over_smtp_and_a_reply_to_it_threads_back(world, dovecot, mailbox, settings):  # noqa: F811
    settings.VUORO_REQUESTER_MAIL = True
    smtp = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    requester = world.requester_b  # language "en"
    try:
        dovecot.append(mail(1, sender=requester.email, subject="Laptop will not boot"))
        assert mailbox_poll(mailbox=mailbox, now=NOW).received == 1
        ticket = Ticket.objects.get()

        send_outbox()
        [acknowledgement] = OutboundEmail.objects.filter(key__startswith="requester-")
        assert acknowledgement.status == OutboxStatus.SENT
        [subject] = [subject for recipient, subject in smtp.recorder.counts() if recipient == requester.email]
        assert ticket.reference in subject
        acknowledgement_id = message_id(acknowledgement)
        assert acknowledgement_id in smtp.recorder.message_ids

        # The reply carries only In-Reply-To: its subject has no reference to fall back on.
        dovecot.append(mail(2, sender=requester.email, subject="Re: thanks", in_reply_to=acknowledgement_id))
        assert mailbox_poll(mailbox=mailbox, now=NOW).received == 1
    finally:
        smtp.stop()

    reply = InboundEmail.objects.get(message_id="<imap-flow-2@customer.example>")
    assert (reply.outcome, reply.ticket) == (Outcome.REPLY_ADDED, ticket)
    assert Ticket.objects.count() == 1 and dovecot.unseen_count() == 0
    print(f"acknowledgement {acknowledgement_id} over SMTP; reply threaded to {ticket.reference}")
