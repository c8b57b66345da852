"""Caller look-up by phone number, for the service desk (requesters get 403).

Partners get no customer register: the caller is never named to them, and they see only the
tickets in their scope and the calls on those tickets.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from vuoro.accounts.models import User
from vuoro.api.schemas import ErrorOut
from vuoro.telephony.selectors import lookup

router = Router(tags=["calls"])


class LookupQuery(Schema):
    number: str = Field(min_length=1, max_length=40, description="Any common form; read as E.164.")


class CallerOut(Schema):
    id: int
    name: str
    organisation: str | None


class TicketBrief(Schema):
    reference: str
    subject: str
    status: str
    created_at: dt.datetime


class CallOut(Schema):
    id: int
    started_at: dt.datetime
    direction: str
    outcome: str
    duration_seconds: int
    reason: str
    ticket: str | None = Field(description="The ticket's reference.")


class LookupOut(Schema):
    number: str | None = Field(description="The number in E.164; null when it is not a phone number.")
    caller: CallerOut | None
    tickets: list[TicketBrief]
    calls: list[CallOut]


@router.get("/calls/lookup", response={200: LookupOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
            summary="Look a caller up by number")
def calls_lookup(request: HttpRequest, query: Query[LookupQuery]) -> Any:
    """The caller with this number and their recent tickets and calls, as far as the caller of
    the API may see them."""
    user: User = request.auth  # type: ignore[attr-defined]
    if not user.uses_desk:
        raise PermissionDenied(_("Caller look-up is for the service desk."))
    found = lookup(user=user, raw_number=query.number)
    caller = found.caller
    return {
        "number": found.number,
        "caller": None if caller is None else {
            "id": caller.pk, "name": caller.get_full_name() or caller.username,
            "organisation": str(caller.organisation) if caller.organisation_id else None},
        "tickets": [{"reference": t.reference, "subject": t.subject, "status": t.status,
                     "created_at": t.created_at} for t in found.tickets],
        "calls": [{"id": c.pk, "started_at": c.started_at, "direction": c.direction, "outcome": c.outcome,
                   "duration_seconds": c.duration_seconds, "reason": c.reason,
                   "ticket": c.ticket.reference if c.ticket_id else None} for c in found.calls],
    }
