"""Compiled business calendars for stored calendar rows, cached per process.

A compiled calendar is rebuilt when its row's ``updated_at`` changes; editing opening hours or
exceptions must therefore touch the calendar row (the admin and services do).
"""

import datetime as dt
from functools import lru_cache

from vuoro.calendars.businesstime import (
    BusinessCalendar,
    Interval,
    always_open,
    country_holidays,
    no_holidays,
)
from vuoro.calendars.models import Calendar

ALWAYS_OPEN_KEY = ("always-open", "Europe/Helsinki")


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
