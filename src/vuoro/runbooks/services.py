"""Writes for runbooks: new versions, and starting, answering and ending runs on tickets.

Every run write locks the run row, checks the current step (the fencing token) and records a
RunbookStepResult and an internal TicketEvent of kind RUNBOOK in the same transaction.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from vuoro.accounts.models import Role, User
from vuoro.coverage.services import Fact, ooh_record
from vuoro.runbooks import flow
from vuoro.runbooks.models import Runbook, RunbookRun, RunbookStepResult, RunbookVersion, RunStatus
from vuoro.runbooks.selectors import runbook_for_ticket
from vuoro.tickets import access
from vuoro.tickets.models import ACTIVE_STATUSES, EventKind, Status, Ticket, TicketEvent

# TicketEvent.field values of runbook history rows; the desk timeline words them.
EVENT_STARTED = "runbook_started"
EVENT_STEP = "runbook_step"
EVENT_ENDED = {RunStatus.RESOLVED: "runbook_resolved", RunStatus.ESCALATED: "runbook_escalated",
               RunStatus.ABANDONED: "runbook_abandoned"}


def runbook_version_create(*, runbook: Runbook, steps: Any, note: str = "", by: User | None) -> RunbookVersion:
    """Write the runbook's next version. Refuses invalid steps with every problem listed and
    saves nothing then. Locks the runbook row, so two editors get consecutive numbers."""
    problems = flow.validate(steps, _)
    if problems:
        raise ValidationError({"steps": problems})
    with transaction.atomic():
        Runbook.objects.select_for_update().get(pk=runbook.pk)
        last = runbook.versions.aggregate(last=Max("number"))["last"] or 0
        return RunbookVersion.objects.create(runbook=runbook, number=last + 1, steps=steps,
                                             note=note, created_by=by, created_at=timezone.now())


def _event(run: RunbookRun, user: User, field: str, new: str, at: dt.datetime, old: str = "") -> None:
    TicketEvent.objects.create(ticket_id=run.ticket_id, actor=user, kind=EventKind.RUNBOOK, field=field,
                               old_value=old, new_value=new, internal=True, created_at=at)


def _title(version: RunbookVersion) -> str:
    return f"{version.runbook.name} v{version.number}"


def _require_worker(user: User, ticket: Ticket) -> None:
    if not access.can_work_on(user, ticket):
        raise PermissionDenied(_("You cannot work on this ticket."))


def run_start(*, ticket: Ticket, user: User, now: dt.datetime | None = None) -> RunbookRun:
    """Start the runbook that fits the ticket (see ``runbook_for_ticket``).

    Refused when the user cannot work on the ticket, the ticket is resolved or closed, its
    service has no runbook, or a run is already running on it. The one-running-run constraint
    makes two simultaneous starts end with one run and one refusal.
    """
    _require_worker(user, ticket)
    now = now or timezone.now()
    version = runbook_for_ticket(ticket)
    if version is None:
        raise ValidationError(_("The ticket's service has no runbook."))
    if ticket.status not in ACTIVE_STATUSES:
        raise ValidationError(_("The ticket is resolved or closed."))
    try:
        with transaction.atomic():
            Ticket.objects.select_for_update().only("pk").get(pk=ticket.pk)
            run = RunbookRun.objects.create(ticket=ticket, version=version, started_by=user, started_at=now,
                                            current_step=flow.first_key(version.steps))
            _event(run, user, EVENT_STARTED, _title(version), now)
    except IntegrityError:
        raise ValidationError(_("A runbook is already running on this ticket.")) from None
    return run


def _locked_running(run: RunbookRun, step_key: str | None) -> RunbookRun:
    """The run row, locked; refuses a run that has ended or a step that is no longer current."""
    run = RunbookRun.objects.select_for_update().select_related("version__runbook", "ticket").get(pk=run.pk)
    if run.status != RunStatus.RUNNING:
        raise ValidationError(_("This runbook run has already ended."))
    if step_key is not None and step_key != run.current_step:
        raise ValidationError(_("This step has already been answered. The runbook shows the current step."))
    return run


def answer_text(step: flow.Step, answer: str, language: str | None = None) -> str:
    """An answer in words, in ``language`` (the active one by default)."""
    if step.get("kind") == flow.QUESTION:
        choices = step.get("choices") or []
        index = int(answer) if answer.isdigit() else -1
        return flow.localised(choices[index]["label"], language or get_language()) if 0 <= index < len(choices) else answer
    words = {"done": _("Done"), "ok": _("OK"), "failed": _("Failed"), "yes": _("Yes"), "no": _("No")}
    return str(words.get(answer, answer))


def run_answer(*, run: RunbookRun, user: User, step_key: str, answer: str, notes: str = "",
               now: dt.datetime | None = None) -> RunbookRun:
    """Answer the run's current step and move on; the last answer ends the run.

    Fenced: ``step_key`` must be the current step, so a double submit or a stale form is refused
    and changes nothing. Resolve resolves the ticket (``ticket_change``); escalate opens a page
    (``paging.services.page_open``) — if nothing can be paged the run still ends escalated and
    ``end_message`` says why. All in one transaction with the run row locked.
    """
    _require_worker(user, run.ticket)
    now = now or timezone.now()
    notes = (notes or "").strip()
    with transaction.atomic():
        run = _locked_running(run, step_key)
        steps = run.version.steps
        step = flow.step_by_key(steps, step_key)
        try:
            target = flow.advance(steps, step_key, answer)
        except flow.AnswerError:
            raise ValidationError(_("Choose one of the answers the step offers.")) from None
        text = flow.step_text(step, get_language())
        said = answer_text(step, answer)
        RunbookStepResult.objects.create(run=run, step_key=step_key, step_text=text, answer=answer,
                                         answer_text=said, notes=notes, by=user, at=now)
        summary = f"{text} → {said}" + (f" ({notes})" if notes else "")
        _event(run, user, EVENT_STEP, summary, now, old=step_key)
        if user.role == Role.PARTNER:
            ooh_record(ticket_id=run.ticket_id, fact=Fact.PARTNER_ACTION, at=now, user=user)
        if target in flow.ENDINGS:
            _end(run, user, target, reason=f"{text}: {said}" + (f" – {notes}" if notes else ""), now=now)
        else:
            run.current_step = target
            run.save(update_fields=["current_step"])
    return run


def _end(run: RunbookRun, user: User, ending: str, *, reason: str, now: dt.datetime) -> None:
    if ending == flow.RESOLVE:
        from vuoro.tickets.services import ticket_change

        if run.ticket.status != Status.RESOLVED:
            ticket_change(actor=user, ticket=run.ticket, status=Status.RESOLVED)
        status = RunStatus.RESOLVED
    else:
        run.end_message = _page_open(run, user, reason)
        ooh_record(ticket_id=run.ticket_id, fact=Fact.ESCALATED, at=now, user=user)
        status = RunStatus.ESCALATED
    run.status, run.current_step, run.ended_at = status, "", now
    run.save(update_fields=["status", "current_step", "ended_at", "end_message"])
    _event(run, user, EVENT_ENDED[status], _title(run.version), now, old=run.end_message)


def _page_open(run: RunbookRun, user: User, reason: str) -> str:
    """Open a page for the escalation; returns "" or why no page was opened."""
    try:
        from vuoro.paging.services import page_open
    except ImportError:
        # Paging ships separately; without it the escalation is recorded but nobody is paged.
        return _("No page was opened: paging is not available.")
    try:
        with transaction.atomic():  # a savepoint: a refused page must not undo the run's answer
            page_open(ticket=run.ticket, opened_by=user, reason=reason)
    except ValidationError as exc:
        return _("No page was opened: %(why)s") % {"why": " ".join(exc.messages)}
    return ""


def run_abandon(*, run: RunbookRun, user: User, now: dt.datetime | None = None) -> RunbookRun:
    """Stop a running run without resolving or escalating; the ticket is left as it is."""
    _require_worker(user, run.ticket)
    now = now or timezone.now()
    with transaction.atomic():
        run = _locked_running(run, None)
        run.status, run.current_step, run.ended_at = RunStatus.ABANDONED, "", now
        run.save(update_fields=["status", "current_step", "ended_at"])
        _event(run, user, EVENT_ENDED[RunStatus.ABANDONED], _title(run.version), now)
    return run
