"""The agent desk: queue, bulk changes, the ticket page and requests logged on someone's behalf.

Views parse input, call one ticket service or selector and render. With htmx they answer with
the fragment that changed; without it, the same URL serves the whole page (POST-redirect-GET).
"""

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vuoro.accounts.decorators import desk_user_required
from vuoro.catalog.forms import answers_for_display
from vuoro.catalog.models import Category
from vuoro.channels.selectors import requester_bounce
from vuoro.core.http import client_ip
from vuoro.desk import selectors as desk_selectors
from vuoro.desk import sla as desk_sla
from vuoro.desk.forms import (
    AFFECTED_CHOICES,
    QUEUE_LABELS,
    SORT_LABELS,
    STOPS_WORK_CHOICES,
    BulkForm,
    NewTicketForm,
    QueueFilterForm,
    answers_from_post,
    error_lines,
    intake_errors_by_input,
    parse_ticket_change,
    pick_person,
)
from vuoro.notify.selectors import desk_notifications_for
from vuoro.notify.services import desk_notifications_mark_read
from vuoro.partner.models import AccessView
from vuoro.partner.services import partner_access_log
from vuoro.tickets import access
from vuoro.tickets.attachments import check_uploads
from vuoro.tickets.models import TRANSITIONS, Channel, Level, Priority, Status, Ticket
from vuoro.tickets.selectors import (
    QUEUES,
    ticket_attachments,
    ticket_get,
    ticket_list,
    ticket_timeline,
)
from vuoro.tickets.services import message_add, ticket_change, ticket_create, tickets_bulk_change
from vuoro.tickets.services import tracking_links_revoke as revoke_tracking_links

BULK_LIMIT = 500


def bad_request(request: HttpRequest, lines: list[str]) -> HttpResponse:
    template = "desk/_bad_request.html" if request.htmx else "desk/bad_request.html"
    return render(request, template, {"problems": lines}, status=400)


def wants_fragment(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


# Queue -------------------------------------------------------------------------------------


def _with_params(params: QueryDict, **replace: str | None) -> str:
    """The query string ``params`` with some keys replaced (None drops the key)."""
    query = params.copy()
    for key, value in replace.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def _queue_context(request: HttpRequest, params: QueryDict, form: QueueFilterForm) -> dict[str, Any]:
    """Everything the queue shows, in a fixed number of queries whatever the page size."""
    user = request.user
    filters = form.ticket_filters()
    page = ticket_list(user=user, filters=filters, sort=form.chosen_sort, cursor=form.chosen_cursor,
                       size=settings.VUORO_PAGE_SIZE)
    base = params.copy()
    base.pop("after", None)
    return {
        "page": page,
        "paused": desk_sla.paused_ticket_ids(tickets=page.items),
        "filters": filters,
        "sort": form.chosen_sort,
        "query_string": base.urlencode(),
        "next_url": _with_params(base, after=page.next_cursor) if page.next_cursor else None,
        "first_url": _with_params(base) if form.chosen_cursor else None,
        "tabs": [(q, QUEUE_LABELS[q], _with_params(base, queue=q)) for q in QUEUES],
        "sorts": list(SORT_LABELS.items()),
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "services": list(desk_selectors.desk_services()),
        "teams": list(desk_selectors.desk_teams(user=user)),
        "assignees": list(desk_selectors.desk_assignees(user=user)),
    }


def _queue_form(params: QueryDict) -> QueueFilterForm | None:
    form = QueueFilterForm(params)
    return form if form.is_valid() else None


@desk_user_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The queue: tabs, filters, search, sorting and keyset pages; htmx gets just the results."""
    if request.user.is_partner:
        return redirect("partner:queue")  # partners work in their own console
    form = QueueFilterForm(request.GET)
    if not form.is_valid():
        return bad_request(request, error_lines(form.errors))
    try:
        context = _queue_context(request, request.GET, form)
    except ValueError:
        return bad_request(request, [_("This page link is broken or has expired.")])
    template = "desk/_queue_results.html" if wants_fragment(request) else "desk/queue.html"
    return render(request, template, context)


@dataclass
class BulkOutcome:
    asked: int = 0
    refused: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.asked - len(self.refused)


def _bulk_changes(request: HttpRequest, form: BulkForm) -> dict[str, Any]:
    data = form.cleaned_data
    if data["action"] == "assign":
        valid, person = pick_person(data["assignee"], actor=request.user,
                                    allowed=desk_selectors.desk_assignees(user=request.user))
        if not valid:
            raise ValidationError({"assignee": [_("Choose one of the offered people.")]})
        return {"assignee": person}
    return {data["action"]: data[data["action"]]}


def _bulk_apply(request: HttpRequest) -> BulkOutcome:
    """Apply the chosen change to the selected tickets the user may see; report refusals."""
    references = list(dict.fromkeys(r for r in request.POST.getlist("ticket") if r))[:BULK_LIMIT]
    outcome = BulkOutcome(asked=len(references))
    if not references:
        outcome.problems.append(_("Select at least one ticket."))
        return outcome
    form = BulkForm(request.POST)
    if not form.is_valid():
        outcome.problems.extend(error_lines(form.errors))
        return outcome
    try:
        changes = _bulk_changes(request, form)
    except ValidationError as exc:
        outcome.problems.extend(error_lines(exc.message_dict))
        return outcome
    tickets = list(access.tickets_visible_to(request.user).filter(reference__in=references))
    found = {t.reference for t in tickets}
    outcome.refused = {ref: [_("No such ticket.")] for ref in references if ref not in found}
    outcome.refused.update(tickets_bulk_change(actor=request.user, tickets=tickets, **changes))
    return outcome


def _bulk_summary(outcome: BulkOutcome) -> str:
    return ngettext("%(changed)d of %(asked)d ticket updated.",
                    "%(changed)d of %(asked)d tickets updated.", outcome.asked) % {
        "changed": outcome.changed, "asked": outcome.asked}


@desk_user_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Bulk assign, status or priority on the selected rows; each ticket checked on its own."""
    outcome = _bulk_apply(request)
    return_query = QueryDict(request.POST.get("return_query", ""))
    status = 400 if outcome.problems else 200
    if not wants_fragment(request):
        if outcome.problems:
            return bad_request(request, outcome.problems)
        messages.success(request, _bulk_summary(outcome))
        for reference, reasons in outcome.refused.items():
            messages.error(request, f"{reference}: {' '.join(reasons)}")
        return redirect(reverse("desk:queue") + _with_params(return_query))
    form = _queue_form(return_query) or QueueFilterForm(QueryDict(""))
    form.is_valid()
    context = _queue_context(request, return_query, form)
    context["bulk"] = outcome
    context["bulk_summary"] = "" if outcome.problems else _bulk_summary(outcome)
    return render(request, "desk/_queue_results.html", context, status=status)


# Ticket page -------------------------------------------------------------------------------


def _ticket_or_404(request: HttpRequest, reference: str) -> Ticket:
    """The ticket if the user may see it. Checked before anything else, even the HTTP method,
    so that nothing about a ticket outside the user's scope can be told apart from no ticket."""
    ticket = ticket_get(user=request.user, reference=reference)
    if ticket is None:
        raise Http404(_("No such ticket."))
    return ticket


def _next_statuses(ticket: Ticket) -> list[tuple[str, str]]:
    allowed = TRANSITIONS.get(ticket.status, frozenset())
    return [(value, label) for value, label in Status.choices if value in allowed]


def _ticket_context(request: HttpRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """What a desk ticket page or fragment shows; a partner shown it is in the access log."""
    user = request.user
    partner_access_log(user=user, ticket=ticket, view=AccessView.DESK_TICKET, ip=client_ip(request))
    context = {
        "ticket": ticket,
        "answers": answers_for_display(ticket.category, ticket.form_answers or {}),
        "timeline": ticket_timeline(user=user, ticket=ticket),
        "attachments": list(ticket_attachments(user=user, ticket=ticket)),
        "next_statuses": _next_statuses(ticket),
        "sla_clocks": desk_sla.ticket_clock_cards(ticket=ticket),
        "requester_bounce": requester_bounce(user=user, ticket=ticket),
        "priorities": Priority.choices,
        "levels": Level.choices,
        "teams": list(desk_selectors.desk_teams(user=user, keep=ticket.team_id)),
        "assignees": list(desk_selectors.desk_assignees(user=user, keep=ticket.assignee_id)),
        "reply_errors": {},
        "change_errors": {},
        "reply_body": "",
    }
    context.update(extra)
    return context


def _ticket_update(request: HttpRequest, ticket: Ticket, primary: str, status: int = 200,
                   **extra: Any) -> HttpResponse:
    """The changed fragment plus out-of-band refreshes of the timeline, badges and panel."""
    context = _ticket_context(request, ticket, **extra)
    parts = [render_to_string(primary, context, request)]
    oob = {**context, "oob": True}
    for name in ("desk/_ticket_badges.html", "desk/_ticket_activity.html", "desk/_ticket_panel.html",
                 "desk/_reply_box.html"):
        if name != primary:
            parts.append(render_to_string(name, oob, request))
    return HttpResponse("".join(parts), status=status)


@desk_user_required
@require_GET
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket_or_404(request, reference)
    if request.user.is_partner:
        # The console shows a partner what the work needs and logs the view.
        return redirect("partner:ticket", reference=ticket.reference)
    return render(request, "desk/ticket.html", _ticket_context(request, ticket))


@desk_user_required
def ticket_reply(request: HttpRequest, reference: str) -> HttpResponse:
    """A public reply (``internal`` not "1") or an internal note, with optional attachments."""
    ticket = _ticket_or_404(request, reference)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    internal = request.POST.get("internal") == "1"
    body = request.POST.get("body", "")
    errors: dict[str, list[str]] = {}
    try:
        uploads = check_uploads(request.FILES.getlist("attachments"))
        message_add(actor=request.user, ticket=ticket, body=body, internal=internal,
                    channel=Channel.DESK, attachments=uploads)
    except ValidationError as exc:
        errors = exc.message_dict
    except PermissionDenied as exc:
        errors = {"body": [str(exc)]}
    if errors:
        context = _ticket_context(request, ticket, reply_errors=errors, reply_body=body)
        template = "desk/_reply_box.html" if wants_fragment(request) else "desk/ticket.html"
        return render(request, template, context, status=400)
    ticket = _ticket_or_404(request, reference)
    if wants_fragment(request):
        return _ticket_update(request, ticket, "desk/_reply_box.html")
    messages.success(request, _("Internal note added.") if internal else _("Reply sent."))
    return redirect("desk:ticket", reference=ticket.reference)


@desk_user_required
def ticket_update(request: HttpRequest, reference: str) -> HttpResponse:
    """Status, priority, impact/urgency, team or assignee from the side panel."""
    ticket = _ticket_or_404(request, reference)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    try:
        changes = parse_ticket_change(request.POST, actor=user,
                                      teams=desk_selectors.desk_teams(user=user, keep=ticket.team_id),
                                      assignees=desk_selectors.desk_assignees(
                                          user=user, keep=ticket.assignee_id))
        ticket_change(actor=user, ticket=ticket, **changes)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        context = _ticket_context(request, ticket, change_errors=errors)
        template = "desk/_ticket_panel.html" if wants_fragment(request) else "desk/ticket.html"
        return render(request, template, context, status=400)
    except PermissionDenied as exc:
        return bad_request(request, [str(exc)])
    changed = ticket_get(user=user, reference=reference)
    if changed is None:
        # The change moved the ticket out of this user's scope (e.g. a partner handed it on).
        messages.success(request, _("Ticket updated."))
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("desk:queue")
            return response
        return redirect("desk:queue")
    if wants_fragment(request):
        return _ticket_update(request, changed, "desk/_ticket_panel.html")
    messages.success(request, _("Ticket updated."))
    return redirect("desk:ticket", reference=changed.reference)


@desk_user_required
def tracking_links_revoke(request: HttpRequest, reference: str) -> HttpResponse:
    """Every tracking link mailed for the ticket stops working; the next mail carries a new one."""
    ticket = _ticket_or_404(request, reference)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        revoke_tracking_links(actor=request.user, ticket=ticket)
    except PermissionDenied as exc:
        return bad_request(request, [str(exc)])
    messages.success(request, _("The tracking links sent so far no longer work. The next mail to "
                                "the requester carries a new one."))
    return redirect("desk:ticket", reference=ticket.reference)


# Logging a request on someone's behalf ---------------------------------------------------


def _chosen(value: str | None, queryset: Any) -> Any:
    if not value or not str(value).isdigit():
        return None
    return queryset.filter(pk=int(value)).first()


def _new_context(request: HttpRequest, data: QueryDict | dict[str, Any],
                 errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    services = list(desk_selectors.intake_services())
    service = _chosen(data.get("service"), desk_selectors.intake_services())
    categories = list(desk_selectors.intake_categories(service=service))
    category = next((c for c in categories if str(c.pk) == str(data.get("category", ""))), None)
    requester_id = str(data.get("requester") or "")
    requester = (desk_selectors.requester_by_id(user=request.user, requester_id=int(requester_id))
                 if requester_id.isdigit() else None)
    return {
        "data": data,
        "errors": errors or {},
        "services": services,
        "service": service,
        "categories": categories,
        "category": category,
        "fields": list(category.fields.all()) if category else [],
        "chosen_requester": requester,
        "partner_mode": request.user.is_partner,
        "stops_work_choices": STOPS_WORK_CHOICES,
        "affected_choices": AFFECTED_CHOICES,
    }


def _resolve_requester(request: HttpRequest, form: NewTicketForm) -> Any:
    """The requester picked by id (staff) or named by email (everyone, the only way for partners)."""
    data = form.cleaned_data
    if data.get("requester") and not request.user.is_partner:
        person = desk_selectors.requester_by_id(user=request.user, requester_id=data["requester"])
        if person is not None:
            return person
    if data.get("requester_email"):
        person = desk_selectors.requester_by_email(email=data["requester_email"])
        if person is not None:
            return person
        raise ValidationError({"requester_email": [_("No requester is known by this email.")]})
    raise ValidationError({"requester": [_("Choose the requester.")]})


def _create_from_post(request: HttpRequest) -> tuple[Ticket | None, dict[str, list[str]]]:
    form = NewTicketForm(request.POST)
    if not form.is_valid():
        return None, dict(form.errors)
    data = form.cleaned_data
    category: Category | None = data.get("category")
    try:
        requester = _resolve_requester(request, form)
        answers = answers_from_post(request.POST, list(category.fields.all()) if category else [])
        result = ticket_create(
            actor=request.user, requester=requester, service=data["service"], category=category,
            subject=data.get("subject") or "", description=data.get("description") or "",
            stops_work=data.get("stops_work") or "", affected=data.get("affected") or "",
            channel=Channel.PHONE if data.get("logged_call") else Channel.DESK,
            form_answers=answers, idempotency_key=data.get("idempotency_key") or None,
        )
    except ValidationError as exc:
        return None, intake_errors_by_input(exc.message_dict)
    return result.ticket, {}


@desk_user_required
@require_http_methods(["GET", "POST"])
def new_ticket(request: HttpRequest) -> HttpResponse:
    """Log a request for a requester (a phone call, a walk-in) through the one intake service."""
    if request.method == "GET":
        initial = {"idempotency_key": NewTicketForm.fresh_key(), **request.GET.dict()}
        return render(request, "desk/new.html", _new_context(request, initial))
    ticket, errors = _create_from_post(request)
    if ticket is None:
        return render(request, "desk/new.html", _new_context(request, request.POST, errors), status=400)
    messages.success(request, _("Ticket %(reference)s created.") % {"reference": ticket.reference})
    if request.user.is_partner and ticket_get(user=request.user, reference=ticket.reference) is None:
        return redirect("partner:queue")  # logged for the desk, outside the partner's night work
    return redirect("desk:ticket", reference=ticket.reference)


@desk_user_required
@require_GET
def new_ticket_category(request: HttpRequest) -> HttpResponse:
    """The category picker and the chosen category's form, reloaded when either changes."""
    return render(request, "desk/_new_category.html", _new_context(request, request.GET))


@desk_user_required
@require_GET
def requester_lookup(request: HttpRequest) -> HttpResponse:
    """Requesters matching a name or email (not offered to partners)."""
    if request.user.is_partner:
        raise PermissionDenied(_("Partner agents name the requester by email."))
    people = desk_selectors.requester_search(user=request.user, text=request.GET.get("requester_q", ""))
    return render(request, "desk/_requester_options.html",
                  {"people": people, "text": request.GET.get("requester_q", "")})


NOTICES_SHOWN = 100


@desk_user_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    """The person's desk inbox: SLA warnings and breaches and other notices; POST marks all read."""
    if request.method == "POST":
        desk_notifications_mark_read(user=request.user)
        return redirect("desk:notifications")
    notices = list(desk_notifications_for(user=request.user)[:NOTICES_SHOWN])
    return render(request, "desk/notifications.html", {"notices": notices})
