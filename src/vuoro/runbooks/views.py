"""Thin views for the runbook runner (htmx with plain-form fallback) and the versions page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vuoro.catalog.models import Service
from vuoro.runbooks import services
from vuoro.runbooks.models import RunbookRun
from vuoro.runbooks.panel import panel_context
from vuoro.runbooks.selectors import can_see_service_runbooks, runbooks_for_service
from vuoro.tickets import access
from vuoro.tickets.models import Ticket
from vuoro.tickets.selectors import ticket_attachments, ticket_timeline


def _worked_ticket(request: HttpRequest, ticket: Ticket) -> Ticket:
    if not access.can_work_on(request.user, ticket):
        raise PermissionDenied(_("You cannot work on this ticket."))
    return ticket


def _next_url(request: HttpRequest, ticket: Ticket) -> str:
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return reverse("desk:ticket", kwargs={"reference": ticket.reference})


def _desk_activity(request: HttpRequest, ticket: Ticket) -> str:
    """The desk ticket page's timeline, swapped out of band so the new runbook rows show at once."""
    context = {"ticket": ticket, "oob": True,
               "timeline": ticket_timeline(user=request.user, ticket=ticket),
               "attachments": list(ticket_attachments(user=request.user, ticket=ticket))}
    return render_to_string("desk/_ticket_activity.html", context, request)


def _respond(request: HttpRequest, ticket: Ticket, done: str, errors: list[str] | None = None) -> HttpResponse:
    """The refreshed panel for htmx; otherwise a redirect back (or a 400 page with the problem)."""
    status = 400 if errors else 200
    if request.htmx:
        context = panel_context(ticket=ticket, user=request.user, request=request, errors=errors,
                                next_url=_next_url(request, ticket))
        response = render(request, "runbooks/_panel.html", context, status=status)
        if not errors and context["next_url"] == reverse("desk:ticket", kwargs={"reference": ticket.reference}):
            response.content += _desk_activity(request, ticket).encode()
        # Pages that show the ticket's history can listen for this and refresh it.
        response["HX-Trigger"] = "runbookChanged"
        return response
    if errors:
        return render(request, "runbooks/bad_request.html",
                      {"problems": errors, "back": _next_url(request, ticket)}, status=400)
    messages.success(request, done)
    return redirect(_next_url(request, ticket))


@login_required
def run_start(request: HttpRequest, reference: str) -> HttpResponse:
    # Permission before method, so a GET learns nothing about a ticket it may not work on.
    ticket = _worked_ticket(request, get_object_or_404(Ticket, reference=reference))
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.run_start(ticket=ticket, user=request.user)
    except ValidationError as exc:
        return _respond(request, ticket, "", exc.messages)
    return _respond(request, ticket, _("Runbook started."))


def _worked_run(request: HttpRequest, run_id: int) -> RunbookRun:
    run = get_object_or_404(RunbookRun.objects.select_related("ticket"), pk=run_id)
    _worked_ticket(request, run.ticket)
    return run


@login_required
@require_POST
def run_answer(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _worked_run(request, run_id)
    step_key, answer = request.POST.get("step_key", ""), request.POST.get("answer", "")
    try:
        if not step_key or not answer:
            raise ValidationError(_("The step or the answer is missing."))
        services.run_answer(run=run, user=request.user, step_key=step_key, answer=answer,
                            notes=request.POST.get("notes", "")[:2000])
    except ValidationError as exc:
        return _respond(request, run.ticket, "", exc.messages)
    return _respond(request, Ticket.objects.get(pk=run.ticket_id), _("Step recorded."))


@login_required
@require_POST
def run_abandon(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _worked_run(request, run_id)
    try:
        services.run_abandon(run=run, user=request.user)
    except ValidationError as exc:
        return _respond(request, run.ticket, "", exc.messages)
    return _respond(request, run.ticket, _("Runbook abandoned."))


@login_required
@require_GET
def service_runbooks(request: HttpRequest, slug: str) -> HttpResponse:
    """Every version of the service's runbooks, read-only, for its owner and the desk's agents."""
    service = get_object_or_404(Service, slug=slug)
    if not can_see_service_runbooks(user=request.user, service=service):
        raise PermissionDenied(_("Only the service's owner and the service desk see its runbooks."))
    runbooks = list(runbooks_for_service(user=request.user, service=service))
    return render(request, "runbooks/service.html", {"service": service, "runbooks": runbooks})
