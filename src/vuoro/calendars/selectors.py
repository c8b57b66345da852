"""Compiled business calendars for stored calendar rows, cached per process.

A compiled calendar is rebuilt when its row's ``updated_at`` changes; editing opening hours or
exceptions must therefore touch the calendar row (the admin and services do).
"""

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from vuoro.calendars.businesstime import (
    BusinessCalendar,
    Interval,
    always_open,
    country_holidays,
    no_holidays,
)
from vuoro.calendars.models import Calendar


@lru_cache(maxsize=256)
def _compiled(calendar_id: int, version: dt.datetime | None) -> BusinessCalendar:
    calendar = Calendar.objects.prefetch_related("opening_hours", "exceptions").get(pk=calendar_id)
    return compile_calendar(calendar)


@lru_cache(maxsize=8)
def _always_open(timezone: str) -> BusinessCalendar:
    return always_open(timezone)


def compile_calendar(calendar: Calendar) -> BusinessCalendar:
    """A BusinessCalendar for a (possibly unsaved) calendar and its related rows."""
    if calendar.always_open:
        return always_open(calendar.timezone)
    weekly: dict[int, list[Interval]] = {}
    for row in calendar.opening_hours.all():
        weekly.setdefault(row.weekday, []).append(Interval.wall(row.start, row.end))
    exceptions: dict[dt.date, list[Interval]] = {}
    for row in calendar.exceptions.all():
        day = exceptions.setdefault(row.date, [])
        if not row.closed and row.start is not None and row.end is not None:
            day.append(Interval.wall(row.start, row.end))
    closed_days = {row.date for row in calendar.exceptions.all() if row.closed}
    holidays = (
        country_holidays(calendar.holiday_country, calendar.holiday_subdivision or None)
        if calendar.holiday_country else no_holidays
    )
    return BusinessCalendar(
        timezone=calendar.timezone,
        weekly={d: tuple(v) for d, v in weekly.items()},
        holidays=holidays,
        exceptions={d: () if d in closed_days else tuple(v) for d, v in exceptions.items()},
    )


def business_calendar_for(calendar: Calendar | None, timezone: str = "Europe/Helsinki") -> BusinessCalendar:
    """The compiled calendar of ``calendar``; around the clock when there is none."""
    if calendar is None:
        return _always_open(timezone)
    return _compiled(calendar.pk, calendar.updated_at)


@dataclass(frozen=True)
class CalendarState:
    """Whether a calendar is open at an instant; times are in the calendar's own zone."""

    at: dt.datetime
    open: bool
    next_change: dt.datetime | None
    next_opening: dt.datetime | None


@dataclass(frozen=True)
class DayHours:
    """The opening spans of one local day, clipped to the day."""

    day: dt.date
    spans: list[tuple[dt.datetime, dt.datetime]]


def _local(calendar: Calendar, at: dt.datetime | None) -> dt.datetime | None:
    return None if at is None else at.astimezone(ZoneInfo(calendar.timezone))


def calendar_list() -> QuerySet[Calendar]:
    """Every calendar; they are few and not secret."""
    return Calendar.objects.order_by("name", "id")


def calendar_get(calendar_id: int) -> Calendar | None:
    return Calendar.objects.filter(pk=calendar_id).first()


def calendar_state(calendar: Calendar, at: dt.datetime) -> CalendarState:
    """Open or closed at ``at`` (aware), and when that next changes."""
    compiled = business_calendar_for(calendar)
    is_open = compiled.is_open(at)
    change = compiled.next_change(at)
    opening = at if is_open else change
    return CalendarState(at=_local(calendar, at), open=is_open,  # type: ignore[arg-type]
                         next_change=_local(calendar, change), next_opening=_local(calendar, opening))


def calendar_due(calendar: Calendar, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
    """When ``duration`` of open time has passed since ``start``, in the calendar's zone.

    Raises CalendarError when the calendar does not open for that long within 30 years.
    """
    due = business_calendar_for(calendar).add_business_time(start, duration)
    return _local(calendar, due)  # type: ignore[return-value]


def calendar_week(calendar: Calendar, now: dt.datetime, days: int = 7) -> list[DayHours]:
    """Opening spans of ``days`` local days from today, walked from one state change to the next."""
    compiled = business_calendar_for(calendar)
    zone = ZoneInfo(calendar.timezone)
    today = now.astimezone(zone).date()
    bounds = [dt.datetime.combine(today + dt.timedelta(days=n), dt.time(), zone) for n in range(days + 1)]
    spans = _open_spans(compiled, bounds[0], bounds[-1])
    week = []
    for begin, end in zip(bounds, bounds[1:], strict=False):
        clipped = [(max(s, begin).astimezone(zone), min(e, end).astimezone(zone))
                   for s, e in spans if s < end and e > begin]
        week.append(DayHours(day=begin.date(), spans=clipped))
    return week


def _open_spans(compiled: BusinessCalendar, begin: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    spans = []
    cursor = begin
    is_open = compiled.is_open(cursor)
    while cursor < end:
        change = compiled.next_change(cursor)
        stop = end if change is None or change > end else change
        if is_open:
            spans.append((cursor, stop))
        cursor, is_open = stop, not is_open
    return spans
