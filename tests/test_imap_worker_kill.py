"""A real ``vuoro worker`` polling dovecot is SIGKILLed mid-ingest: nothing lost, nothing twice."""

import random
import time

import pytest

from tests.dovecot import dovecot  # noqa: F401  (fixture)
from tests.test_imap_flow import mail
from tests.worker_harness import kill, start_worker, stop, wait_for
from vuoro.channels.models import InboundEmail, Mailbox, Outcome
from vuoro.tickets.models import Ticket

MESSAGES = 60
FAST = {"VUORO_SCAN_INTERVAL": "0.2", "VUORO_EMAIL_POLL_INTERVAL": "0"}


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_ingest_then_restarted_receives_every_message_once(world, dovecot, tmp_path):  # noqa: F811
    Mailbox.objects.create(
        name="Desk", address="desk@example.test", service=world.other, imap_host=dovecot.host,
        imap_port=dovecot.port, imap_username=dovecot.user, imap_password=dovecot.password, imap_ssl=False,
    )
    dovecot.append(*(mail(n) for n in range(1, MESSAGES + 1)))
    rng = random.Random()
    workers = [start_worker("imap-kill-1", tmp_path, **FAST)]
    try:
        wait_for(lambda: InboundEmail.objects.count() >= 3, workers, tmp_path, timeout=60)
        time.sleep(rng.uniform(0, 0.1))
        kill(workers[0])
        at_kill = (InboundEmail.objects.count(), MESSAGES - dovecot.unseen_count())

        workers.append(start_worker("imap-kill-2", tmp_path, **FAST))
        wait_for(lambda: InboundEmail.objects.count() == MESSAGES and dovecot.unseen_count() == 0,
                 workers[-1:], tmp_path, timeout=90)
    finally:
        for worker in workers:
            stop(worker)

    assert Ticket.objects.count() == MESSAGES
    assert set(InboundEmail.objects.values_list("outcome", flat=True)) == {Outcome.TICKET_CREATED}
    assert sorted(InboundEmail.objects.values_list("message_id", flat=True)) == sorted(
        f"<imap-flow-{n}@customer.example>" for n in range(1, MESSAGES + 1))
    print(f"SIGKILL mid-ingest: {MESSAGES} messages; at the kill {at_kill[0]} received and "
          f"{at_kill[1]} flagged; after restart {InboundEmail.objects.count()} received, "
          f"{Ticket.objects.count()} tickets, 0 twice, 0 unseen")
