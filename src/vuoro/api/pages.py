"""Page endpoints: list and read pages, acknowledge one, open one for a ticket.

For the service desk only: requesters get 403. Partners see and acknowledge pages of the
tickets in their scope; other tickets' pages are "not found", as tickets are.
"""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from vuoro.accounts.models import User
from vuoro.api.schemas import ErrorOut, Id, Reference
from vuoro.oncall.models import Schedule
from vuoro.paging import selectors, services
from vuoro.paging.models import AckVia, EscalationPolicy, Page
from vuoro.tickets import access
from vuoro.tickets.selectors import ticket_get

router = Router(tags=["pages"])

ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                   409: ErrorOut, 422: ErrorOut}


class PageEventOut(Schema):
    at: dt.datetime
    kind: str
    detail: str
    user: int | None


class PageOut(Schema):
    id: int
    ticket: str = Field(description="The ticket's reference.")
    status: Literal["triggered", "acknowledged", "resolved"]
    reason: str
    policy: int | None
    cycle: int = Field(description="Pass over the policy's steps, from 0.")
    step_index: int = Field(description="The step due next, from 0.")
    next_escalation_at: dt.datetime | None = Field(description="When the next step fires; null when none will.")
    opened_at: dt.datetime
    opened_by: int | None
    acknowledged_at: dt.datetime | None
    acknowledged_by: int | None
    acknowledged_via: str
    resolved_at: dt.datetime | None
    events: list[PageEventOut] = Field(default_factory=list)


class PageListOut(Schema):
    items: list[PageOut]
    next_cursor: int | None = Field(description="Pass as `after` for the next page of results.")


class PageQuery(Schema):
    status: Literal["triggered", "acknowledged", "resolved"] | None = None
    limit: int = Field(50, ge=1, le=200)
    after: Id | None = None


class PageOpenIn(Schema):
    reason: str = Field("", max_length=300)
    user: Id | None = Field(None, description="Page this person.")
    schedule: Id | None = Field(None, description="Page whoever is on call in this schedule.")
    policy: Id | None = Field(None, description="Page through this escalation policy. "
                              "Default: the policy of the service's out-of-hours coverage.")


def _present(page: Page, with_events: bool = False) -> dict[str, Any]:
    return {
        "id": page.pk, "ticket": page.ticket.reference, "status": page.status, "reason": page.reason,
        "policy": page.policy_id, "cycle": page.cycle, "step_index": page.step_index,
        "next_escalation_at": page.next_escalation_at, "opened_at": page.opened_at,
        "opened_by": page.opened_by_id, "acknowledged_at": page.acknowledged_at,
        "acknowledged_by": page.acknowledged_by_id, "acknowledged_via": page.acknowledged_via,
        "resolved_at": page.resolved_at,
        "events": [{"at": e.at, "kind": e.kind, "detail": e.detail, "user": e.user_id}
                   for e in page.events.all()] if with_events else [],
    }


def _desk_user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    if not user.uses_desk:
        raise PermissionDenied(_("Pages are for the service desk."))
    return user


def _page(user: User, page_id: int) -> Page:
    page = selectors.page_get(user=user, page_id=page_id)
    if page is None:
        raise Http404
    return page


@router.get("/pages", response={200: PageListOut, **ERRORS}, summary="List pages")
def list_pages(request: HttpRequest, query: Query[PageQuery]) -> Any:
    """Pages of the tickets the caller may work on, newest first."""
    user = _desk_user(request)
    items = selectors.pages_list(user=user, status=query.status, after_id=query.after, limit=query.limit)
    more = len(items) == query.limit
    return {"items": [_present(p) for p in items], "next_cursor": items[-1].pk if more else None}


@router.get("/pages/{page_id}", response={200: PageOut, **ERRORS}, summary="Read a page")
def get_page(request: HttpRequest, page_id: Path[Id]) -> Any:
    return _present(_page(_desk_user(request), page_id), with_events=True)


@router.post("/pages/{page_id}/acknowledge", response={200: PageOut, **ERRORS},
             summary="Acknowledge a page")
def acknowledge_page(request: HttpRequest, page_id: Path[Id]) -> Any:
    """Stops the escalation. A page already acknowledged or resolved is a 409; nothing changes."""
    user = _desk_user(request)
    page = _page(user, page_id)
    try:
        page = services.page_acknowledge(page=page, user=user, via=AckVia.API)
    except ValidationError as exc:
        return Status(409, {"detail": " ".join(exc.messages)})
    return _present(_page(user, page.pk), with_events=True)


def _open_target(payload: PageOpenIn) -> dict[str, Any]:
    chosen = [name for name in ("user", "schedule", "policy") if getattr(payload, name) is not None]
    if len(chosen) > 1:
        raise ValidationError({chosen[1]: [_("Choose one of person, schedule or policy.")]})
    targets: dict[str, Any] = {}
    models: dict[str, Any] = {"user": User.objects.filter(is_active=True), "schedule": Schedule.objects,
                              "policy": EscalationPolicy.objects}
    for name in chosen:
        found = models[name].filter(pk=getattr(payload, name)).first()
        if found is None:
            raise ValidationError({name: [_("There is no such %(thing)s.") % {"thing": name}]})
        targets[name] = found
    return targets


@router.post("/tickets/{reference}/pages", response={201: PageOut, 200: PageOut, **ERRORS},
             summary="Open a page for a ticket")
def open_page(request: HttpRequest, reference: Path[Reference], payload: PageOpenIn) -> Any:
    """Returns the ticket's active page with 200 if one is open already."""
    user = _desk_user(request)
    ticket = ticket_get(user=user, reference=reference)
    if ticket is None:
        raise Http404
    if not access.can_work_on(user, ticket):
        raise PermissionDenied
    already = set(Page.objects.filter(ticket=ticket).values_list("pk", flat=True))
    page = services.page_open(ticket=ticket, opened_by=user, reason=payload.reason,
                              **_open_target(payload))
    return Status(200 if page.pk in already else 201, _present(_page(user, page.pk), with_events=True))
