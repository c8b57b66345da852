"""Simultaneous starts and double submits on PostgreSQL: one run, one answer per step."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests import factories as f
from tests.test_runbook_services import runbook_with_version
from vuoro.runbooks.models import RunbookRun, RunbookStepResult
from vuoro.runbooks.services import run_answer, run_start
from vuoro.tickets.models import EventKind, TicketEvent

THREADS = 8


def _at_once(work) -> list[str]:
    """Run ``work`` in THREADS threads released together; returns "ok" or the refusal per thread."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []

    def one() -> None:
        barrier.wait()
        try:
            work()
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_starts_make_one_run(world):
    runbook_with_version(world.critical)
    ticket = f.ticket(world.requester_a, world.critical, world.cat_critical)
    outcomes = _at_once(lambda: run_start(ticket=ticket, user=world.agent))
    assert sorted(outcomes) == ["ok"] + ["refused"] * (THREADS - 1)
    assert RunbookRun.objects.filter(ticket=ticket).count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_step_submitted_many_times_at_once_is_recorded_once(world):
    runbook_with_version(world.critical)
    ticket = f.ticket(world.requester_a, world.critical, world.cat_critical)
    run = run_start(ticket=ticket, user=world.agent)
    outcomes = _at_once(lambda: run_answer(run=run, user=world.agent, step_key="ask", answer="done"))
    assert sorted(outcomes) == ["ok"] + ["refused"] * (THREADS - 1)
    run.refresh_from_db()
    assert run.current_step == "webmail"
    assert RunbookStepResult.objects.filter(run=run).count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.RUNBOOK, field="runbook_step").count() == 1
