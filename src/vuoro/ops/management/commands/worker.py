"""Background worker: django-tasks' database worker, a heartbeat for /healthz and the scheduler.

The scheduler thread runs the SLA scan, the stuck-send watchdogs, the outbox and webhook
senders every ``VUORO_SCAN_INTERVAL`` seconds (default 1), and looks for on-call gaps every ten
minutes. The reactor thread runs the deferred reactions to domain events (mail and webhooks
about ticket changes) every ``VUORO_PAGE_INTERVAL`` and back to back while events wait. The
mail thread polls due IMAP mailboxes on the same interval and again at once while mail keeps
arriving. The pager thread drives due pages and ``VUORO_PAGE_SENDERS`` sender threads
(default 4) send their notifications every ``VUORO_PAGE_INTERVAL`` seconds (default 0.1) and
at once again while they find work, so a burst of pages is not sent one provider round trip at
a time, a page leaves well within a second of the ticket that caused it and a slow provider
never holds up the escalation of other pages. Only the lead sender polls while nothing is due
(``PageSenders``). Each step is safe to run in many workers at once; a failing step is logged
and the next cycle tries again, so no error stops the worker.

Start-up is kept short so a restarted worker pages again within 3 s: no system checks (the
web server and ``migrate`` run them), the threads start before the task queue's own start-up
delay, and the pager logs how long after the process started its first cycle ended. On SQLite
the pager waits at most ``PAGER_BUSY_TIMEOUT_MS`` for the write lock (intake keeps 20 s): a
cycle that cannot get it gives up, and the next one, 0.1 s on, tries afresh. The senders keep
20 s: recording a send's outcome is the one write that must land.
"""

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
)
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from vuoro.channels.imap import email_poll
from vuoro.core.events import react_due
from vuoro.core.models import WorkerHeartbeat
from vuoro.notify.sender import (
    recover_stuck_messages,
    recover_stuck_sends,
    send_messages,
    send_outbox,
)
from vuoro.oncall.services import gap_warnings_scan
from vuoro.sla.scanner import scan_sla
from vuoro.webhooks.sender import recover_stuck_deliveries, send_webhooks

HEARTBEAT_SECONDS = 5
DEFAULT_SCAN_INTERVAL = 1.0
DEFAULT_PAGE_INTERVAL = 0.1
STOP_GRACE_SECONDS = 30
DATABASE_RETRY_SECONDS = 1.0
PAGER_BUSY_TIMEOUT_MS = 2000
DEFAULT_PAGE_SENDERS = 4
PAUSE_CHECK_SECONDS = 0.05
TIDY_SECONDS = 1.0

logger = logging.getLogger("vuoro.worker")

MAIL_STEP: Callable[[], object] = email_poll


def beat(worker_id: str, started_at) -> None:  # type: ignore[no-untyped-def]
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id[:64],
        defaults={
            "hostname": socket.gethostname()[:200],
            "pid": os.getpid(),
            "started_at": started_at,
            "last_seen_at": timezone.now(),
        },
    )


def paging_waits() -> bool:
    """A page step or a page notification is due now: the worker's bulk work (reactions to
    ticket changes, mail intake) steps aside for it. Two indexed reads."""
    from vuoro.notify.selectors import messages_due
    from vuoro.paging.engine import pages_due

    now = timezone.now()
    return pages_due(now).exists() or messages_due(now=now).exists()


def behind_paging(step: Callable[[], object]) -> Callable[[], object]:
    """``step``, skipped for this cycle while paging work is due (bulk work yields: it shares
    this process's interpreter lock, and on SQLite the one writer, with the pager)."""
    def run() -> object:
        return 0 if paging_waits() else step()

    run.__name__ = getattr(step, "__name__", "step")
    run.__wrapped__ = step  # type: ignore[attr-defined]
    return run


def scheduled_work() -> set[Callable[[], object]]:
    """The functions the scheduler runs, unwrapped from ``behind_paging``."""
    return {getattr(step, "__wrapped__", step) for step in SCHEDULED_STEPS}


def react_behind_paging() -> int:
    """Reactions to domain events, pausing between events whenever paging work is due.

    Whether paging waits is asked before the batch and then at most every
    ``PAUSE_CHECK_SECONDS`` between events (two reads each time): a due page waits at most
    that long plus the reaction in progress, and a burst of reactions does not pay two reads
    per event."""
    if paging_waits():
        return 0
    checked = time.monotonic()

    def pause() -> bool:
        nonlocal checked
        if time.monotonic() - checked < PAUSE_CHECK_SECONDS:
            return False
        checked = time.monotonic()
        return paging_waits()

    return react_due(pause=pause)


SCHEDULED_STEPS: tuple[Callable[[], object], ...] = (
    scan_sla, recover_stuck_sends, behind_paging(send_outbox), recover_stuck_messages,
    gap_warnings_scan, recover_stuck_deliveries, behind_paging(send_webhooks),
)  # paging messages are sent by the sender threads alone (VUORO_PAGE_SENDERS per worker): a
# killed worker leaves at most that many sends in flight, each followed up as unknown at once
# Mail is polled in a thread of its own: a full inbox is drained back to back, and a slow or
# unreachable mail server never holds up the SLA scan.


def scan_interval(name: str = "VUORO_SCAN_INTERVAL", default: float = DEFAULT_SCAN_INTERVAL) -> float:
    """Seconds between scheduler cycles, from ``VUORO_SCAN_INTERVAL`` (or another variable)."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


def pager_steps() -> tuple[Callable[[], object], ...]:
    from vuoro.paging.services import escalate_due

    return (escalate_due, send_messages)


def process_age() -> float:
    """Seconds since this process started (from ``/proc``; 0.0 where that is not available)."""
    try:
        with open("/proc/self/stat") as stat:
            ticks = int(stat.read().rpartition(")")[2].split()[19])
        with open("/proc/uptime") as uptime:
            return max(0.0, float(uptime.read().split()[0]) - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def pager_step(step: Callable[[], object], name: str) -> Callable[[], object]:
    """``step`` on a connection with the pager's short SQLite lock wait; logs the first cycle."""
    first = threading.Event()

    def run() -> object:
        if connection.vendor == "sqlite" and name == "vuoro-pager":
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout={PAGER_BUSY_TIMEOUT_MS}")
            connection.writer_wait_seconds = PAGER_BUSY_TIMEOUT_MS / 1000  # type: ignore[attr-defined]
        try:
            return step()
        finally:
            if not first.is_set():
                first.set()
                logger.info("%s: first cycle done %.2f s after the process started",
                               name, process_age())

    run.__name__ = getattr(step, "__name__", name)
    return run


def _while_busy(seconds: float, stop: threading.Event, step: Callable[[], object]) -> Callable[[], None]:
    """Run ``step`` again at once while it reports work done, otherwise every ``seconds``.

    A burst of pages is drained back to back instead of one batch per interval; an idle
    step costs one indexed read per interval. Connections are tidied (closed when broken or
    past their age) after a failed step and otherwise at most every ``TIDY_SECONDS``: each
    tidy makes the next query start with a health check, a round trip per step otherwise.
    """
    def loop() -> None:
        tidied = time.monotonic()
        while not stop.is_set():
            busy = failed = False
            try:
                busy = bool(step())
            except Exception:  # noqa: BLE001 - logged, the loop goes on
                failed = True
                logger.exception("Step %s failed", getattr(step, "__name__", step))
            finally:
                if failed or time.monotonic() - tidied >= TIDY_SECONDS:
                    close_old_connections()
                    tidied = time.monotonic()
            if not busy:
                stop.wait(seconds)

    return loop


class PageSenders:
    """The page-notification senders of one worker, sharing the work without all polling.

    The lead sends every interval (settling sends of dead holders first, as ``send_messages``
    does); the others send only while the lead finds work, or while the lead has been inside
    one send for longer than an interval (a slow provider), so a burst is still drained by
    every sender at once and a slow provider holds up nothing, while an idle worker asks the
    database once per interval instead of once per sender.
    """

    def __init__(self, step: Callable[[], object], interval: float) -> None:
        self.step, self.interval = step, interval
        self.busy = threading.Event()
        self.lead_since: float | None = None

    def lead(self) -> object:
        self.lead_since = time.monotonic()
        try:
            result = self.step()
        finally:
            self.lead_since = None
        if result:
            self.busy.set()
        else:
            self.busy.clear()
        return result

    def follow(self) -> object:
        since = self.lead_since
        held_up = since is not None and time.monotonic() - since >= self.interval
        return self.step() if self.busy.is_set() or held_up else 0


def run_scheduled_cycle(stop: threading.Event, steps: tuple[Callable[[], object], ...] = SCHEDULED_STEPS) -> None:
    """One pass over the scheduled steps; errors are logged, connections tidied after each."""
    for step in steps:
        if stop.is_set():
            return
        try:
            result = step()
            if result:
                logger.info("%s: %s", step.__name__, result)
        except Exception:  # noqa: BLE001 - one bad cycle must not end the worker
            logger.exception("Scheduled step %s failed", step.__name__)
        finally:
            close_old_connections()


def _every(seconds: float, stop: threading.Event, work: Callable[[], None]) -> Callable[[], None]:
    def loop() -> None:
        while not stop.is_set():
            try:
                work()
            except Exception:  # noqa: BLE001 - logged, the loop goes on
                logger.exception("Worker loop failed")
            finally:
                close_old_connections()
            stop.wait(seconds)

    return loop


class Command(DbWorkerCommand):
    help = "Run Vuoro's background worker: task queue, heartbeat, SLA scan and email outbox."
    requires_system_checks: list[str] = []  # half a second at start; web and migrate run them

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        super().add_arguments(parser)
        parser.add_argument("--no-scheduler", action="store_true",
                            help="Run only the task queue: no SLA scan and no outbox sending.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        with_scheduler = not options.pop("no_scheduler", False)
        if options.get("reload") and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            # The reloader's watching parent runs no work; its child process does.
            return super().handle(*args, **options)
        worker_id = options["worker_id"]
        started_at = timezone.now()
        stop = threading.Event()
        threads = [threading.Thread(target=_every(HEARTBEAT_SECONDS, stop, lambda: beat(worker_id, started_at)),
                                    name="vuoro-heartbeat", daemon=True)]
        if with_scheduler:
            threads.append(threading.Thread(
                target=_every(scan_interval(), stop, lambda: run_scheduled_cycle(stop)),
                name="vuoro-scheduler", daemon=True))
            page_interval = scan_interval("VUORO_PAGE_INTERVAL", DEFAULT_PAGE_INTERVAL)
            escalate, send = pager_steps()
            senders = int(scan_interval("VUORO_PAGE_SENDERS", DEFAULT_PAGE_SENDERS))
            group = PageSenders(send, page_interval)
            named = [("vuoro-pager", escalate), ("vuoro-sender-0", group.lead)] + [
                (f"vuoro-sender-{n}", group.follow) for n in range(1, senders)]
            for name, step in named:
                threads.append(threading.Thread(
                    target=_while_busy(page_interval, stop, pager_step(step, name)),
                    name=name, daemon=True))
            threads.append(threading.Thread(
                target=_while_busy(scan_interval(), stop, behind_paging(MAIL_STEP)),
                name="vuoro-mail", daemon=True))
            # Reactions to domain events (mail, webhooks) leave within a page interval too.
            threads.append(threading.Thread(target=_while_busy(page_interval, stop, react_behind_paging),
                                            name="vuoro-reactor", daemon=True))
        for thread in threads:
            thread.start()
        try:
            return self.run_task_queue(*args, **options)
        finally:
            stop.set()
            # Let a cycle in flight finish its current email rather than strand it in "sending".
            for thread in threads:
                thread.join(STOP_GRACE_SECONDS)

    def run_task_queue(self, *args, **options):  # type: ignore[no-untyped-def]
        """django-tasks' queue loop, started again when the database goes away under it.

        The loop lets a lost connection (a database restart, a failover) end the process; the
        scheduler threads already ride such errors out, so the task queue waits a moment and
        reconnects too. A stop signal still ends the worker at once (it raises SystemExit).
        """
        while True:
            try:
                return super().handle(*args, **options)
            except (OperationalError, InterfaceError):
                logger.exception("Task queue lost the database; reconnecting in %s s",
                                 DATABASE_RETRY_SECONDS)
                connections.close_all()
                time.sleep(DATABASE_RETRY_SECONDS)
