"""Calendar endpoints: the service-hours calendars, whether one is open, and due dates on it.

Any signed-in caller may read calendars; service hours are not secret. Times in answers are
in the calendar's own zone, as ISO 8601 with the offset in force at that instant.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from vuoro.api.schemas import ErrorOut, Id
from vuoro.calendars import selectors
from vuoro.calendars.businesstime import CalendarError
from vuoro.calendars.inputs import parse_duration, parse_instant
from vuoro.calendars.models import Calendar

router = Router(tags=["calendars"])

ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
INSTANT = "ISO 8601 date and time with an offset, e.g. 2026-03-29T08:00+03:00 (URL-encode the +)."


class CalendarOut(Schema):
    id: int
    name: str
    timezone: str = Field(description="IANA time zone the hours are written in.")
    always_open: bool = Field(description="Open around the clock.")
    holiday_country: str = Field(description="Public holidays of this country close the calendar; empty: none.")
    holiday_subdivision: str = Field(description="Region for regional holidays; usually empty.")


class StateQuery(Schema):
    at: str | None = Field(None, max_length=64, description=INSTANT + " Default: now.",
                           json_schema_extra={"format": "date-time"})


class StateOut(Schema):
    calendar: int
    at: dt.datetime = Field(description="The instant asked about, in the calendar's zone.")
    open: bool
    next_change: dt.datetime | None = Field(description="When it next opens or closes; null if not within three years.")
    next_opening: dt.datetime | None = Field(description="`at` itself when open, else the next opening.")
    timezone: str


class DueQuery(Schema):
    start: str | None = Field(None, max_length=64, description=INSTANT + " Default: now.",
                              json_schema_extra={"format": "date-time"})
    duration: str = Field(max_length=64, description="Business time to add: ISO 8601 (PT8H, P2DT4H, P1W) "
                          "or seconds; at most ten years.", examples=["PT8H"])


class DueOut(Schema):
    calendar: int
    start: dt.datetime = Field(description="The start, in the calendar's zone.")
    duration_seconds: float
    due: dt.datetime = Field(description="When that much open time has passed, in the calendar's zone.")
    timezone: str


def _calendar(calendar_id: int) -> Calendar:
    calendar = selectors.calendar_get(calendar_id)
    if calendar is None:
        raise Http404
    return calendar


def _instant(value: str | None, field: str) -> dt.datetime:
    return dt.datetime.now(dt.UTC) if value is None else parse_instant(value, field)


@router.get("/calendars", response={200: list[CalendarOut], **ERRORS}, summary="List calendars")
def list_calendars(request: HttpRequest) -> Any:
    return list(selectors.calendar_list())


@router.get("/calendars/{calendar_id}/state", response={200: StateOut, **ERRORS},
            summary="Is a calendar open at an instant")
def calendar_state(request: HttpRequest, calendar_id: Path[Id], query: Query[StateQuery]) -> Any:
    calendar = _calendar(calendar_id)
    state = selectors.calendar_state(calendar, _instant(query.at, "at"))
    return {"calendar": calendar.pk, "at": state.at, "open": state.open, "next_change": state.next_change,
            "next_opening": state.next_opening, "timezone": calendar.timezone}


@router.get("/calendars/{calendar_id}/due", response={200: DueOut, **ERRORS},
            summary="Add business time on a calendar")
def calendar_due(request: HttpRequest, calendar_id: Path[Id], query: Query[DueQuery]) -> Any:
    """The due date of a target of ``duration`` business time started at ``start``."""
    calendar = _calendar(calendar_id)
    start = _instant(query.start, "start")
    duration = parse_duration(query.duration, "duration")
    try:
        due = selectors.calendar_due(calendar, start, duration)
    except CalendarError:
        raise ValidationError({"duration": [_("The calendar is not open that long within 30 years.")]}) from None
    return {"calendar": calendar.pk, "start": start.astimezone(due.tzinfo), "duration_seconds": duration.total_seconds(),
            "due": due, "timezone": calendar.timezone}
