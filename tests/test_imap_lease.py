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


def test_the_lease_is_renewed_after_each_batch_and_a_lost_lease_stops_the_poll(world, dovecot, monkeypatch):  # noqa: F811
    box = imap_mailbox(dovecot, service=world.other)
    monkeypatch.setattr(imap, "BATCH", 2)
    dovecot.append(*(mail(n) for n in range(1, 7)))
    leases = []
    real_renew = imap.Lease.renew

    def renew_then_lose(self):
        leases.append(Mailbox.objects.get(pk=box.pk).poll_lease_until)
        if len(leases) == 2:
            Mailbox.objects.filter(pk=box.pk).update(poll_lease_until=timezone.now() + timedelta(seconds=60))
        return real_renew(self)  # the second renewal finds another worker's lease

    monkeypatch.setattr(imap.Lease, "renew", renew_then_lose)
    [result] = mailboxes_poll(now=NOW)
    assert (result.received, result.more) == (4, True)  # two batches, then it stopped
    assert InboundEmail.objects.count() == 4 and dovecot.unseen_count() == 2
    assert leases[0] is not None
    assert Mailbox.objects.get(pk=box.pk).poll_lease_until is not None  # the other worker's, kept


def test_one_mailbox_failing_unforeseen_does_not_stop_the_others(world, dovecot, monkeypatch):  # noqa: F811
    broken = imap_mailbox(dovecot, name="A broken", address="a@example.test", service=world.other)
    fine = imap_mailbox(dovecot, name="B fine", address="b@example.test", service=world.other)
    real_poll = imap.mailbox_poll

    def poll(**kwargs):
        if kwargs["mailbox"].pk == broken.pk:
            raise ValueError("unforeseen")
        return real_poll(**kwargs)

    monkeypatch.setattr(imap, "mailbox_poll", poll)
    dovecot.append(mail(1))
    results = {r.mailbox_id: r for r in mailboxes_poll(now=NOW)}
    assert "ValueError: unforeseen" in results[broken.pk].error
    assert results[fine.pk].received == 1
    assert Mailbox.objects.get(pk=broken.pk).poll_lease_until is None


def test_starttls_on_the_tls_port_is_refused_with_a_reason(world):
    from django.core.exceptions import ValidationError

    box = Mailbox(name="Desk", address="desk@example.test", service=world.other, imap_host="imap.example.test",
                  imap_port=993, imap_ssl=False, imap_starttls=True)
    try:
        box.full_clean()
    except ValidationError as refused:
        assert "143" in " ".join(refused.message_dict["imap_port"])
    else:
        raise AssertionError("STARTTLS on port 993 was accepted")
