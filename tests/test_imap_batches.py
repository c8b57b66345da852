"""Polling in batches against dovecot: a full inbox drained, handled mail moved, failures not looped."""

import pytest

from tests.dovecot import dovecot  # noqa: F401  (fixture)
from tests.test_imap_flow import NOW, mail, mailbox  # noqa: F401  (fixture)
from vuoro.channels import imap
from vuoro.channels import services as channel_services
from vuoro.channels.imap import mailbox_poll
from vuoro.channels.models import InboundEmail, Mailbox
from vuoro.tickets.models import Ticket


@pytest.fixture(autouse=True)
def _quiet_poll_logs(caplog):
    caplog.set_level("CRITICAL", logger="vuoro.channels.imap")


def test_more_than_a_batch_is_received_in_one_poll_with_one_fetch_per_batch(
    world, dovecot, mailbox, monkeypatch,  # noqa: F811
):
    monkeypatch.setattr(imap, "BATCH", 7)
    dovecot.append(*(mail(n) for n in range(1, 31)))
    fetches = []
    real_fetch = imap._fetch
    monkeypatch.setattr(imap, "_fetch", lambda server, uids: fetches.append(len(uids)) or real_fetch(server, uids))

    result = mailbox_poll(mailbox=mailbox, now=NOW)

    assert (result.fetched, result.received, result.failed, result.more) == (30, 30, 0, False)
    assert Ticket.objects.count() == 30 and dovecot.unseen_count() == 0
    assert max(fetches) == 7 and sum(fetches) == 30 and len(fetches) == 5
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at == NOW
    print(f"30 messages in one poll, fetches of {fetches}")


def test_a_batch_is_cut_by_size_so_huge_messages_are_not_held_together(world, dovecot, mailbox, monkeypatch):  # noqa: F811
    monkeypatch.setattr(imap, "BATCH_BYTES", 600)
    dovecot.append(*(mail(n) for n in range(1, 5)))  # each a few hundred bytes
    fetches = []
    real_fetch = imap._fetch
    monkeypatch.setattr(imap, "_fetch", lambda server, uids: fetches.append(len(uids)) or real_fetch(server, uids))

    assert mailbox_poll(mailbox=mailbox, now=NOW).received == 4
    assert fetches == [1, 1, 1, 1]


def test_handled_mail_is_moved_to_the_done_folder_which_is_created(world, dovecot, mailbox):  # noqa: F811
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_done_folder="Handled")
    mailbox.refresh_from_db()
    dovecot.append(*(mail(n) for n in range(1, 4)))

    result = mailbox_poll(mailbox=mailbox, now=NOW)

    assert result.received == 3 and result.ok
    assert dovecot.flags() == {}
    moved = dovecot.flags("Handled")
    assert sorted(moved) == [f"<imap-flow-{n}@customer.example>" for n in range(1, 4)]
    assert all("\\Seen" in flags for flags in moved.values())
    print(f"moved to Handled: {len(moved)}, left in INBOX: 0")


def test_a_failing_message_is_tried_once_per_poll_and_left_unseen(world, dovecot, mailbox, monkeypatch):  # noqa: F811
    dovecot.append(*(mail(n) for n in range(1, 4)))
    real_receive = channel_services.email_receive
    calls = []

    def fails_on_second(*, raw, mailbox, now=None):
        # Fault injection: one message's ingest raises every time; a real failure on demand is not possible.
        calls.append(raw)
        if b"<imap-flow-2@" in raw:
            raise RuntimeError("ingest died")
        return real_receive(raw=raw, mailbox=mailbox, now=now)

    monkeypatch.setattr(channel_services, "email_receive", fails_on_second)
    result = mailbox_poll(mailbox=mailbox, now=NOW)

    assert (result.fetched, result.received, result.failed) == (3, 2, 1)
    assert len(calls) == 3
    assert dovecot.unseen_count() == 1 and InboundEmail.objects.count() == 2


def test_a_poll_over_its_time_budget_stops_and_leaves_the_mailbox_due(world, dovecot, mailbox, monkeypatch):  # noqa: F811
    monkeypatch.setattr(imap, "BATCH", 2)
    dovecot.append(*(mail(n) for n in range(1, 11)))

    first = mailbox_poll(mailbox=mailbox, now=NOW, budget=0)

    assert first.more and first.received == 2  # one batch, then the budget is spent
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is None
    polls = [first]
    while polls[-1].more:
        polls.append(mailbox_poll(mailbox=mailbox, now=NOW, budget=0))
    assert [p.received for p in polls] == [2, 2, 2, 2, 2, 0]  # the mailbox stayed due until empty
    assert Ticket.objects.count() == 10 and dovecot.unseen_count() == 0
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at == NOW
