"""The partner console: the night's incoming queue, the ticket page and its actions; the access log.

Views parse input, call one service or selector and render (POST-redirect-GET). A ticket outside
the partner's scope is "not found", checked before anything else, even the HTTP method.
"""

import csv
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vuoro.catalog.forms import answers_for_display
from vuoro.core.http import client_ip
from vuoro.core.spreadsheet import safe_row
from vuoro.partner import selectors, services
from vuoro.partner.forms import (
    AFFECTED,
    STOPS_WORK,
    AccessLogFilterForm,
    CallForm,
    DispatchForm,
    ResolveForm,
    TriageForm,
)
from vuoro.partner.models import AccessView
from vuoro.tickets.selectors import ticket_timeline

ACCESS_LOG_PAGE = 100
CSV_LIMIT = 50_000


def _signed_in_and(allowed: Callable[[Any], bool], **forbidden: Any) -> Callable[..., Any]:
    """Sign-in first; then only users ``allowed`` lets in. The rest get a page saying so (403)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allowed(request.user):
                return render(request, "partner/forbidden.html", forbidden, status=403)
            return view(request, *args, **kwargs)

        return guarded

    return decorate


# The console is for partner agents only; desk staff have the desk.
partner_required = _signed_in_and(lambda user: user.is_partner)
# Service owners read their services' log; administrators read all of it.
access_log_reader = _signed_in_and(selectors.can_read_access_log, access_log=True)


# Queue -------------------------------------------------------------------------------------


@partner_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """Incoming work; htmx polls the rows every 15 seconds."""
    context = {"tickets": selectors.partner_queue(user=request.user), "now": timezone.now()}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "partner/_queue_rows.html", context)
    return render(request, "partner/queue.html", context)


# Ticket page -------------------------------------------------------------------------------


def _console_ticket(request: HttpRequest, reference: str) -> selectors.ConsoleTicket:
    found = selectors.console_ticket_get(user=request.user, reference=reference)
    if found is None:
        raise Http404(_("No such ticket."))
    return found


def _forms(request: HttpRequest, found: selectors.ConsoleTicket, **bound: Any) -> dict[str, Any]:
    ticket = found.ticket
    return {
        "triage_form": bound.get("triage_form") or TriageForm(
            initial={"stops_work": ticket.stops_work, "affected": ticket.affected}),
        "dispatch_form": bound.get("dispatch_form") or DispatchForm(
            teams=selectors.dispatch_teams(), schedules=selectors.dispatch_schedules()),
        "call_form": bound.get("call_form") or CallForm(),
        "resolve_form": bound.get("resolve_form") or ResolveForm(),
    }


def _render_ticket(request: HttpRequest, found: selectors.ConsoleTicket, status: int = 200,
                   **bound: Any) -> HttpResponse:
    ticket = found.ticket
    context = {
        "ticket": ticket,
        "decision": found.decision,
        "coverage": found.coverage,
        "answers": answers_for_display(ticket.category, ticket.form_answers or {}),
        "stops_work": dict(STOPS_WORK).get(ticket.stops_work, ""),
        "affected": dict(AFFECTED).get(ticket.affected, ""),
        "timeline": ticket_timeline(user=request.user, ticket=ticket),
        "action_errors": bound.pop("action_errors", []),
        "now": timezone.now(),
        **_forms(request, found, **bound),
    }
    return render(request, "partner/ticket.html", context, status=status)


@partner_required
@require_GET
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    found = _console_ticket(request, reference)
    services.partner_access_log(user=request.user, ticket=found.ticket, view=AccessView.CONSOLE_TICKET,
                                ip=client_ip(request))
    return _render_ticket(request, found)


def _done(request: HttpRequest, reference: str, text: str) -> HttpResponse:
    messages.success(request, text)
    if selectors.console_ticket_get(user=request.user, reference=reference) is None:
        return redirect("partner:queue")  # handed on out of the partner's sight
    return redirect("partner:ticket", reference=reference)


def _action(form_name: str) -> Callable[..., Callable[..., HttpResponse]]:
    """A console action: scope check (404), POST only, then the form and its service.

    The wrapped function returns the success message or raises ValidationError; errors render
    the ticket page again with the form bound and status 400.
    """

    def wrap(act: Callable[..., str]) -> Callable[..., HttpResponse]:
        @partner_required
        @wraps(act)
        def view(request: HttpRequest, reference: str) -> HttpResponse:
            found = _console_ticket(request, reference)
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            form = _bound_form(form_name, request)
            try:
                if form is not None and not form.is_valid():
                    raise ValidationError(form.errors.get("__all__") or _("Check the form."))
                text = act(request, found.ticket, form)
            except ValidationError as exc:
                lines = exc.messages
                bound = {form_name: form} if form is not None else {}
                return _render_ticket(request, found, status=400, action_errors=lines, **bound)
            except PermissionDenied as exc:
                return _render_ticket(request, found, status=403, action_errors=[str(exc)])
            return _done(request, reference, text)

        return view

    return wrap


def _bound_form(form_name: str, request: HttpRequest) -> Any:
    if form_name == "triage_form":
        return TriageForm(request.POST)
    if form_name == "dispatch_form":
        return DispatchForm(request.POST, teams=selectors.dispatch_teams(),
                            schedules=selectors.dispatch_schedules())
    if form_name == "call_form":
        return CallForm(request.POST)
    if form_name == "resolve_form":
        return ResolveForm(request.POST)
    return None


@_action("catch")
def catch(request: HttpRequest, ticket: Any, form: Any) -> str:
    services.partner_catch(user=request.user, ticket=ticket)
    return _("You caught the ticket.")


@_action("triage_form")
def triage(request: HttpRequest, ticket: Any, form: TriageForm) -> str:
    services.partner_triage(user=request.user, ticket=ticket, **form.cleaned_data)
    return _("Triage saved.")


@_action("dispatch_form")
def dispatch(request: HttpRequest, ticket: Any, form: DispatchForm) -> str:
    data = form.cleaned_data
    if data.get("team"):
        services.partner_dispatch_to_team(user=request.user, ticket=ticket, team=data["team"])
        return _("Handed to %(team)s.") % {"team": data["team"]}
    person = None
    if data.get("person_email"):
        person = selectors.desk_person_by_email(email=data["person_email"])
        if person is None:
            raise ValidationError({"person_email": [_("No desk person is known by this email.")]})
    services.partner_dispatch_to_oncall(user=request.user, ticket=ticket, schedule=data.get("schedule"),
                                        person=person, reason=data.get("reason") or "")
    return _("Paged.")


@_action("call_form")
def call(request: HttpRequest, ticket: Any, form: CallForm) -> str:
    services.partner_call_log(user=request.user, ticket=ticket, **form.cleaned_data)
    return _("Call logged.")


@_action("resolve_form")
def resolve(request: HttpRequest, ticket: Any, form: ResolveForm) -> str:
    services.partner_resolve(user=request.user, ticket=ticket, reply=form.cleaned_data["reply"])
    return _("Resolved; the requester was told.")


# Access log --------------------------------------------------------------------------------


def _access_filters(request: HttpRequest) -> tuple[AccessLogFilterForm, selectors.AccessFilters]:
    form = AccessLogFilterForm(request.GET)
    if not form.is_valid():
        raise ValidationError(form.errors)
    data = form.cleaned_data
    return form, selectors.AccessFilters(service_id=data.get("service"), day_from=data.get("day_from"),
                                         day_to=data.get("day_to"))


@access_log_reader
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    """Who of the partner looked at which ticket, newest first, one keyset page at a time."""
    try:
        form, filters = _access_filters(request)
        page = selectors.access_log_page(user=request.user, filters=filters,
                                         cursor=form.cleaned_data.get("after") or None,
                                         size=ACCESS_LOG_PAGE)
    except (ValidationError, ValueError):
        return render(request, "partner/access_log.html", {"form": AccessLogFilterForm(), "bad": True,
                      "services": selectors.access_log_services(user=request.user)}, status=400)
    query = request.GET.copy()
    query.pop("after", None)
    return render(request, "partner/access_log.html", {
        "form": form, "page": page, "services": selectors.access_log_services(user=request.user),
        "chosen_service": filters.service_id, "query": query.urlencode(),
    })


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(["at", "partner", "ticket", "service", "view", "ip"])
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow(safe_row([row.at.isoformat(), row.user.display_name(), row.ticket.reference,
                                        str(row.ticket.service.name), row.view, row.ip or ""]))


@access_log_reader
@require_GET
def access_log_csv(request: HttpRequest) -> HttpResponse:
    """The same rows as the page, as CSV; at most CSV_LIMIT rows (a few megabytes) per export."""
    try:
        _form, filters = _access_filters(request)
    except ValidationError:
        return HttpResponse(_("Check the filters."), status=400, content_type="text/plain")
    rows = selectors.access_log_rows(user=request.user, filters=filters)[:CSV_LIMIT]
    response = HttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="partner-access-log.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
