"""The partner on duty follows a runbook out of hours: figures, the escalation page, refusals."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests import factories as f
from tests.test_runbook_services import runbook_with_version
from vuoro.accounts.models import Role
from vuoro.calendars.models import Calendar, OpeningHours
from vuoro.coverage.models import CoverageModel, OutOfHoursDecision, ServiceCoverage
from vuoro.paging.models import EscalationPolicy, EscalationStep, Page, TargetKind
from vuoro.runbooks.models import RunbookRun, RunbookStepResult
from vuoro.tickets.models import EventKind

SATURDAY_NIGHT = dt.datetime(2026, 11, 21, 2, 0, tzinfo=ZoneInfo("Europe/Helsinki"))
HTMX = {"HTTP_HX_REQUEST": "true"}


def _night_ticket(world, *, with_policy: bool):
    """A work-stopping request on Saturday night, routed to the partner by guided-actions coverage."""
    calendar = Calendar.objects.create(name="Office", timezone="Europe/Helsinki")
    for weekday in range(5):
        OpeningHours.objects.create(calendar=calendar, weekday=weekday, start=dt.time(8), end=dt.time(16))
    world.critical.calendar = calendar
    world.critical.save()
    policy = None
    if with_policy:
        policy = EscalationPolicy.objects.create(name="Email on call")
        EscalationStep.objects.create(policy=policy, order=0, wait_minutes=0, target_kind=TargetKind.USER,
                                      target_user=world.agent2)
    ServiceCoverage.objects.create(service=world.critical, model=CoverageModel.GUIDED_ACTIONS,
                                   partner_team=world.partner_team, escalation_policy=policy)
    runbook_with_version(world.critical, by=world.owner)
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        ticket = f.ticket(world.requester_a, world.critical, world.cat_critical, stops_work="yes", affected="team")
    assert ticket.team == world.partner_team
    world.partner.language = "en"
    world.partner.save()
    return ticket


def _partner_actions(ticket) -> int:
    return OutOfHoursDecision.objects.get(ticket=ticket).partner_actions


def _walk_to_escalation(client, ticket):
    """Start and answer: done → webmail "no" → status page failed (→ escalate); each answer
    counts as one partner action."""
    response = client.post(f"/runbooks/tickets/{ticket.reference}/start/", **HTMX)
    assert response.status_code == 200
    run = RunbookRun.objects.get(ticket=ticket)
    before = _partner_actions(ticket)
    for key, answer in [("ask", "done"), ("webmail", "1"), ("status", "failed")]:
        response = client.post(f"/runbooks/runs/{run.pk}/answer/",
                               {"step_key": key, "answer": answer, "notes": f"note {key}"}, **HTMX)
        assert response.status_code == 200, response.content
    run.refresh_from_db()
    if run.started_by.role == Role.PARTNER:
        assert _partner_actions(ticket) == before + 3
    return run, response


def test_partner_escalation_opens_a_page_and_records_the_figures(world, login):
    ticket = _night_ticket(world, with_policy=True)
    run, response = _walk_to_escalation(login(world.partner), ticket)
    assert run.status == "escalated" and run.end_message == ""
    page = Page.objects.get(ticket=ticket)
    assert page.opened_by == world.partner and "note status" in page.reason
    decision = OutOfHoursDecision.objects.get(ticket=ticket)
    assert decision.escalated_at is not None
    assert "Escalated" in response.text
    kinds = list(ticket.events.filter(kind=EventKind.RUNBOOK).values_list("field", flat=True))
    assert kinds == ["runbook_started", "runbook_step", "runbook_step", "runbook_step", "runbook_escalated"]


def test_escalation_without_anyone_to_page_still_ends_escalated_and_says_why(world, login):
    ticket = _night_ticket(world, with_policy=False)
    run, response = _walk_to_escalation(login(world.partner), ticket)
    assert run.status == "escalated" and run.end_message.startswith("No page was opened")
    assert not Page.objects.filter(ticket=ticket).exists()
    assert "No page was opened" in response.text
    assert OutOfHoursDecision.objects.get(ticket=ticket).escalated_at is not None


def test_partner_of_another_team_and_a_requester_are_refused(world, login):
    ticket = _night_ticket(world, with_policy=False)
    login(world.partner).post(f"/runbooks/tickets/{ticket.reference}/start/")
    run = RunbookRun.objects.get(ticket=ticket)
    stranger = f.user(Role.PARTNER)
    f.team("Other partner", members=[stranger])
    for user in (stranger, world.requester_a):
        client = login(user)
        assert client.post(f"/runbooks/tickets/{ticket.reference}/start/").status_code == 403
        answer = client.post(f"/runbooks/runs/{run.pk}/answer/", {"step_key": "ask", "answer": "done"})
        assert answer.status_code == 403
        assert client.post(f"/runbooks/runs/{run.pk}/abandon/").status_code == 403
    run.refresh_from_db()
    assert (run.status, run.current_step) == ("running", "ask")
    assert not RunbookStepResult.objects.exists()


@pytest.mark.parametrize("htmx", [True, False])
def test_stale_answer_is_refused_with_400_and_changes_nothing(world, login, htmx):
    ticket = _night_ticket(world, with_policy=False)
    client = login(world.partner)
    client.post(f"/runbooks/tickets/{ticket.reference}/start/")
    run = RunbookRun.objects.get(ticket=ticket)
    headers = HTMX if htmx else {}
    first = client.post(f"/runbooks/runs/{run.pk}/answer/", {"step_key": "ask", "answer": "done"}, **headers)
    assert first.status_code == (200 if htmx else 302)
    again = client.post(f"/runbooks/runs/{run.pk}/answer/", {"step_key": "ask", "answer": "done"}, **headers)
    assert again.status_code == 400
    assert "already been answered" in again.text
    missing = client.post(f"/runbooks/runs/{run.pk}/answer/", {"step_key": "webmail"}, **headers)
    assert missing.status_code == 400
    run.refresh_from_db()
    assert run.current_step == "webmail" and RunbookStepResult.objects.count() == 1


def test_the_start_form_needs_a_csrf_token(world):
    from django.test import Client

    ticket = _night_ticket(world, with_policy=False)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.partner)
    assert client.post(f"/runbooks/tickets/{ticket.reference}/start/").status_code == 403
    assert not RunbookRun.objects.exists()


def test_partner_console_shows_the_runner_and_plain_posts_return_there(world, login):
    ticket = _night_ticket(world, with_policy=False)
    client = login(world.partner)
    console = f"/partner/tickets/{ticket.reference}/"
    page = client.get(console)
    assert page.status_code == 200 and f'id="runbook-panel-{ticket.pk}"' in page.text
    assert f'name="next" value="{console}"' in page.text
    assert "/runbooks/services/" not in page.text  # the versions page is for the desk and owners
    response = client.post(f"/runbooks/tickets/{ticket.reference}/start/", {"next": console})
    assert response.status_code == 302 and response.url == console
    panel = client.post(f"/runbooks/runs/{RunbookRun.objects.get().pk}/abandon/", {"next": console}, **HTMX)
    assert panel.status_code == 200 and "hx-swap-oob" not in panel.text  # no desk timeline here
    client.post(f"/runbooks/tickets/{ticket.reference}/start/", {"next": console})
    run = RunbookRun.objects.get(ticket=ticket, status="running")
    response = client.post(f"/runbooks/runs/{run.pk}/answer/",
                           {"step_key": "ask", "answer": "done", "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == f"/desk/tickets/{ticket.reference}/"
    assert "Step 2 of 5" in client.get(console).text


def test_partner_resolving_through_the_runbook_resolves_the_ticket(world, login):
    ticket = _night_ticket(world, with_policy=False)
    client = login(world.partner)
    client.post(f"/runbooks/tickets/{ticket.reference}/start/")
    run = RunbookRun.objects.get(ticket=ticket)
    for key, answer in [("ask", "done"), ("webmail", "0"), ("guide", "done")]:
        client.post(f"/runbooks/runs/{run.pk}/answer/", {"step_key": key, "answer": answer})
    run.refresh_from_db()
    ticket.refresh_from_db()
    decision = OutOfHoursDecision.objects.get(ticket=ticket)
    assert (run.status, ticket.status) == ("resolved", "resolved")
    assert decision.resolved_by_partner and decision.escalated_at is None
