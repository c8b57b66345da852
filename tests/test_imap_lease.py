"""Two workers do not poll one mailbox at once: a poll leases its mailbox, against dovecot."""

from datetime import timedelta

from django.utils import timezone

from tests.dovecot import dovecot  # noqa: F401  (fixture)
from tests.test_imap_flow import NOW, mail
from tests.test_imap_poll import imap_mailbox
from vuoro.channels import imap
from vuoro.channels.imap import mailboxes_poll
from vuoro.channels.models import InboundEmail, Mailbox


def test_a_mailbox_leased_by_another_worker_is_left_to_it(world, dovecot):  # noqa: F811
    box = imap_mailbox(dovecot, service=world.other,
                       poll_lease_until=timezone.now() + timedelta(seconds=20))
    dovecot.append(mail(1))
    assert mailboxes_poll(now=NOW) == []
    assert not InboundEmail.objects.exists() and dovecot.unseen_count() == 1
    box.refresh_from_db()
    assert box.last_polled_at is None


def test_a_lease_left_by_a_killed_worker_runs_out_and_the_mail_is_taken(world, dovecot):  # noqa: F811
    box = imap_mailbox(dovecot, service=world.other, poll_lease_until=timezone.now() - timedelta(seconds=1))
    dovecot.append(mail(1), mail(2))
    [result] = mailboxes_poll(now=NOW)
    assert result.received == 2 and InboundEmail.objects.count() == 2
    box.refresh_from_db()
    assert box.poll_lease_until is None  # given back after the poll


def test_the_lease_is_given_back_when_the_server_is_down_too(world, dovecot):  # noqa: F811
    box = imap_mailbox(dovecot, service=world.other)
    dovecot.stop()
    [result] = mailboxes_poll(now=NOW)
    assert result.error
    box.refresh_from_db()
    assert box.poll_lease_until is None


def test_while_one_poll_runs_a_second_worker_skips_the_mailbox(world, dovecot, monkeypatch):  # noqa: F811
    box = imap_mailbox(dovecot, service=world.other)
    dovecot.append(mail(1))
    inner: list[list] = []
    real_poll = imap.mailbox_poll

    def poll_and_meanwhile_another_worker(**kwargs):
        inner.append(mailboxes_poll(now=NOW, every=0))  # the second worker, during the first poll
        return real_poll(**kwargs)

    monkeypatch.setattr(imap, "mailbox_poll", poll_and_meanwhile_another_worker)
    [result] = mailboxes_poll(now=NOW)
    assert inner == [[]] and result.received == 1
    assert Mailbox.objects.get(pk=box.pk).poll_lease_until is None
