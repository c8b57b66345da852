"""Fault tests of paging with real worker processes and a webhook provider on loopback.

Every step of every page reaches its person exactly once (or is recorded ``unknown`` and never
resent) when a worker is killed with SIGKILL mid-escalation, when two workers race, when
PostgreSQL restarts under them, and when the provider fails or answers too late. Each paged
person has one webhook contact method pointing at the fake provider, which counts the requests
it receives per ``Idempotency-Key`` (the message key: page, cycle, step, person, method).
"""

import random
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests import factories as f
from tests.fake_provider import FakeProvider
from tests.worker_harness import kill, start_worker, stop, wait_for
from vuoro.accounts.models import Role, User
from vuoro.core.models import WorkerHeartbeat
from vuoro.notify.models import (
    AttemptOutcome,
    ContactKind,
    ContactMethod,
    DeliveryAttempt,
    MessageStatus,
    OutboundMessage,
)
from vuoro.notify.sender import recover_stuck_messages
from vuoro.notify.services import contact_method_add
from vuoro.ops.management.commands.worker import DEFAULT_PAGE_SENDERS
from vuoro.paging.models import (
    EscalationPolicy,
    EscalationStep,
    Page,
    PageEvent,
    PageEventKind,
    TargetKind,
    UnknownOutcome,
)
from vuoro.paging.services import page_open

STEPS = 2
FAST = {"VUORO_PAGE_INTERVAL": "0.1", "VUORO_SCAN_INTERVAL": "0.2"}


@dataclass
class Paging:
    """Pages opened on critical tickets, escalating through a two-step policy."""

    pages: list[Page]
    people: list[User]  # step 0 pages people[0], step 1 pages people[1]
    methods: list[ContactMethod]

    def expected_keys(self) -> set[str]:
        """The message key of every step of every page (engine key + contact method suffix)."""
        return {f"page-{page.pk}-c0-s{step}-u{person.pk}:method-{method.pk}"
                for page in self.pages
                for step, (person, method) in enumerate(zip(self.people, self.methods, strict=True))}

    def all_steps_fired(self) -> bool:
        return Page.objects.filter(pk__in=[p.pk for p in self.pages], cycle=0,
                                   step_index=STEPS).count() == len(self.pages)


def open_pages(world, provider: FakeProvider, count: int, *, first_wait: int = 0) -> Paging:
    """``count`` pages on work-stopping tickets of the critical service, due at once.

    Step 0 pages one person and waits ``first_wait`` minutes; step 1 pages another and waits
    30 minutes, so the steps run out only long after a test ends.
    """
    people = [f.user(Role.AGENT, language="en") for _ in range(STEPS)]
    methods = [contact_method_add(user=person, kind=ContactKind.WEBHOOK, label="pager",
                                  address=provider.url(f"/hook/u{person.pk}")) for person in people]
    policy = EscalationPolicy.objects.create(name="Mail on call")
    for order, (person, wait) in enumerate(zip(people, (first_wait, 30), strict=True)):
        EscalationStep.objects.create(policy=policy, order=order, wait_minutes=wait,
                                      target_kind=TargetKind.USER, target_user=person)
    pages = []
    for n in range(count):
        ticket = f.ticket(world.requester_a, world.critical, world.cat_critical,
                          subject=f"Mail is down {n}", stops_work="yes", affected="many")
        pages.append(page_open(ticket=ticket, policy=policy, reason="Mail is down"))
    return Paging(pages, people, methods)


def received_per_key(provider: FakeProvider) -> Counter:
    return Counter(r.header("Idempotency-Key") for r in provider.received("/hook"))


def settled(paging: Paging) -> bool:
    """Every step fired and no message waiting; a stale ``sending`` row is the watchdog's."""
    return paging.all_steps_fired() and not OutboundMessage.objects.filter(
        status=MessageStatus.PENDING).exists()


def assert_every_step_exactly_once(paging: Paging, received: Counter) -> dict[str, int]:
    """No step lost (each has its one message, sent or unknown), none sent twice; the counts."""
    messages = {m.key: m for m in OutboundMessage.objects.all()}
    assert set(messages) == paging.expected_keys()
    assert set(received) <= set(messages), set(received) - set(messages)
    assert not received or max(received.values()) == 1, received.most_common(3)
    for key, message in messages.items():
        assert message.status in (MessageStatus.SENT, MessageStatus.UNKNOWN), (key, message.status)
        if message.status == MessageStatus.SENT:
            assert received[key] == 1, key
            assert message.delivery_attempts.filter(outcome=AttemptOutcome.SENT).count() == 1, key
    notified = Counter(PageEvent.objects.filter(kind=PageEventKind.NOTIFIED)
                       .values_list("page_id", flat=True))
    assert notified == Counter({page.pk: STEPS for page in paging.pages})
    return dict(Counter(m.status for m in messages.values()))


def progress() -> tuple[int, int]:
    """(steps fired, messages sent) so far."""
    return (PageEvent.objects.filter(kind=PageEventKind.NOTIFIED).count(),
            OutboundMessage.objects.filter(status=MessageStatus.SENT).count())


@contextmanager
def provider_and_workers() -> Iterator[tuple[FakeProvider, list[subprocess.Popen]]]:
    """A running fake provider and a list for the workers; all stopped at the end."""
    provider = FakeProvider().start()
    workers: list[subprocess.Popen] = []
    try:
        yield provider, workers
    finally:
        for worker in workers:
            stop(worker)
        provider.stop()


def wind_down(workers: list[subprocess.Popen], provider: FakeProvider) -> tuple[int, Counter]:
    """Stop the workers (SIGTERM: a send in flight finishes), let the watchdog mark sends left
    in ``sending`` by a dead process ``unknown`` (as it does two minutes on), and read what the
    provider received. Returns (messages marked unknown, requests received per key)."""
    for worker in workers:
        stop(worker)
    unknown = recover_stuck_messages(now=timezone.now() + timedelta(minutes=3))
    return unknown, received_per_key(provider)


def make_due_now(paging: Paging) -> int:
    """The wait of the current step is over: what a clock moving on would do to the cursor."""
    return Page.objects.filter(pk__in=[p.pk for p in paging.pages],
                               next_escalation_at__isnull=False).update(
        next_escalation_at=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_workers_killed_mid_escalation_lose_no_page_and_send_none_twice(world, tmp_path):
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    at_kills = []
    with provider_and_workers() as (provider, workers):
        paging = open_pages(world, provider, 40)
        workers.append(start_worker("pager-kill-1", tmp_path, **FAST))
        # First kill: soon after the engine fires its first step, usually mid-escalation.
        wait_for(lambda: progress()[0] > 0, workers, tmp_path)
        time.sleep(rng.uniform(0, 0.3))
        kill(workers[-1])
        at_kills.append(progress())
        # Second kill: at a random point of the sending.
        workers.append(start_worker("pager-kill-2", tmp_path, **FAST))
        threshold = rng.randint(1, len(paging.pages))
        wait_for(lambda: progress()[1] >= threshold, workers[-1:], tmp_path)
        time.sleep(rng.uniform(0, 0.2))
        kill(workers[-1])
        at_kills.append(progress())

        workers.append(start_worker("pager-kill-3", tmp_path, **FAST))
        wait_for(lambda: settled(paging), workers[-1:], tmp_path)
        unknown, received = wind_down(workers, provider)

    statuses = assert_every_step_exactly_once(paging, received)
    # At most one per sender thread per kill, each settled by the next worker's watchdog at
    # once (its holder's process is gone) or by the wind-down, and each followed up.
    followed_up = UnknownOutcome.objects.count()
    assert statuses.get(MessageStatus.UNKNOWN, 0) == followed_up <= 2 * DEFAULT_PAGE_SENDERS
    print(f"SIGKILL twice (seed {seed}), {len(paging.pages)} pages x {STEPS} steps: "
          f"(steps fired, sent) at the kills {at_kills}; messages {statuses}, "
          f"received {sum(received.values())}, unknown {followed_up} (followed up; left to the "
          f"wind-down {unknown}), received twice 0")


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_deliver_each_step_exactly_once(world, tmp_path):
    with provider_and_workers() as (provider, workers):
        paging = open_pages(world, provider, 60)
        Page.objects.update(next_escalation_at=timezone.now() + timedelta(days=1))
        workers += [start_worker("pager-race-a", tmp_path, **FAST),
                    start_worker("pager-race-b", tmp_path, **FAST)]
        wait_for(lambda: WorkerHeartbeat.objects.count() == 2, workers, tmp_path)
        make_due_now(paging)  # all due at once, both workers up
        wait_for(lambda: settled(paging), workers, tmp_path)
        wait_for(lambda: not OutboundMessage.objects.filter(status=MessageStatus.SENDING).exists(),
                 workers, tmp_path)
        unknown, received = wind_down(workers, provider)

    statuses = assert_every_step_exactly_once(paging, received)
    assert unknown == 0 and statuses == {MessageStatus.SENT: len(paging.pages) * STEPS}
    assert sum(received.values()) == len(paging.pages) * STEPS
    attempts = Counter(DeliveryAttempt.objects.values_list("outcome", flat=True))
    assert attempts == {AttemptOutcome.SENT: len(paging.pages) * STEPS}
    print(f"Two workers, {len(paging.pages)} pages x {STEPS} steps on {connection.vendor}: "
          f"messages {statuses}, received {sum(received.values())}, attempts {dict(attempts)}, "
          f"received twice 0")


def restart_postgresql() -> str:
    """Restart the PostgreSQL cluster serving the test database; returns the command used.

    ``pg_ctlcluster`` (Debian's cluster wrapper) restarts just the cluster on the test
    database's port; ``service postgresql restart`` restarts every local cluster. Either needs
    root on the database host and drops every connection to that server, so where others share
    it, point this test at a cluster of its own (``pg_createcluster 15 faults --port 5433``).
    """
    port = str(connection.settings_dict.get("PORT") or 5432)
    clusters = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                              check=False).stdout.split("\n") if shutil.which("pg_lsclusters") else []
    cluster = next((line.split()[:2] for line in clusters if line.split()[2:3] == [port]), None)
    command = (["pg_ctlcluster", *cluster, "restart"] if cluster
               else ["service", "postgresql", "restart"])
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    connection.close()  # the old connection died with the server
    host = connection.settings_dict.get("HOST") or "127.0.0.1"
    deadline = time.monotonic() + 30
    while subprocess.run(["pg_isready", "-q", "-h", host, "-p", port], check=False).returncode != 0:
        if time.monotonic() > deadline:
            pytest.fail("PostgreSQL did not accept connections within 30 s of its restart")
        time.sleep(0.1)
    return " ".join(command)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_postgresql_restarted_while_paging_loses_nothing_and_sends_nothing_twice(world, tmp_path):
    seed = random.randrange(1_000_000)
    with provider_and_workers() as (provider, workers):
        paging = open_pages(world, provider, 40)
        Page.objects.update(next_escalation_at=timezone.now() + timedelta(days=1))
        workers += [start_worker("pager-pg-a", tmp_path, **FAST),
                    start_worker("pager-pg-b", tmp_path, **FAST)]
        wait_for(lambda: WorkerHeartbeat.objects.count() == 2, workers, tmp_path)
        make_due_now(paging)
        wait_for(lambda: progress()[0] > 0, workers, tmp_path)
        time.sleep(random.Random(seed).uniform(0, 0.3))
        before, restarted_at = progress(), time.monotonic()
        command = restart_postgresql()
        down = time.monotonic() - restarted_at
        after = progress()
        wait_for(lambda: settled(paging), workers, tmp_path)
        time.sleep(0.5)  # a few more cycles: nothing more may arrive
        unknown, received = wind_down(workers, provider)

    statuses = assert_every_step_exactly_once(paging, received)
    # Sends whose outcome could not be recorded while the server was down are settled unknown
    # by the workers' own watchdog, each followed up, or by the wind-down.
    assert statuses.get(MessageStatus.UNKNOWN, 0) == UnknownOutcome.objects.count()
    print(f"PostgreSQL restarted ({command}, {down:.1f} s, seed {seed}) with 2 workers, "
          f"{len(paging.pages)} pages x {STEPS} steps: (steps fired, sent) before the restart "
          f"{before}, once it accepted connections {after}; messages {statuses}, received {sum(received.values())}, "
          f"unknown {unknown}, received twice 0")


@pytest.mark.django_db(transaction=True)
def test_provider_failing_then_back_gets_each_message_once_with_every_attempt_recorded(world, tmp_path):
    with provider_and_workers() as (provider, workers):
        provider.set_mode("status", status=500)
        paging = open_pages(world, provider, 3)
        total = len(paging.pages) * STEPS
        workers.append(start_worker("pager-500", tmp_path, **FAST))
        for failures in (1, 2):
            wait_for(lambda n=failures: OutboundMessage.objects.filter(
                status=MessageStatus.PENDING, attempts=n).count() == total, workers, tmp_path)
            assert all(m.next_attempt_at > timezone.now() for m in OutboundMessage.objects.all())
            if failures == 2:
                provider.set_mode("ok")  # the provider is back
            # The back-off is over: what the clock moving on would do.
            OutboundMessage.objects.update(next_attempt_at=timezone.now())
        wait_for(lambda: progress()[1] == total, workers, tmp_path)
        time.sleep(0.5)  # a few more cycles: nothing more may arrive
        unknown, received = wind_down(workers, provider)

    assert unknown == 0
    assert set(received) == paging.expected_keys() and set(received.values()) == {3}
    assert set(OutboundMessage.objects.values_list("status", "attempts")) == {(MessageStatus.SENT, 3)}
    for message in OutboundMessage.objects.all():
        tries = list(message.delivery_attempts.values_list("outcome", "http_status"))
        assert tries == [(AttemptOutcome.TRANSIENT, 500), (AttemptOutcome.TRANSIENT, 500),
                         (AttemptOutcome.SENT, 200)], message.key
    print(f"Provider 500 twice, then 200: {total} messages sent once each, requests received "
          f"{sum(received.values())} (3 per message), attempts recorded "
          f"{DeliveryAttempt.objects.count()}")


@pytest.mark.django_db(transaction=True)
def test_provider_timing_out_leaves_the_message_unknown_and_the_page_moves_on(world, tmp_path):
    with provider_and_workers() as (provider, workers):
        paging = open_pages(world, provider, 1, first_wait=5)
        first, second = paging.people
        # Past the transports' default 10 s timeout (VUORO_NOTIFY_TIMEOUT is not read from the
        # environment by the settings, so the worker cannot be told a shorter one).
        provider.set_mode("delay", delay=12.0, path=f"/hook/u{first.pk}")
        workers.append(start_worker("pager-timeout", tmp_path, **FAST))
        wait_for(lambda: OutboundMessage.objects.filter(user=first, status=MessageStatus.UNKNOWN).exists(),
                 workers, tmp_path)
        make_due_now(paging)  # nobody acknowledged within the step's wait
        wait_for(lambda: OutboundMessage.objects.filter(user=second, status=MessageStatus.SENT).exists(),
                 workers, tmp_path)
        time.sleep(1.0)  # several more cycles: the unknown message must not go again
        unknown, received = wind_down(workers, provider)

    statuses = assert_every_step_exactly_once(paging, received)
    assert unknown == 0 and statuses == {MessageStatus.UNKNOWN: 1, MessageStatus.SENT: 1}
    late = OutboundMessage.objects.get(user=first)
    assert late.attempts == 1
    assert list(late.delivery_attempts.values_list("outcome", flat=True)) == [AttemptOutcome.UNKNOWN]
    assert received[late.key] == 1
    print(f"Provider answering after the 10 s timeout: step 1 message {late.status} "
          f"(attempts {late.attempts}, received {received[late.key]}), step 2 delivered "
          f"{received[OutboundMessage.objects.get(user=second).key]}; page at step "
          f"{Page.objects.get().step_index} of {STEPS}")
