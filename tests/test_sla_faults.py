"""Fault tests with real worker processes and a real SMTP server on loopback.

Each SLA warning and breach is recorded, noticed and emailed exactly once, even when a worker is
killed with SIGKILL mid-way, when two workers race, and when the mail server is down for a while.
"""

import random
import re
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests import factories as f
from tests.smtp_recorder import SmtpServer, free_port, one_line
from tests.worker_harness import kill, start_worker, stop, wait_for
from vuoro.core.models import WorkerHeartbeat
from vuoro.notify.models import DeskNotification, OutboundEmail, OutboxStatus
from vuoro.notify.sender import recover_stuck_sends
from vuoro.ops.management.commands import worker as worker_command
from vuoro.sla.models import ClockKind, ClockState, SlaAlert, SlaClock
from vuoro.tickets.models import Ticket


@pytest.fixture(autouse=True)
def no_requester_mail(settings):
    """These tests count the SLA's own mail; requester mail is tested in test_requester_mail."""
    settings.VUORO_REQUESTER_MAIL = False


def sla_mail():
    """The SLA's own mail; the tickets' other mail (to the desk team) is not what these tests count."""
    return OutboundEmail.objects.filter(key__startswith="sla-")


def sla_received(received: Counter) -> Counter:
    """What the server received of the SLA's own mail."""
    ours = {(to, one_line(subject)) for to, subject in sla_mail().values_list("to", "subject")}
    return Counter({sent: n for sent, n in received.items() if sent in ours})


def due_clocks_for(world, count: int, *, warned: bool = False) -> list[SlaClock]:
    """Running resolution clocks already past warning and due, on tickets of agent2 (lead: agent)."""
    tickets = [f.ticket(world.requester_a, world.critical, world.cat_critical, subject=f"Fault {n}")
               for n in range(count)]
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(assignee=world.agent2)
    now = timezone.now()
    return SlaClock.objects.bulk_create(
        SlaClock(ticket=t, kind=ClockKind.RESOLUTION, target_seconds=3600, state=ClockState.RUNNING,
                 running_since=now - timedelta(hours=2), due_at=now - timedelta(minutes=1),
                 warn_at=now - timedelta(minutes=13), warned_at=now - timedelta(minutes=12) if warned else None)
        for t in tickets
    )


def breaches_logged(log_dir: Path, worker_id: str) -> int:
    """Breaches a worker reported firing, read from its log."""
    text = (log_dir / f"{worker_id}.log").read_text(errors="replace")
    return sum(int(n) for n in re.findall(r"scan_sla: ScanResult\(warnings=\d+, breaches=(\d+)\)", text))


def settled() -> bool:
    """Every clock breached and no email waiting; a stale ``sending`` row is the watchdog's."""
    return (not SlaClock.objects.filter(breached_at__isnull=True).exists()
            and not sla_mail().filter(status=OutboxStatus.PENDING).exists())


def assert_each_email_once(received: Counter) -> dict[str, int]:
    """Sent rows arrived exactly once, unknown ones at most once, nothing twice; returns counts."""
    assert not received or max(received.values()) == 1, received.most_common(3)
    received = sla_received(received)
    statuses = Counter(sla_mail().values_list("status", flat=True))
    assert set(statuses) <= {OutboxStatus.SENT, OutboxStatus.UNKNOWN}, statuses
    for email in sla_mail():
        arrived = received[(email.to, one_line(email.subject))]
        assert arrived == 1 if email.status == OutboxStatus.SENT else arrived <= 1, email.key
    assert sum(received.values()) <= sla_mail().count()
    return dict(statuses)


def assert_alerts_and_notices_once(clock_count: int, kinds: tuple[str, ...]) -> None:
    per_clock = Counter(SlaAlert.objects.values_list("clock_id", "kind"))
    assert len(per_clock) == clock_count * len(kinds) and set(per_clock.values()) == {1}
    assert set(SlaAlert.objects.values_list("kind", flat=True)) == set(kinds)
    notices = Counter(DeskNotification.objects.values_list("user_id", "key"))
    assert len(notices) == clock_count * len(kinds) * 2 and set(notices.values()) == {1}


@pytest.mark.parametrize("kill_when", ["first alert", "first email sent"])
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_way_leaves_every_alert_and_email_exactly_once(world, tmp_path, kill_when):
    clocks = due_clocks_for(world, 30)
    server = SmtpServer().start()
    seed = random.randrange(1_000_000)
    workers = [start_worker("fault-a", tmp_path, smtp_port=server.port)]
    try:
        started = {"first alert": SlaAlert.objects.exists,
                   "first email sent": sla_mail().filter(status=OutboxStatus.SENT).exists}
        wait_for(started[kill_when], workers, tmp_path)
        time.sleep(random.Random(seed).uniform(0, 0.1))
        kill(workers[0])
        at_kill = (SlaAlert.objects.count(), sla_mail().filter(status=OutboxStatus.SENT).count())

        workers.append(start_worker("fault-b", tmp_path, smtp_port=server.port))
        wait_for(settled, workers[1:], tmp_path)
        stop(workers[1])
        unknown = recover_stuck_sends(now=timezone.now() + timedelta(minutes=3))
        received = server.recorder.counts()
    finally:
        for worker in workers:
            stop(worker)
        server.stop()

    assert_alerts_and_notices_once(len(clocks), ("warning", "breach"))
    statuses = assert_each_email_once(received)
    assert sla_mail().count() == len(clocks) * 2 * 2
    assert unknown <= 1 and statuses.get(OutboxStatus.UNKNOWN, 0) == unknown
    print(f"SIGKILL at {kill_when} (seed {seed}): alerts/sent at kill {at_kill}; "
          f"alerts {SlaAlert.objects.count()}, notices {DeskNotification.objects.count()}, "
          f"emails {statuses}, received {sum(sla_received(received).values())}, unknown {unknown}")


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_record_and_email_each_breach_once(world, tmp_path):
    clocks = due_clocks_for(world, 100, warned=True)
    due_at = {c.pk: c.due_at for c in clocks}
    SlaClock.objects.update(due_at=timezone.now() + timedelta(days=1))
    server = SmtpServer().start()
    workers = [start_worker("race-a", tmp_path, smtp_port=server.port),
               start_worker("race-b", tmp_path, smtp_port=server.port)]
    try:
        wait_for(lambda: WorkerHeartbeat.objects.count() == 2, workers, tmp_path)
        SlaClock.objects.update(due_at=min(due_at.values()))  # all due at once, both workers up
        wait_for(settled, workers, tmp_path)
        wait_for(lambda: not sla_mail().filter(status=OutboxStatus.SENDING).exists(),
                 workers, tmp_path)
        received = server.recorder.counts()
    finally:
        for worker in workers:
            stop(worker)
        server.stop()

    assert_alerts_and_notices_once(len(clocks), ("breach",))
    statuses = assert_each_email_once(received)
    assert statuses == {OutboxStatus.SENT: 200} and sum(sla_received(received).values()) == 200
    shares = {w: breaches_logged(tmp_path, w) for w in ("race-a", "race-b")}
    assert sum(shares.values()) == len(clocks)
    print(f"Two workers, {len(clocks)} breaches: alerts {SlaAlert.objects.count()}, "
          f"notices {DeskNotification.objects.count()}, emails {statuses}, "
          f"received {sum(sla_received(received).values())}, fired per worker {shares}")


@pytest.mark.django_db(transaction=True)
def test_emails_wait_while_the_mail_server_is_down_and_go_once_it_is_up(world, tmp_path):
    due_clocks_for(world, 1, warned=True)
    port = free_port()
    workers = [start_worker("smtp-down", tmp_path, smtp_port=port)]
    server = SmtpServer(port=port)
    try:
        wait_for(lambda: sla_mail().filter(attempts__gte=1).count() == 2, workers, tmp_path)
        waiting = list(sla_mail())
        assert {(e.status, e.attempts) for e in waiting} == {(OutboxStatus.PENDING, 1)}
        assert all(e.next_attempt_at > timezone.now() for e in waiting)

        server.start()
        sla_mail().filter(status=OutboxStatus.PENDING).update(next_attempt_at=timezone.now())
        wait_for(lambda: sla_mail().filter(status=OutboxStatus.SENT).count() == 2, workers, tmp_path)
        time.sleep(0.5)  # a further scheduler cycle or two: nothing more may arrive
        received = server.recorder.counts()
    finally:
        stop(workers[0])
        server.stop()

    assert sorted(sla_received(received).values()) == [1, 1]
    assert set(sla_mail().values_list("attempts", flat=True)) == {2}
    print(f"SMTP down then up: received {sum(sla_received(received).values())}, attempts 2 each")


@pytest.mark.django_db(transaction=True)
def test_a_pure_task_worker_runs_no_scan(world, tmp_path):
    due_clocks_for(world, 1)
    workers = [start_worker("tasks-only", tmp_path, "--no-scheduler", smtp_port=free_port())]
    try:
        wait_for(WorkerHeartbeat.objects.filter(worker_id="tasks-only").exists, workers, tmp_path)
        time.sleep(1.0)  # five scan intervals: a scheduler would have fired by now
        assert workers[0].poll() is None
    finally:
        stop(workers[0])

    assert not SlaAlert.objects.exists()
    assert SlaClock.objects.get().breached_at is None


@pytest.mark.django_db(transaction=True)
def test_a_failing_step_is_logged_and_the_cycle_goes_on(world, caplog):
    # A stand-in step that raises: no real step can be made to fail on demand here.
    def broken_step():
        raise RuntimeError("mail relay misconfigured")

    due_clocks_for(world, 1)

    worker_command.run_scheduled_cycle(threading.Event(), (broken_step, worker_command.scan_sla))

    assert "Scheduled step broken_step failed" in caplog.text
    assert SlaClock.objects.get().breached_at is not None


@pytest.mark.parametrize(("value", "seconds"), [(None, 1.0), ("0.2", 0.2), ("soon", 1.0), ("-1", 1.0)])
def test_the_scan_interval_comes_from_the_environment(monkeypatch, value, seconds):
    if value is None:
        monkeypatch.delenv("VUORO_SCAN_INTERVAL", raising=False)
    else:
        monkeypatch.setenv("VUORO_SCAN_INTERVAL", value)

    assert worker_command.scan_interval() == seconds
