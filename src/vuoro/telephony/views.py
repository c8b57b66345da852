"""Phone pages for the desk (log a call, look a number up) and the telephony webhook. Thin:
the work is in ``services`` and ``selectors``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from vuoro.accounts.decorators import desk_user_required
from vuoro.catalog.models import Service
from vuoro.desk.forms import AFFECTED_CHOICES, STOPS_WORK_CHOICES
from vuoro.telephony import selectors, services
from vuoro.telephony.models import Outcome
from vuoro.tickets.models import Ticket
from vuoro.tickets.selectors import ticket_get


def _ticket_page(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    """Where to go after a call lands on a ticket: the desk page, or for a partner the console.

    A partner's ticket page is the console's (it logs the view); a ticket they just filed for a
    service outside their scope is not theirs to open, so they return to the queue and are told.
    """
    if not request.user.is_partner:
        return redirect("desk:ticket", reference=ticket.reference)
    if ticket_get(user=request.user, reference=ticket.reference) is not None:
        return redirect("partner:ticket", reference=ticket.reference)
    messages.info(request, _("The call is logged and ticket %(reference)s was created. It is handled "
                             "outside your console, so it does not open here.") % {"reference": ticket.reference})
    return redirect("partner:queue")


def _minutes(text: str) -> int:
    try:
        return round(float(text.replace(",", ".")) * 60)
    except ValueError:
        return -1


@desk_user_required
@require_http_methods(["GET", "POST"])
def log(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    context = {"data": data, "outcomes": Outcome.choices, "errors": {},
               "stops_work_choices": STOPS_WORK_CHOICES, "affected_choices": AFFECTED_CHOICES,
               "services": Service.objects.filter(active=True).order_by("slug")}
    if request.method == "POST":
        service = Service.objects.filter(pk=data.get("service") or None, active=True).first() \
            if (data.get("service") or "").isdigit() else None
        try:
            call = services.call_log(
                actor=request.user, raw_number=data.get("number", ""), reason=data.get("reason", ""),
                duration_seconds=_minutes(data.get("duration", "0") or "0"), outcome=data.get("outcome", ""),
                summary=data.get("summary", ""), create_ticket=data.get("then") == "create",
                service=service, ticket_reference=data.get("ticket", "") if data.get("then") == "add" else "",
                stops_work=data.get("stops_work") or "no", affected=data.get("affected") or "me",
            )
        except ValidationError as exc:
            context["errors"] = exc.message_dict
            context["lookup"] = selectors.lookup(user=request.user, raw_number=data.get("number", ""))
            return render(request, "telephony/log.html", context, status=400)
        if call.ticket is not None:
            return _ticket_page(request, call.ticket)
        return redirect(f"{request.path}?logged={call.pk}")
    context["lookup"] = selectors.lookup(user=request.user, raw_number=data.get("number", ""))
    return render(request, "telephony/log.html", context)


@desk_user_required
def lookup(request: HttpRequest) -> HttpResponse:
    found = selectors.lookup(user=request.user, raw_number=request.GET.get("number", ""))
    return render(request, "telephony/_lookup.html", {"lookup": found})


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """The telephony system's endpoint: refusals are in English, for its logs and operators."""
    with translation.override("en"):
        return _webhook(request)


def _webhook(request: HttpRequest) -> HttpResponse:
    try:
        result = services.webhook_receive(
            body=request.body, timestamp=request.headers.get("X-Vuoro-Timestamp", ""),
            signature=request.headers.get("X-Vuoro-Signature", ""), now=timezone.now(),
        )
    except services.WebhookRefused as refused:
        return JsonResponse({"detail": refused.message}, status=refused.status)
    return JsonResponse({"call": result.call.pk, "created": result.created,
                         "ticket": result.call.ticket.reference if result.call.ticket else None},
                        status=201 if result.created else 200)
