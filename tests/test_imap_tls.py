"""IMAP over TLS and STARTTLS against a real dovecot with a self-signed certificate: the
certificate is verified (by the CA file an operator configures), and a done folder means every
message left in the inbox waits, even one a person already opened in a mail client."""

import pytest

from tests.dovecot import Dovecot
from tests.test_imap_flow import NOW, mail
from vuoro.channels.imap import mailbox_poll
from vuoro.channels.models import InboundEmail, Mailbox
from vuoro.tickets.models import Ticket


@pytest.fixture
def tls_dovecot():
    server = Dovecot(tls=True).start()
    try:
        yield server
    finally:
        server.cleanup()


def _mailbox(world, server, **fields) -> Mailbox:
    values = dict(name="Desk", address="desk@example.test", service=world.other, imap_host=server.host,
                  imap_port=server.port, imap_username=server.user, imap_password=server.password,
                  imap_ssl=False)
    values.update(fields)
    return Mailbox.objects.create(**values)


@pytest.mark.parametrize("how", ["implicit TLS", "STARTTLS"])
def test_mail_is_received_over_a_verified_tls_connection(world, tls_dovecot, settings, how):
    settings.VUORO_IMAP_CA_FILE = str(tls_dovecot.ca_file)
    if how == "implicit TLS":
        box = _mailbox(world, tls_dovecot, imap_ssl=True, imap_port=tls_dovecot.tls_port)
    else:
        box = _mailbox(world, tls_dovecot, imap_starttls=True)
    tls_dovecot.append(mail(1), mail(2))
    result = mailbox_poll(mailbox=box, now=NOW)
    assert (result.received, result.error) == (2, "")
    assert Ticket.objects.count() == 2 and tls_dovecot.unseen_count() == 0


@pytest.mark.parametrize("how", ["implicit TLS", "STARTTLS"])
def test_an_unverifiable_certificate_is_refused_and_the_mail_waits(world, tls_dovecot, settings, how):
    settings.VUORO_IMAP_CA_FILE = ""  # the system's CAs do not know the self-signed certificate
    if how == "implicit TLS":
        box = _mailbox(world, tls_dovecot, imap_ssl=True, imap_port=tls_dovecot.tls_port)
    else:
        box = _mailbox(world, tls_dovecot, imap_starttls=True)
    tls_dovecot.append(mail(1))
    result = mailbox_poll(mailbox=box, now=NOW)
    assert "CERTIFICATE_VERIFY_FAILED" in result.error and result.received == 0
    assert not InboundEmail.objects.exists() and tls_dovecot.unseen_count() == 1


def test_with_a_done_folder_mail_opened_by_a_person_is_still_received(world, tls_dovecot):
    box = _mailbox(world, tls_dovecot, imap_done_folder="Handled")
    tls_dovecot.append(mail(1), mail(2))
    client = tls_dovecot.client()
    try:
        client.uid("STORE", "1:*", "+FLAGS", r"(\Seen)")  # someone read them in Outlook first
    finally:
        client.logout()
    assert tls_dovecot.unseen_count() == 0
    result = mailbox_poll(mailbox=box, now=NOW)
    assert result.received == 2 and Ticket.objects.count() == 2
    assert tls_dovecot.flags() == {} and len(tls_dovecot.flags("Handled")) == 2
    assert mailbox_poll(mailbox=box, now=NOW).fetched == 0  # nothing left to take twice


def test_without_a_done_folder_a_read_message_counts_as_handled(world, tls_dovecot):
    box = _mailbox(world, tls_dovecot)
    tls_dovecot.append(mail(1))
    client = tls_dovecot.client()
    try:
        client.uid("STORE", "1:*", "+FLAGS", r"(\Seen)")
    finally:
        client.logout()
    # Without a done folder \Seen is the only mark, so a read message is left alone: the
    # reason to configure a done folder for a mailbox people also read.
    assert mailbox_poll(mailbox=box, now=NOW).fetched == 0
    assert not InboundEmail.objects.exists() and len(tls_dovecot.flags()) == 1
