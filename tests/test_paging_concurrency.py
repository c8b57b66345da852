"""Engines in parallel: each due page's step fires once, whoever runs, on PostgreSQL and SQLite."""

import threading
from collections import Counter

import pytest
from django.db import connection, transaction

from tests import factories as f
from tests.test_paging_services import MINUTE, T0, notified_users, policy_with
from vuoro.paging import services
from vuoro.paging.models import Page, PageEvent, TargetKind


def open_pages(world, count: int) -> list[Page]:
    policy = policy_with((TargetKind.USER, world.agent, 5), (TargetKind.USER, world.agent2, 5))
    pages = []
    for i in range(count):
        ticket = f.ticket(world.requester_a, world.critical, world.cat_critical, subject=f"Down {i}")
        pages.append(services.page_open(ticket=ticket, policy=policy, now=T0))
    return pages


def in_threads(*works) -> list:
    """Run each callable in its own thread, started together, each on its own connection."""
    start = threading.Barrier(len(works))
    results: list = [None] * len(works)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = works[i]()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_engines_at_once_fire_each_step_once(world):
    pages = open_pages(world, 20)
    fired = in_threads(*[lambda: services.escalate_due(now=T0)] * 2)
    assert sum(fired) == 20
    for page in pages:
        assert notified_users(page) == [world.agent.pk]
        page.refresh_from_db()
        assert (page.cycle, page.step_index, page.next_escalation_at) == (0, 1, T0 + 5 * MINUTE)
    kinds = Counter(PageEvent.objects.values_list("kind", flat=True))
    assert kinds == {"opened": 20, "notified": 20}


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_engine_skips_the_page_another_holds(world):
    """Thread one holds page A's row lock; thread two's engine fires B and C, not A, without waiting."""
    held = open_pages(world, 1)[0]
    pages = [held, *(services.page_open(
        ticket=f.ticket(world.requester_a, world.critical, world.cat_critical, subject=f"Other {i}"),
        user=world.agent2, now=T0) for i in range(2))]
    locked, release = threading.Event(), threading.Event()

    def holder() -> int:
        with transaction.atomic():
            Page.objects.select_for_update().get(pk=held.pk)
            locked.set()
            release.wait(30)
        return 0

    def engine() -> int:
        locked.wait(30)
        try:
            return services.escalate_due(now=T0)
        finally:
            release.set()

    assert in_threads(holder, engine) == [0, 2]
    assert notified_users(held) == []
    assert [notified_users(p) for p in pages[1:]] == [[world.agent2.pk], [world.agent2.pk]]
    assert services.escalate_due(now=T0) == 1  # the held page fires once the lock is gone
