"""Runbook versions and runs: starting, answering, the fence against stale answers, endings."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from tests import factories as f
from vuoro.runbooks.models import (
    ImmutableError,
    Runbook,
    RunbookRun,
    RunbookStepResult,
    RunbookVersion,
)
from vuoro.runbooks.selectors import runbook_for_ticket
from vuoro.runbooks.services import run_abandon, run_answer, run_start, runbook_version_create
from vuoro.tickets.models import EventKind, Status


def _t(fi: str) -> dict[str, str]:
    return {"fi": fi, "en": f"{fi} (en)", "sv": f"{fi} (sv)"}


EMAIL_STEPS = [
    {"key": "ask", "kind": "instruction", "text": _t("Kysy muista")},
    {"key": "webmail", "kind": "question", "text": _t("Toimiiko selainposti?"),
     "choices": [{"label": _t("Kyllä"), "target": "guide"}, {"label": _t("Ei"), "target": "status"}]},
    {"key": "guide", "kind": "instruction", "text": _t("Opasta selainpostiin"), "next": "resolve"},
    {"key": "status", "kind": "check", "text": _t("Tilasivu kunnossa?"), "on_fail": "escalate"},
    {"key": "many", "kind": "escalate_if", "text": _t("Estääkö usean työn?")},
]


def runbook_with_version(service, *, category=None, steps=None, by=None) -> RunbookVersion:
    runbook = Runbook.objects.create(service=service, category=category, name_fi="Sähköposti ei toimi",
                                     name_en="Email is not working")
    return runbook_version_create(runbook=runbook, steps=steps or EMAIL_STEPS, note="first", by=by)


@pytest.fixture
def setup(world):
    version = runbook_with_version(world.critical, by=world.owner)
    ticket = f.ticket(world.requester_a, world.critical, world.cat_critical)
    return version, ticket


def test_versions_are_numbered_and_immutable(world):
    version = runbook_with_version(world.critical)
    second = runbook_version_create(runbook=version.runbook, steps=EMAIL_STEPS[:1], note="short", by=None)
    assert (version.number, second.number) == (1, 2)
    version.note = "changed"
    with pytest.raises(ImmutableError):
        version.save()
    assert RunbookVersion.objects.get(pk=version.pk).note == "first"


def test_invalid_steps_list_every_problem_and_save_nothing(world):
    runbook = Runbook.objects.create(service=world.critical, name_fi="R")
    steps = [{"key": "a", "kind": "question", "text": _t("A"), "choices": []},
             {"key": "a", "kind": "check", "text": {"en": "no fi"}}]
    with pytest.raises(ValidationError) as caught:
        runbook_version_create(runbook=runbook, steps=steps, note="", by=None)
    assert len(caught.value.message_dict["steps"]) == 4
    assert not RunbookVersion.objects.exists()


def test_run_start_records_history(setup, world):
    version, ticket = setup
    with translation.override("en"):
        run = run_start(ticket=ticket, user=world.agent)
    assert (run.version, run.current_step, run.status) == (version, "ask", "running")
    event = ticket.events.get(kind=EventKind.RUNBOOK)
    assert event.internal and event.new_value == "Email is not working v1"


def test_run_start_refused_without_runbook_or_when_running(setup, world):
    _, ticket = setup
    run_start(ticket=ticket, user=world.agent)
    with pytest.raises(ValidationError):
        run_start(ticket=ticket, user=world.agent2)
    other = f.ticket(world.requester_a, world.other, world.cat_other)
    with pytest.raises(ValidationError):
        run_start(ticket=other, user=world.agent)
    assert RunbookRun.objects.count() == 1


def test_requester_cannot_start(setup, world):
    _, ticket = setup
    with pytest.raises(PermissionDenied):
        run_start(ticket=ticket, user=world.requester_a)
    assert not RunbookRun.objects.exists()


def test_category_runbook_wins_over_service_wide(world):
    runbook_with_version(world.critical)
    specific = runbook_with_version(world.critical, category=world.cat_critical, steps=EMAIL_STEPS[:1])
    ticket = f.ticket(world.requester_a, world.critical, world.cat_critical)
    assert runbook_for_ticket(ticket) == specific


def test_answers_walk_to_resolve(setup, world):
    _, ticket = setup
    run = run_start(ticket=ticket, user=world.agent)
    run = run_answer(run=run, user=world.agent, step_key="ask", answer="done", notes="Only her")
    run = run_answer(run=run, user=world.agent, step_key="webmail", answer="0")
    assert run.current_step == "guide"
    run = run_answer(run=run, user=world.agent, step_key="guide", answer="done")
    ticket.refresh_from_db()
    assert (run.status, run.current_step, ticket.status) == ("resolved", "", Status.RESOLVED)
    assert list(run.results.values_list("step_key", "answer")) == [("ask", "done"), ("webmail", "0"),
                                                                   ("guide", "done")]
    assert run.results.first().notes == "Only her"


def test_stale_or_double_submit_is_refused(setup, world):
    _, ticket = setup
    run = run_start(ticket=ticket, user=world.agent)
    run_answer(run=run, user=world.agent, step_key="ask", answer="done")
    with pytest.raises(ValidationError):
        run_answer(run=run, user=world.agent, step_key="ask", answer="done")
    with pytest.raises(ValidationError):
        run_answer(run=run, user=world.agent, step_key="webmail", answer="7")
    run.refresh_from_db()
    assert run.current_step == "webmail" and RunbookStepResult.objects.count() == 1


def test_new_version_does_not_change_a_running_run(setup, world):
    version, ticket = setup
    run = run_start(ticket=ticket, user=world.agent)
    runbook_version_create(runbook=version.runbook, steps=EMAIL_STEPS[:1], note="", by=None)
    run = run_answer(run=run, user=world.agent, step_key="ask", answer="done")
    assert run.version == version and run.current_step == "webmail"


def test_abandon_ends_the_run_and_allows_a_new_one(setup, world):
    _, ticket = setup
    run = run_abandon(run=run_start(ticket=ticket, user=world.agent), user=world.agent)
    assert run.status == "abandoned"
    assert run_start(ticket=ticket, user=world.agent).status == "running"
