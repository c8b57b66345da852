"""Fault test: requests arrive by email while the mail server is down.

Each acknowledgement waits in the outbox with its failed attempt recorded; once a real SMTP
server listens on the configured port, the sender delivers each exactly once.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.smtp_recorder import SmtpServer, free_port
from vuoro.channels.models import Mailbox, Outcome
from vuoro.channels.services import email_receive
from vuoro.notify.models import OutboundEmail, OutboxStatus
from vuoro.notify.sender import retry_delay, send_outbox

REQUESTS = 10


@pytest.fixture(autouse=True)
def requester_mail_on(settings):
    settings.VUORO_REQUESTER_MAIL = True


def request_mail(n: int, sender: str) -> bytes:
    return (f"From: {sender}\r\nTo: desk@vuoro.test\r\nSubject: Printer {n} jams\r\n"
            f"Message-ID: <smtp-down-{n}@customer.example>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nPrinter {n} shows error {n}.").encode()


def acknowledgements() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(key__startswith="requester-", key__endswith="-received"))


def test_acknowledgements_wait_for_the_server_and_are_sent_once(world, settings):
    port = free_port()  # nothing listens here yet
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    box = Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=world.other)
    requester = world.requester_a

    rows = [email_receive(raw=request_mail(n, requester.email), mailbox=box) for n in range(REQUESTS)]
    assert [row.outcome for row in rows] == [Outcome.TICKET_CREATED] * REQUESTS

    down = send_outbox(batch=500)
    assert down.sent == 0 and down.failed == 0 and down.unknown == 0
    waiting = acknowledgements()
    assert len(waiting) == REQUESTS
    for email in waiting:
        assert (email.status, email.attempts) == (OutboxStatus.PENDING, 1)
        assert "ConnectionRefused" in email.last_error and email.next_attempt_at > timezone.now()

    server = SmtpServer(port=port).start()
    try:
        later = timezone.now() + retry_delay(1) + timedelta(seconds=1)
        up = send_outbox(now=later, batch=500)
        again = send_outbox(now=later + timedelta(hours=2), batch=500)
        received = server.recorder.counts()
    finally:
        server.stop()

    assert up.failed == 0 and up.unknown == 0 and up.retried == 0 and again.sent == 0
    told = Counter({subject: n for (to, subject), n in received.items() if to == requester.email})
    references = {row.ticket.reference for row in rows}
    assert len(told) == REQUESTS and set(told.values()) == {1}  # 10 received, none twice
    assert {subject[1:subject.index("]")] for subject in told} == references
    assert all(n == 1 for n in received.values())
    sent = acknowledgements()
    assert [email.status for email in sent] == [OutboxStatus.SENT] * REQUESTS
    assert sorted(email.attempts for email in sent) == [2] * REQUESTS
    assert not OutboundEmail.objects.exclude(status=OutboxStatus.SENT).exists()
    print(f"{REQUESTS} acknowledgements queued while the server was down; "
          f"{sum(told.values())} received, 0 duplicates, {up.failed} failed")
