"""What the runbook panel shows: shared by the template tag and the views that answer its posts."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from vuoro.runbooks import flow
from vuoro.runbooks.models import RunbookRun
from vuoro.runbooks.selectors import can_see_service_runbooks, runbook_for_ticket, runs_for_ticket
from vuoro.runbooks.services import answer_text
from vuoro.tickets import access
from vuoro.tickets.models import ACTIVE_STATUSES


def _choices(step: flow.Step) -> list[tuple[str, str, str]]:
    """(answer, label, css) for the buttons of the current step."""
    css = {"done": "primary", "ok": "primary", "failed": "danger", "yes": "danger", "no": "primary"}
    return [(a, answer_text(step, a), css.get(a, "")) for a in flow.answers(step)]


def _current(run: RunbookRun) -> dict[str, Any] | None:
    if not run.running:
        return None
    steps = run.version.steps
    step = flow.step_by_key(steps, run.current_step)
    number = flow.keys(steps).index(run.current_step) + 1
    prompts = {flow.INSTRUCTION: _("Do this, then mark it done."),
               flow.CHECK: _("Check, then say whether it is OK."),
               flow.QUESTION: _("Ask, then choose the answer."),
               flow.ESCALATE_IF: _("If yes, the ticket is escalated.")}
    return {"key": run.current_step, "kind": step.get("kind"), "text": flow.step_text(step, get_language()),
            "number": number, "count": len(steps), "prompt": prompts.get(str(step.get("kind")), ""),
            "choices": _choices(step)}


def panel_context(*, ticket: Any, user: Any, request: HttpRequest | None, csrf_token: Any = None,
                  errors: list[str] | None = None, next_url: str | None = None) -> dict[str, Any]:
    """Context of ``runbooks/_panel.html``: the version that fits, the running or last run,
    its finished steps and the current step's answers."""
    if user is None or not access.can_work_on(user, ticket):
        return {"hidden": True}
    runs = list(runs_for_ticket(ticket=ticket)[:5])
    run = runs[0] if runs else None
    running = run if run is not None and run.running else None
    version = running.version if running else runbook_for_ticket(ticket)
    context: dict[str, Any] = {
        "ticket": ticket,
        "version": version,
        "run": run,
        "running": running,
        "current": _current(running) if running else None,
        "results": list(run.results.all()) if run else [],
        "can_start": running is None and version is not None and ticket.status in ACTIVE_STATUSES,
        "earlier_runs": runs[1:],
        "versions_link": can_see_service_runbooks(user=user, service=ticket.service),
        "errors": errors or [],
        "next_url": next_url if next_url is not None else (request.get_full_path() if request else ""),
        "request": request,
    }
    # A view rendering the panel gets the token from the context processor; a None here would
    # shadow it, and the next htmx post would be refused by the CSRF check.
    if csrf_token is not None:
        context["csrf_token"] = csrf_token
    return context
