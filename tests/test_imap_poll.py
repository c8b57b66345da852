"""Polling against a real dovecot: errors are reported, never raised; mailboxes are polled when due."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.dovecot import (
    dovecot,  # noqa: F401  (fixture)
    free_port,
)
from vuoro.channels.imap import email_poll, mailbox_poll, mailboxes_poll
from vuoro.channels.models import Mailbox
from vuoro.ops.management.commands.worker import MAIL_STEP, scheduled_work

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def imap_mailbox(server, *, name="Desk", address="desk@example.test", **fields) -> Mailbox:
    values = dict(
        imap_host=server.host, imap_port=server.port, imap_username=server.user,
        imap_password=server.password, imap_ssl=False,
    )
    values.update(fields)
    return Mailbox.objects.create(name=name, address=address, **values)


def test_an_empty_inbox_polls_cleanly(db, dovecot):  # noqa: F811
    mailbox = imap_mailbox(dovecot)
    result = mailbox_poll(mailbox=mailbox, now=NOW)
    assert (result.fetched, result.received, result.failed, result.error, result.ok) == (0, 0, 0, "", True)
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at == NOW


def test_a_stopped_server_is_reported_not_raised(db, dovecot):  # noqa: F811
    mailbox = imap_mailbox(dovecot)
    dovecot.stop()
    result = mailbox_poll(mailbox=mailbox, now=NOW)
    assert result.error and not result.ok
    assert "ConnectionRefused" in result.error
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at == NOW  # a down server is retried when due, not every cycle


def test_a_refused_login_is_reported_not_raised(db, dovecot):  # noqa: F811
    result = mailbox_poll(mailbox=imap_mailbox(dovecot, imap_password="wrong"), now=NOW)
    assert "Login" in result.error and result.received == 0


def test_nothing_listening_is_reported(db):
    mailbox = Mailbox.objects.create(
        name="Nowhere", address="nowhere@example.test", imap_host="127.0.0.1",
        imap_port=free_port(), imap_username="x", imap_password="y", imap_ssl=False,
    )
    assert mailbox_poll(mailbox=mailbox, now=NOW).error


def test_only_active_imap_mailboxes_that_are_due_are_polled(db, dovecot):  # noqa: F811
    due = imap_mailbox(dovecot)
    imap_mailbox(dovecot, name="Recent", address="recent@example.test", last_polled_at=NOW - timedelta(seconds=10))
    imap_mailbox(dovecot, name="Off", address="off@example.test", active=False)
    Mailbox.objects.create(name="Piped", address="piped@example.test")  # no IMAP host: posted to us
    stale = imap_mailbox(dovecot, name="Stale", address="stale@example.test", last_polled_at=NOW - timedelta(seconds=31))

    results = mailboxes_poll(now=NOW, every=30)

    assert sorted(result.mailbox_id for result in results) == sorted([due.pk, stale.pk])
    assert all(result.ok for result in results)
    assert mailboxes_poll(now=NOW + timedelta(seconds=5), every=30) == []


def test_the_scheduler_step_polls_and_never_raises(db, dovecot):  # noqa: F811
    assert MAIL_STEP is email_poll and email_poll not in scheduled_work()
    imap_mailbox(dovecot)
    dovecot.stop()
    assert email_poll() == 0
    print("scheduler step with the server down: 0 received, no exception")


@pytest.fixture(autouse=True)
def _quiet_poll_warnings(caplog):
    caplog.set_level("ERROR", logger="vuoro.channels.imap")
