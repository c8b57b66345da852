"""The dovecot harness itself: a real IMAP server on loopback that keeps its mail across a restart."""

import imaplib

import pytest

from tests.dovecot import Dovecot, dovecot  # noqa: F401  (fixture)


def message(n: int) -> bytes:
    return (
        f"Message-ID: <harness-{n}@example.test>\r\nFrom: someone@example.test\r\n"
        f"To: desk@example.test\r\nSubject: Harness {n}\r\n\r\nBody {n}\r\n"
    ).encode()


def test_appended_messages_arrive_unseen_and_survive_a_restart(dovecot):  # noqa: F811
    dovecot.append(message(1), message(2), message(3))
    assert dovecot.unseen_count() == 3

    dovecot.stop()
    with pytest.raises(OSError):
        imaplib.IMAP4(dovecot.host, dovecot.port, timeout=2)
    dovecot.start()

    flags = dovecot.flags()
    assert sorted(flags) == [f"<harness-{n}@example.test>" for n in (1, 2, 3)]
    assert all("\\Seen" not in found for found in flags.values())


def test_wrong_password_is_refused(dovecot):  # noqa: F811
    client = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=5)
    with pytest.raises(imaplib.IMAP4.error):
        client.login(dovecot.user, "wrong")
    client.shutdown()


def test_two_servers_run_side_by_side_on_their_own_ports():
    first, second = Dovecot().start(), Dovecot().start()
    try:
        assert first.port != second.port
        first.append(message(1))
        assert (first.unseen_count(), second.unseen_count()) == (1, 0)
    finally:
        first.cleanup()
        second.cleanup()
