"""Acknowledging a page from the desk, and from the signed link in the notification.

The link needs no sign-in: the signed token is the credential. GET shows what is being
acknowledged and one button; POST acknowledges. An expired link is 410, a forged one 400 and
one for a page no longer waiting 409, each an HTML page that says so; nothing changes.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vuoro.accounts.models import User
from vuoro.paging import selectors, services
from vuoro.paging.links import LinkExpired, LinkForged, read_ack_token
from vuoro.paging.models import AckVia, Page, PageStatus
from vuoro.tickets import access


def _refusal(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    return render(request, "paging/ack.html", {"refused": True, "title": title, "text": text},
                  status=status)


def _claimed(token: str) -> tuple[Page, User]:
    """The page and person the token is for; raises LinkExpired or LinkForged."""
    claim = read_ack_token(token)
    page = Page.objects.select_related("ticket__service").filter(pk=claim.page_id).first()
    person = User.objects.filter(pk=claim.user_id, is_active=True).first()
    if page is None or person is None or page.ack_nonce != claim.nonce:
        raise LinkForged
    return page, person


@require_http_methods(["GET", "POST"])
def acknowledge_by_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        page, person = _claimed(token)
    except LinkExpired:
        return _refusal(request, 410, _("This link has expired"),
                        _("Acknowledgement links work for a limited time. Acknowledge the page "
                          "at the service desk instead."))
    except LinkForged:
        return _refusal(request, 400, _("This link is not valid"),
                        _("The link is incomplete or was not made by this service desk."))
    if page.status != PageStatus.TRIGGERED:
        return _already(request, page)
    if request.method == "POST":
        try:
            page = services.page_acknowledge(page=page, user=person, via=AckVia.LINK)
        except ValidationError:
            page.refresh_from_db()
            return _already(request, page)
        return render(request, "paging/ack.html", {"page": page, "person": person, "done": True})
    return render(request, "paging/ack.html", {"page": page, "person": person})


def _already(request: HttpRequest, page: Page) -> HttpResponse:
    if page.status == PageStatus.ACKNOWLEDGED:
        who = page.acknowledged_by.display_name() if page.acknowledged_by else "—"
        text = _("%(reference)s was already acknowledged by %(person)s.") % {
            "reference": page.ticket.reference, "person": who}
        return _refusal(request, 409, _("Already acknowledged"), text)
    return _refusal(request, 409, _("No longer active"),
                    _("%(reference)s is resolved; there is nothing to acknowledge.")
                    % {"reference": page.ticket.reference})


@login_required
@require_POST
def acknowledge_at_desk(request: HttpRequest, page_id: int) -> HttpResponse:
    page = selectors.page_get(user=request.user, page_id=page_id)  # type: ignore[arg-type]
    if page is None:
        raise Http404
    try:
        services.page_acknowledge(page=page, user=request.user, via=AckVia.DESK)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Page acknowledged."))
    return redirect("desk:ticket", reference=page.ticket.reference)


@login_required
@require_http_methods(["GET", "POST"])
def open_at_desk(request: HttpRequest, reference: str) -> HttpResponse:
    """Page the service's escalation policy for a ticket (the desk's "Page on-call" button).

    Whether the ticket exists is decided before the method, so an outsider learns nothing.
    """
    from vuoro.tickets.selectors import ticket_get

    ticket = ticket_get(user=request.user, reference=reference)  # type: ignore[arg-type]
    if ticket is None:
        raise Http404
    if not access.can_work_on(request.user, ticket):  # type: ignore[arg-type]
        raise PermissionDenied
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.page_open(ticket=ticket, opened_by=request.user,  # type: ignore[arg-type]
                           reason=request.POST.get("reason", "").strip()[:300])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Page opened."))
    return redirect("desk:ticket", reference=ticket.reference)
