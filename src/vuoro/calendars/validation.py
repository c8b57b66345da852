"""Checks on a calendar definition before it is stored: every rule in one place.

``check_calendar`` answers for a whole definition (the calendar row, its weekly opening hours
and its exceptions) with messages per field, so any editor (the admin, a desk page, an import)
can show them and store nothing. The admin calls the parts it needs from each of its forms:
``check_calendar_fields`` for the calendar row, ``check_opening_row``/``check_exception_row``
per inline row, ``check_opening_overlaps``/``check_exception_dates`` across the rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol
from zoneinfo import available_timezones

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from vuoro.calendars.businesstime import CalendarError, Interval, country_holidays, find_overlaps
from vuoro.calendars.weekdays import Weekday

FIRST_YEAR = 2000
LAST_YEAR = 2100
MIDNIGHT = dt.time(0, 0)

Errors = dict[str, list[str]]


class CalendarFields(Protocol):
    timezone: str
    holiday_country: str
    holiday_subdivision: str


class OpeningRow(Protocol):
    weekday: int
    start: dt.time | None
    end: dt.time | None


class ExceptionRow(Protocol):
    date: dt.date | None
    closed: bool
    start: dt.time | None
    end: dt.time | None


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def interval_of(start: dt.time, end: dt.time) -> Interval:
    """The interval a row means: 00:00–00:00 is the whole day, an earlier end is the next day.

    Any other row that starts and ends at the same time is ambiguous and refused.
    """
    if start == end and start != MIDNIGHT:
        raise CalendarError("an interval must not start and end at the same time")
    return Interval.wall(start, end)


def _same_time_message() -> str:
    return _("Opening and closing times are the same. Write 00:00–00:00 for a whole day, "
             "or tick “open around the clock” for 24/7.")


def check_calendar_fields(calendar: CalendarFields) -> Errors:
    """Time zone, holiday country and region must be ones the arithmetic knows."""
    errors: Errors = {}
    if calendar.timezone not in _known_zones():
        errors["timezone"] = [_("Unknown time zone “%(zone)s”. Use a name such as Europe/Helsinki.")
                              % {"zone": calendar.timezone}]
    country = (calendar.holiday_country or "").strip()
    region = (calendar.holiday_subdivision or "").strip()
    if region and not country:
        errors["holiday_subdivision"] = [_("A region needs a country for its public holidays.")]
    elif country:
        try:
            country_holidays(country, region or None)
        except CalendarError:
            key = "holiday_subdivision" if region and _country_known(country) else "holiday_country"
            errors[key] = [_("No public holidays are known for “%(name)s”.")
                           % {"name": region if key == "holiday_subdivision" else country}]
    return errors


def _country_known(country: str) -> bool:
    try:
        country_holidays(country)
    except CalendarError:
        return False
    return True


def check_opening_row(row: OpeningRow) -> list[str]:
    """One weekly interval on its own."""
    if row.start is None or row.end is None:
        return [_("Give both the opening and the closing time.")]
    if row.start == row.end and row.start != MIDNIGHT:
        return [_same_time_message()]
    return []


def check_exception_row(row: ExceptionRow) -> list[str]:
    """One dated exception on its own: closed all day, or open at both given hours."""
    errors = []
    if row.date is not None and not FIRST_YEAR <= row.date.year <= LAST_YEAR:
        errors.append(_("The date must be between the years %(first)d and %(last)d.")
                      % {"first": FIRST_YEAR, "last": LAST_YEAR})
    has_hours = row.start is not None or row.end is not None
    if row.closed and has_hours:
        errors.append(_("A date closed all day has no hours; clear the hours or untick “closed all day”."))
    elif not row.closed and (row.start is None or row.end is None):
        errors.append(_("Give both the opening and the closing time, or tick “closed all day”."))
    elif not row.closed and row.start == row.end and row.start != MIDNIGHT:
        errors.append(_same_time_message())
    return errors


def _clock(seconds: int) -> str:
    seconds %= 86_400
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _overlap_pairs(rows: list[tuple[dt.time, dt.time]]) -> list[str]:
    intervals = []
    for start, end in rows:
        try:
            intervals.append(interval_of(start, end))
        except CalendarError:
            continue  # reported by the row check
    return [f"{_clock(a.start)}–{_clock(a.end)} / {_clock(b.start)}–{_clock(b.end)}"
            for a, b in find_overlaps(intervals)]


def check_opening_overlaps(rows: Iterable[OpeningRow]) -> list[str]:
    """Intervals of one weekday may not overlap; one running into the next day merges with it."""
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = defaultdict(list)
    for row in rows:
        if row.start is not None and row.end is not None:
            by_day[row.weekday].append((row.start, row.end))
    errors = []
    for weekday in sorted(by_day):
        for pair in _overlap_pairs(by_day[weekday]):
            errors.append(_("Opening hours overlap on %(day)s: %(pair)s.")
                          % {"day": Weekday(weekday).label, "pair": pair})
    return errors


def check_exception_dates(rows: Iterable[ExceptionRow]) -> list[str]:
    """Per date: closed all day or open at some hours, not both; hours may not overlap."""
    closed: set[dt.date] = set()
    hours: dict[dt.date, list[tuple[dt.time, dt.time]]] = defaultdict(list)
    for row in rows:
        if row.date is None:
            continue
        if row.closed:
            closed.add(row.date)
        elif row.start is not None and row.end is not None:
            hours[row.date].append((row.start, row.end))
    errors = []
    for day in sorted(closed & hours.keys()):
        errors.append(_("%(date)s is both closed all day and open at some hours; keep one.")
                      % {"date": date_format(day, "SHORT_DATE_FORMAT")})
    for day in sorted(hours):
        for pair in _overlap_pairs(hours[day]):
            errors.append(_("Exception hours overlap on %(date)s: %(pair)s.")
                          % {"date": date_format(day, "SHORT_DATE_FORMAT"), "pair": pair})
    return errors


def check_calendar(calendar: CalendarFields, opening_rows: Iterable[OpeningRow],
                   exception_rows: Iterable[ExceptionRow]) -> Errors:
    """Every problem with a calendar definition, as field → messages; empty when it may be stored."""
    opening_rows, exception_rows = list(opening_rows), list(exception_rows)
    errors = check_calendar_fields(calendar)
    opening = [m for row in opening_rows for m in _described(row, check_opening_row(row))]
    opening += check_opening_overlaps(opening_rows)
    exceptions = [m for row in exception_rows for m in _described(row, check_exception_row(row))]
    exceptions += check_exception_dates(exception_rows)
    if opening:
        errors["opening_hours"] = opening
    if exceptions:
        errors["exceptions"] = exceptions
    return errors


def _described(row: OpeningRow | ExceptionRow, messages: list[str]) -> list[str]:
    """Row messages prefixed with the row they are about, for a list outside a form."""
    if isinstance(getattr(row, "weekday", None), int):
        label = str(Weekday(row.weekday).label)  # type: ignore[union-attr]
    elif getattr(row, "date", None) is not None:
        label = date_format(row.date, "SHORT_DATE_FORMAT")  # type: ignore[union-attr]
    else:
        label = "?"
    return [f"{label}: {message}" for message in messages]
