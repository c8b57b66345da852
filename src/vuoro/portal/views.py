"""The requester portal: the service catalogue, new requests, tracking links and own requests.

Views stay thin: selectors decide what a visitor may see, the intake and message services
decide what is valid, and the forms only carry input and errors.
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from vuoro.accounts.models import User
from vuoro.catalog.forms import answers_for_display
from vuoro.catalog.models import Category, Service
from vuoro.core.http import client_ip
from vuoro.portal import limits
from vuoro.portal import selectors as portal_selectors
from vuoro.portal import services as portal_services
from vuoro.portal.forms import ReplyForm, RequestForm
from vuoro.sla.expected import expected_handling
from vuoro.tickets import selectors as ticket_selectors
from vuoro.tickets.models import Channel, Ticket
from vuoro.tickets.services import check_intake, message_add, ticket_create
from vuoro.tickets.tracking import ticket_for_tracking_token, tracking_token


def _to_desk() -> HttpResponse:
    """Desk roles work in the desk; the portal's request pages are for requesters."""
    try:
        return redirect(reverse("desk:queue"))
    except NoReverseMatch:
        return redirect("portal:home")


def home(request):  # type: ignore[no-untyped-def]
    services = portal_selectors.services_offered(user=request.user)
    return render(request, "portal/home.html", {"services": services})


def _submit_request(
    request: HttpRequest, form: RequestForm, service: Service, category: Category | None
) -> Ticket | None:
    """Check the whole request first, then store requester and ticket together or not at all.

    An anonymous request over ``portal.limits`` is refused on the form; ``form.refused_status``
    is then 429.
    """
    signed_in = request.user.is_authenticated
    form_ok = form.is_valid()
    try:
        prospect = (
            request.user
            if signed_in
            else portal_services.prospective_requester(form.cleaned_data.get("email", ""))
        )
        check_intake(requester=prospect, service=service, category=category, **form.intake())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None
    if not form_ok:
        return None
    try:
        with transaction.atomic():
            if not signed_in:
                seen = {"ip": client_ip(request), "email": form.cleaned_data["email"], "now": timezone.now()}
                limits.anonymous_request_check(**seen)
                limits.anonymous_request_record(**seen)
            requester = (
                request.user
                if signed_in
                else portal_services.requester_for_email(
                    email=form.cleaned_data["email"],
                    name=form.cleaned_data["name"],
                    language=get_language() or "fi",
                )
            )
            result = ticket_create(
                actor=request.user if signed_in else None,
                requester=requester,
                service=service,
                category=category,
                channel=Channel.PORTAL,
                attachments=form.uploads(),
                idempotency_key=form.submission_key(),
                **form.intake(),
            )
    except limits.TooManyRequests as exc:
        form.add_error(None, exc.messages)
        form.refused_status = 429
        return None
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None
    return result.ticket


def new_request(request, service_slug, category_slug=None):  # type: ignore[no-untyped-def]
    service = portal_selectors.service_offered(user=request.user, slug=service_slug)
    if service is None:
        raise Http404
    category = None
    if category_slug is not None:
        category = portal_selectors.category_offered(service=service, slug=category_slug)
        if category is None:
            raise Http404
    elif service.categories.all():  # prefetched: active categories only
        return redirect(f"{reverse('portal:home')}#service-{service.slug}")
    ask_contact = not request.user.is_authenticated
    if request.method == "POST":
        form = RequestForm(request.POST, request.FILES, category=category, ask_contact=ask_contact)
        ticket = _submit_request(request, form, service, category)
        if ticket is not None and request.user.is_authenticated:
            return redirect("portal:confirmation", token=tracking_token(ticket))
        if ticket is not None:
            # Anyone may type any address: the tracking link goes to the address, in the
            # acknowledgement mail, and this browser only learns what it sent.
            request.session[SENT_KEY] = ticket.pk
            return redirect("portal:sent")
    else:
        form = RequestForm(category=category, ask_contact=ask_contact)
    return render(
        request, "portal/new_request.html", {"form": form, "service": service, "category": category},
        status=form.refused_status,
    )


def _tracked_ticket(token: str) -> Ticket:
    ticket = ticket_for_tracking_token(token)
    if ticket is None:
        raise Http404
    return ticket


SENT_KEY = "portal_sent_ticket"


def sent(request):  # type: ignore[no-untyped-def]
    """What an anonymous visitor just sent: reference, priority and when it is handled, no link."""
    ticket = Ticket.objects.filter(pk=request.session.get(SENT_KEY) or 0).select_related("requester").first()
    if ticket is None:
        return redirect("portal:home")
    return render(request, "portal/confirmation.html", {
        "ticket": ticket, "tracking_url": None, "own_request": False,
        "link_mailed": bool(getattr(settings, "VUORO_REQUESTER_MAIL", False)),
        "expected": expected_handling(ticket, get_language()) if ticket.is_active else None,
    })


def confirmation(request, token):  # type: ignore[no-untyped-def]
    ticket = _tracked_ticket(token)
    tracking_url = request.build_absolute_uri(reverse("portal:track", args=[token]))
    return render(
        request,
        "portal/confirmation.html",
        {
            "ticket": ticket,
            "tracking_url": tracking_url,
            "own_request": request.user.is_authenticated and request.user.pk == ticket.requester_id,
            "expected": expected_handling(ticket, get_language()) if ticket.is_active else None,
        },
    )


def _reply(form: ReplyForm, *, actor: User, ticket: Ticket) -> bool:
    """Add the requester's reply; False with the reasons on the form when it is refused."""
    if not form.is_valid():
        return False
    try:
        message_add(
            actor=actor,
            ticket=ticket,
            body=form.cleaned_data["body"],
            channel=Channel.PORTAL,
            attachments=form.uploads(),
        )
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return False
    return True


def _ticket_context(
    ticket: Ticket, *, viewer: User | AnonymousUser, reply_form: ReplyForm, token: str | None = None
) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "answers": answers_for_display(ticket.category, ticket.form_answers or {}),
        "timeline": ticket_selectors.ticket_timeline(user=viewer, ticket=ticket),
        "attachments": ticket_selectors.ticket_attachments(user=viewer, ticket=ticket).filter(
            message__isnull=True
        ),
        "reply_form": reply_form,
        "token": token,
    }


def track(request, token):  # type: ignore[no-untyped-def]
    """The request behind a tracking link; whoever holds the link acts as its requester."""
    ticket = _tracked_ticket(token)
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and _reply(form, actor=ticket.requester, ticket=ticket):
        messages.success(request, _("Your reply was added."))
        return redirect("portal:track", token=token)
    # The link holder is not signed in as anyone: show what any requester may see.
    context = _ticket_context(ticket, viewer=AnonymousUser(), reply_form=form, token=token)
    return render(request, "portal/track.html", context)


@login_required
def ticket_list(request):  # type: ignore[no-untyped-def]
    if request.user.uses_desk:
        return _to_desk()
    organisation = (
        request.GET.get("scope") == "organisation" and request.user.can_see_organisation_tickets
    )
    try:
        page = ticket_selectors.requester_ticket_list(
            user=request.user,
            organisation=organisation,
            cursor=request.GET.get("after"),
            size=settings.VUORO_PAGE_SIZE,
        )
    except ValueError:
        return HttpResponseBadRequest(_("This page link is not valid. Start from the first page."))
    return render(request, "portal/ticket_list.html", {"page": page, "organisation": organisation})


@login_required
def ticket_detail(request, reference):  # type: ignore[no-untyped-def]
    if request.user.uses_desk:
        return _to_desk()
    ticket = ticket_selectors.ticket_get(user=request.user, reference=reference)
    if ticket is None:
        raise Http404
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and _reply(form, actor=request.user, ticket=ticket):
        messages.success(request, _("Your reply was added."))
        return redirect("portal:ticket", reference=ticket.reference)
    context = _ticket_context(ticket, viewer=request.user, reply_form=form)
    return render(request, "portal/ticket_detail.html", context)
