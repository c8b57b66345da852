"""Ticket endpoints: create, list, read, change, messages, history and attachments.

Thin by design: parse, call one service or selector, present. Access is decided by the
selectors (what the caller sees) and the services (what the caller may change).
"""

from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Header, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from vuoro.accounts.models import Role, Team, User
from vuoro.accounts.selectors import user_find
from vuoro.api import presenters
from vuoro.api.catalog import category_for_intake, service_for_intake
from vuoro.api.schemas import (
    AttachmentOut,
    ErrorOut,
    EventOut,
    Id,
    MessageIn,
    MessageOut,
    PriorityValue,
    Reference,
    Slug,
    StatusValue,
    TicketChangeIn,
    TicketCreateIn,
    TicketOut,
    TicketPageOut,
)
from vuoro.catalog.models import Category, Service
from vuoro.core.http import client_ip
from vuoro.tickets import selectors, services
from vuoro.tickets.attachments import check_uploads
from vuoro.tickets.models import Channel, Ticket

router = Router(tags=["tickets"])

ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                   422: ErrorOut}


def _visible_ticket(user: User, reference: str) -> Ticket:
    """The ticket if the caller may see it; a 404 otherwise, whether or not it exists."""
    ticket = selectors.ticket_get(user=user, reference=reference)
    if ticket is None:
        raise Http404
    return ticket


def _read_ticket(request: HttpRequest, reference: str, view: str) -> Ticket:
    """``_visible_ticket`` for reads; a partner agent's read is written to the access log."""
    from vuoro.partner.services import partner_access_log

    user: User = request.auth  # type: ignore[attr-defined]
    ticket = _visible_ticket(user, reference)
    partner_access_log(user=user, ticket=ticket, view=view, ip=client_ip(request))
    return ticket


def _requester_for(actor: User, identifier: int | str | None) -> User:
    """Whom the request is for: the caller, or (for agents and admins) someone named.

    Only the roles that see the user register may name another requester; everyone else is
    refused the same way whether the person exists or not, so the register cannot be probed.
    """
    if identifier is None:
        return actor
    if actor.role not in (Role.AGENT, Role.ADMIN):
        if _names(actor, identifier):
            return actor
        raise PermissionDenied(_("Only the service desk can make requests on behalf of someone else."))
    requester = user_find(identifier)
    if requester is None:
        raise ValidationError({"requester": [_("There is no active user with this id or email.")]})
    return requester


def _names(person: User, identifier: int | str) -> bool:
    if isinstance(identifier, int):
        return identifier == person.pk
    return bool(person.email) and identifier.strip().lower() == person.email.lower()


@router.post("/tickets", response={201: TicketOut, 200: TicketOut, **ERRORS},
             summary="Create a ticket")
def create_ticket(request: HttpRequest, payload: TicketCreateIn, response: HttpResponse,
                  idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200)) -> Any:
    """A repeat with the same ``Idempotency-Key`` returns the first ticket with 200."""
    actor: User = request.auth  # type: ignore[attr-defined]
    service = service_for_intake(payload.service)
    category = category_for_intake(service, payload.category)
    result = services.ticket_create(
        actor=actor, requester=_requester_for(actor, payload.requester), service=service,
        category=category, subject=payload.subject, description=payload.description,
        stops_work=payload.stops_work, affected=payload.affected, channel=Channel.API,
        form_answers=payload.form_answers, idempotency_key=idempotency_key or None,
    )
    if not result.created:
        response["Idempotent-Replayed"] = "true"
    return Status(201 if result.created else 200, presenters.ticket_detail(result.ticket, actor))


class TicketQuery(Schema):
    status: list[StatusValue] = Field(default_factory=list)
    priority: list[PriorityValue] = Field(default_factory=list)
    service: Slug | None = None
    team: Id | None = None
    assignee: Id | None = None
    organisation: Id | None = None
    q: str = Field("", max_length=200, pattern=r"^[^\x00]*$", description="Full-text search.")
    queue: Literal["mine", "teams", "unassigned", "all"] = "all"
    include_closed: bool = False
    sort: Literal["newest", "oldest", "priority", "updated"] = "newest"
    limit: int = Field(50, ge=1, le=200)
    after: str | None = Field(None, max_length=1000, description="next_cursor of the previous page.")


def _filters(user: User, query: TicketQuery) -> selectors.TicketFilters:
    service_id = None
    if query.service:
        service_id = service_for_intake(query.service).pk
    return selectors.TicketFilters(
        queue=query.queue, status=list(query.status), priority=list(query.priority),
        service_id=service_id, team_id=query.team, assignee_id=query.assignee,
        organisation_id=query.organisation, text=query.q, include_closed=query.include_closed,
    )


@router.get("/tickets", response={200: TicketPageOut, **ERRORS}, summary="List tickets")
def list_tickets(request: HttpRequest, query: Query[TicketQuery]) -> Any:
    """Tickets the caller may see, newest first by default; follow ``next_cursor`` for more."""
    user: User = request.auth  # type: ignore[attr-defined]
    try:
        page = selectors.ticket_list(user=user, filters=_filters(user, query), sort=query.sort,
                                     cursor=query.after, size=query.limit)
    except ValueError:
        raise ValidationError({"after": [_("This cursor is not valid; start from the first page.")]}) from None
    from vuoro.partner.services import partner_access_log_many

    partner_access_log_many(user=user, tickets=list(page.items), view="api_list", ip=client_ip(request))
    refs = selectors.ticket_catalog_refs(tickets=page.items)
    items = [presenters.ticket_summary(t, user, refs.get(t.pk, {})) for t in page.items]
    return {"items": items, "next_cursor": page.next_cursor}


@router.get("/tickets/{reference}", response={200: TicketOut, **ERRORS}, summary="Read a ticket")
def get_ticket(request: HttpRequest, reference: Path[Reference]) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    return presenters.ticket_detail(_read_ticket(request, reference, "api_ticket"), user)


def _changes(payload: TicketChangeIn, ticket: Ticket) -> dict[str, Any]:
    """The fields sent, with ids and short names turned into rows (null clears team, assignee
    and category)."""
    changes = payload.dict(exclude_unset=True)
    errors: dict[str, list[str]] = {}
    if "service" in changes:
        changes["service"] = Service.objects.filter(slug=changes["service"] or "").first()
        if changes["service"] is None:
            errors["service"] = [_("There is no service with this short name.")]
    if changes.get("category") is not None:
        service = changes.get("service") or ticket.service
        changes["category"] = Category.objects.filter(service=service, slug=changes["category"]).first()
        if changes["category"] is None:
            errors["category"] = [_("The service has no category with this short name.")]
    if changes.get("team") is not None:
        changes["team"] = Team.objects.filter(pk=changes["team"]).first()
        if changes["team"] is None:
            errors["team"] = [_("There is no such team.")]
    if changes.get("assignee") is not None:
        changes["assignee"] = User.objects.filter(pk=changes["assignee"]).first()
        if changes["assignee"] is None:
            errors["assignee"] = [_("This person cannot be assigned tickets.")]
    for field in ("status", "priority", "impact", "urgency"):
        if field in changes and changes[field] is None:
            errors[field] = [_("This field cannot be empty.")]
    if errors:
        raise ValidationError(errors)
    return changes


@router.patch("/tickets/{reference}", response={200: TicketOut, **ERRORS}, summary="Change a ticket")
def change_ticket(request: HttpRequest, payload: TicketChangeIn, reference: Path[Reference]) -> Any:
    """Status, priority, impact, urgency, service, category, team and assignee; the service
    desk only."""
    user: User = request.auth  # type: ignore[attr-defined]
    ticket = _visible_ticket(user, reference)
    if not user.uses_desk:
        raise PermissionDenied(_("You cannot change this ticket."))
    services.ticket_change(actor=user, ticket=ticket, **_changes(payload, ticket))
    return presenters.ticket_detail(_read_ticket(request, reference, "api_change"), user)


@router.get("/tickets/{reference}/messages", response={200: list[MessageOut], **ERRORS},
            summary="List messages")
def list_messages(request: HttpRequest, reference: Path[Reference]) -> Any:
    """Public replies; internal notes too for the service desk."""
    user: User = request.auth  # type: ignore[attr-defined]
    timeline = selectors.ticket_timeline(user=user, ticket=_read_ticket(request, reference, "api_messages"))
    return [presenters.message(e.item) for e in timeline if e.kind == "message"]


@router.post("/tickets/{reference}/messages", response={201: MessageOut, **ERRORS},
             summary="Reply or add an internal note")
def add_message(request: HttpRequest, payload: MessageIn, reference: Path[Reference]) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    ticket = _visible_ticket(user, reference)
    message = services.message_add(actor=user, ticket=ticket, body=payload.body,
                                   internal=payload.internal, channel=Channel.API)
    return Status(201, presenters.message(message))


@router.get("/tickets/{reference}/events", response={200: list[EventOut], **ERRORS},
            summary="Ticket history")
def list_events(request: HttpRequest, reference: Path[Reference]) -> Any:
    """Who changed what and when; desk-only history is hidden from requesters."""
    user: User = request.auth  # type: ignore[attr-defined]
    timeline = selectors.ticket_timeline(user=user, ticket=_read_ticket(request, reference, "api_events"))
    return [presenters.event(e.item) for e in timeline if e.kind == "event"]


@router.get("/tickets/{reference}/attachments", response={200: list[AttachmentOut], **ERRORS},
            summary="List attachments")
def list_attachments(request: HttpRequest, reference: Path[Reference]) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    ticket = _read_ticket(request, reference, "api_attachments")
    return [presenters.attachment(a) for a in selectors.ticket_attachments(user=user, ticket=ticket)]


@router.post("/tickets/{reference}/attachments", response={201: list[AttachmentOut], **ERRORS},
             summary="Upload attachments")
def upload_attachments(request: HttpRequest, reference: Path[Reference],
                       files: File[list[UploadedFile]], internal: Form[bool] = False) -> Any:
    """Multipart upload; every file is checked for size and type before any is stored."""
    user: User = request.auth  # type: ignore[attr-defined]
    ticket = _visible_ticket(user, reference)
    uploads = check_uploads(list(files))
    stored = services.attachment_add(actor=user, ticket=ticket, uploads=uploads, internal=internal)
    return Status(201, [presenters.attachment(a) for a in stored])


@router.get("/attachments/{attachment_id}", response={200: None, **ERRORS},
            summary="Download an attachment", openapi_extra={
                "responses": {"200": {"description": "The file.",
                                      "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}})
def download_attachment(request: HttpRequest, attachment_id: Path[Id]) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    item = selectors.attachment_get(user=user, attachment_id=attachment_id)
    if item is None:
        raise Http404
    from vuoro.partner.services import partner_access_log

    partner_access_log(user=user, ticket=item.ticket, view="attachment", ip=client_ip(request))
    response = FileResponse(item.file.open("rb"), as_attachment=True, filename=item.filename,
                            content_type=item.content_type)
    response["Content-Length"] = str(item.size)
    return response
