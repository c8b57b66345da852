"""Business-time arithmetic against a brute-force oracle that steps minute by minute.

Calendars are random (several intervals a weekday, some crossing midnight, Finnish holidays or
none, dated exceptions); instants are drawn from 2025–2027 with extra weight on both DST
changes of each year and on the Finnish holidays that catch people out.
"""

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vuoro.calendars.businesstime import (
    BusinessCalendar,
    CalendarError,
    Interval,
    always_open,
    country_holidays,
    find_overlaps,
)

HELSINKI = ZoneInfo("Europe/Helsinki")
UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DST_DAYS = [dt.date(2025, 3, 30), dt.date(2025, 10, 26), dt.date(2026, 3, 29), dt.date(2026, 10, 25),
            dt.date(2027, 3, 28), dt.date(2027, 10, 31)]
TRICKY_HOLIDAYS = [dt.date(2026, 6, 19), dt.date(2025, 6, 20), dt.date(2027, 6, 25),  # Midsummer Eve
                   dt.date(2026, 12, 24), dt.date(2025, 12, 24),  # Christmas Eve
                   dt.date(2026, 1, 6), dt.date(2027, 1, 6),  # Epiphany
                   dt.date(2026, 5, 14), dt.date(2025, 5, 29),  # Ascension Day
                   dt.date(2026, 10, 31), dt.date(2025, 11, 1)]  # All Saints' Day (Saturday)
FINNISH = country_holidays("FI")


# --- the oracle ------------------------------------------------------------------------------


@functools.cache
def finnish_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(FINNISH(year))


def oracle_intervals(spec, day: dt.date):
    if day in spec["exceptions"]:
        return spec["exceptions"][day]
    if spec["holidays"] and day in finnish_holidays(day.year):
        return ()
    return spec["weekly"].get(day.weekday(), ())


def wall(day: dt.date, seconds: int) -> dt.datetime:
    naive = dt.datetime(day.year, day.month, day.day) + dt.timedelta(seconds=seconds)
    return naive.replace(tzinfo=HELSINKI)


def oracle_open(spec, at: dt.datetime) -> bool:
    local = at.astimezone(HELSINKI).date()
    for day in (local - dt.timedelta(days=1), local):
        for interval in oracle_intervals(spec, day):
            if wall(day, interval.start) <= at < wall(day, interval.end):
                return True
    return False


def oracle_add(spec, start: dt.datetime, minutes: int) -> dt.datetime:
    t, left = start.astimezone(UTC), minutes
    while left > 0:
        if oracle_open(spec, t):
            left -= 1
        t += MINUTE
    return t


def oracle_between(spec, a: dt.datetime, b: dt.datetime) -> int:
    t, count = a.astimezone(UTC), 0
    while t < b:
        count += oracle_open(spec, t)
        t += MINUTE
    return count


# --- strategies ------------------------------------------------------------------------------

QUARTER = 15 * 60


@st.composite
def day_intervals(draw, max_count=2):
    """Up to ``max_count`` non-overlapping intervals on a 15-minute grid; the last may cross midnight."""
    count = draw(st.integers(0, max_count))
    points = sorted(draw(st.lists(st.integers(0, 95), min_size=2 * count, max_size=2 * count, unique=True)))
    intervals = [Interval(points[2 * i] * QUARTER, points[2 * i + 1] * QUARTER) for i in range(count)]
    if intervals and intervals[-1].start >= QUARTER and draw(st.booleans()):
        last = intervals[-1]
        intervals[-1] = Interval(last.start, draw(st.integers(97, 96 + last.start // QUARTER)) * QUARTER)
    return tuple(intervals)


@st.composite
def calendar_specs(draw):
    weekly = {d: draw(day_intervals()) for d in range(7)}
    assume(any(weekly.values()))
    exception_days = draw(st.lists(st.sampled_from(DST_DAYS + TRICKY_HOLIDAYS), max_size=3, unique=True))
    exceptions = {day: draw(day_intervals(max_count=1)) for day in exception_days}
    return {"weekly": weekly, "exceptions": exceptions, "holidays": draw(st.booleans())}


def build(spec) -> BusinessCalendar:
    # A crossing-midnight interval may overlap the next day's early one; the calendar merges them,
    # and the oracle's "any interval contains t" treats them the same way.
    return BusinessCalendar(timezone="Europe/Helsinki", weekly=spec["weekly"],
                            holidays=finnish_holidays if spec["holidays"] else (lambda year: ()),
                            exceptions=spec["exceptions"])


@st.composite
def instants(draw):
    """A minute-aligned instant in 2025–2027, often on a DST night or a tricky holiday."""
    if draw(st.integers(0, 2)) == 0:
        minute = draw(st.integers(0, 3 * 365 * 24 * 60))
        return dt.datetime(2025, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=minute)
    day = draw(st.sampled_from(DST_DAYS + TRICKY_HOLIDAYS))
    offset = draw(st.integers(-24 * 60, 48 * 60))
    return dt.datetime(day.year, day.month, day.day, tzinfo=HELSINKI).astimezone(UTC) + dt.timedelta(minutes=offset)


# --- properties against the oracle -------------------------------------------------------------


@EXAMPLES
@given(calendar_specs(), instants())
def test_is_open_matches_oracle(spec, at):
    assert build(spec).is_open(at) == oracle_open(spec, at)


@EXAMPLES
@given(calendar_specs(), instants(), st.integers(0, 16 * 60))
def test_add_business_time_matches_oracle(spec, start, minutes):
    assert build(spec).add_business_time(start, dt.timedelta(minutes=minutes)) == oracle_add(spec, start, minutes)


@EXAMPLES
@given(calendar_specs(), instants(), st.integers(0, 3 * 24 * 60))
def test_business_time_between_matches_oracle(spec, a, span):
    b = a + dt.timedelta(minutes=span)
    assert build(spec).business_time_between(a, b) == dt.timedelta(minutes=oracle_between(spec, a, b))


@EXAMPLES
@given(calendar_specs(), instants())
def test_next_change_matches_oracle(spec, at):
    cal = build(spec)
    change = cal.next_change(at)
    assume(change is not None and change - at <= dt.timedelta(days=4))
    state = oracle_open(spec, at)
    t = at
    while t < change:
        assert oracle_open(spec, t) == state
        t += MINUTE
    assert oracle_open(spec, change) != state
    opening = cal.next_opening(at)
    assert opening == (at if state else change)


# --- algebra -----------------------------------------------------------------------------------

durations = st.integers(0, 500 * 3600).map(lambda s: dt.timedelta(seconds=s))


@EXAMPLES
@given(calendar_specs(), instants(), durations, durations)
def test_adding_twice_equals_adding_the_sum(spec, t, a, b):
    cal = build(spec)
    assert cal.add_business_time(cal.add_business_time(t, a), b) == cal.add_business_time(t, a + b)


@EXAMPLES
@given(calendar_specs(), instants(), durations)
def test_between_start_and_due_is_the_duration(spec, t, d):
    cal = build(spec)
    assert cal.business_time_between(t, cal.add_business_time(t, d)) == d


@EXAMPLES
@given(calendar_specs(), instants(), instants(), durations, durations)
def test_add_is_monotonic(spec, t1, t2, d1, d2):
    cal = build(spec)
    (t1, t2), (d1, d2) = sorted([t1, t2]), sorted([d1, d2])
    assert cal.add_business_time(t1, d1) <= cal.add_business_time(t2, d1)
    assert cal.add_business_time(t1, d1) <= cal.add_business_time(t1, d2)


# --- explicit examples -------------------------------------------------------------------------

NIGHT = {d: (Interval(0, 8 * 3600),) for d in range(7)}
OFFICE = {d: (Interval.wall(dt.time(8), dt.time(16)),) for d in range(5)}


def h(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HELSINKI)


def test_spring_forward_night_in_helsinki_is_seven_hours():
    cal = BusinessCalendar("Europe/Helsinki", NIGHT)
    assert cal.business_time_between(h(2026, 3, 29, 0), h(2026, 3, 29, 12)) == dt.timedelta(hours=7)
    assert cal.add_business_time(h(2026, 3, 29, 0), dt.timedelta(hours=7)) == h(2026, 3, 29, 8)
    assert cal.add_business_time(h(2026, 3, 29, 2, 30), dt.timedelta(hours=1)) == h(2026, 3, 29, 4, 30)


def test_fall_back_night_in_helsinki_is_nine_hours():
    cal = BusinessCalendar("Europe/Helsinki", NIGHT)
    assert cal.business_time_between(h(2026, 10, 25, 0), h(2026, 10, 25, 12)) == dt.timedelta(hours=9)
    assert cal.add_business_time(h(2026, 10, 25, 0), dt.timedelta(hours=9)) == h(2026, 10, 25, 8)
    # 03:30 happens twice that night; the hour after the first one is the second one.
    first = dt.datetime(2026, 10, 25, 3, 30, tzinfo=HELSINKI, fold=0)
    assert cal.add_business_time(first, dt.timedelta(hours=1)).astimezone(UTC) == dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_night_shift_crossing_midnight_over_dst_change():
    cal = BusinessCalendar("Europe/Helsinki", {5: (Interval.wall(dt.time(22), dt.time(6)),)})
    assert cal.business_time_between(h(2026, 3, 28, 12), h(2026, 3, 29, 12)) == dt.timedelta(hours=7)
    assert cal.business_time_between(h(2026, 10, 24, 12), h(2026, 10, 25, 12)) == dt.timedelta(hours=9)
    assert cal.is_open(h(2026, 3, 29, 1)) and not cal.is_open(h(2026, 3, 29, 6))


@pytest.mark.parametrize("holiday, name", [
    (dt.date(2026, 6, 19), "Midsummer Eve"), (dt.date(2026, 12, 24), "Christmas Eve"),
    (dt.date(2026, 1, 6), "Epiphany"), (dt.date(2026, 5, 14), "Ascension Day"),
])
def test_finnish_weekday_holidays_are_closed(holiday, name):
    cal = BusinessCalendar("Europe/Helsinki", OFFICE, FINNISH)
    assert holiday.weekday() < 5, name
    assert not cal.is_open(h(holiday.year, holiday.month, holiday.day, 10))


def test_all_saints_day_on_saturday_changes_nothing_for_weekday_hours():
    cal = BusinessCalendar("Europe/Helsinki", OFFICE, FINNISH)
    assert dt.date(2026, 10, 31).weekday() == 5
    assert cal.next_opening(h(2026, 10, 30, 17)) == h(2026, 11, 2, 8)


def test_friday_afternoon_request_is_due_next_week_across_holidays():
    cal = BusinessCalendar("Europe/Helsinki", OFFICE, FINNISH)
    # Tuesday 23.12. 15:00 + 2 h: an hour on the 23rd, Christmas Eve to Boxing Day closed,
    # weekend, then Monday 29.12.
    assert cal.add_business_time(h(2025, 12, 23, 15), dt.timedelta(hours=2)) == h(2025, 12, 29, 9)


def test_christmas_eve_exception_opens_eight_to_twelve():
    eve = {dt.date(2026, 12, 24): (Interval.wall(dt.time(8), dt.time(12)),)}
    cal = BusinessCalendar("Europe/Helsinki", OFFICE, FINNISH, eve)
    assert cal.is_open(h(2026, 12, 24, 11, 59)) and not cal.is_open(h(2026, 12, 24, 12))
    assert cal.add_business_time(h(2026, 12, 23, 15), dt.timedelta(hours=3)) == h(2026, 12, 24, 10)


def test_saturday_night_request_is_told_monday_morning():
    cal = BusinessCalendar("Europe/Helsinki", OFFICE, FINNISH)
    assert cal.next_opening(h(2026, 11, 21, 2)) == h(2026, 11, 23, 8)


def test_due_across_new_year_and_years():
    cal = BusinessCalendar("Europe/Helsinki", OFFICE, FINNISH)
    due = cal.add_business_time(h(2026, 12, 31, 15), dt.timedelta(hours=500))
    assert cal.business_time_between(h(2026, 12, 31, 15), due) == dt.timedelta(hours=500)
    assert due.year == 2027


def test_always_open_calendar():
    cal = always_open()
    assert cal.add_business_time(h(2026, 3, 28, 12), dt.timedelta(hours=24)) == h(2026, 3, 29, 13)
    assert cal.next_change(h(2026, 3, 28, 12)) is None
    assert cal.is_open(h(2026, 12, 24, 3))


def test_bad_definitions_are_refused():
    with pytest.raises(CalendarError):
        BusinessCalendar("Mars/Olympus", OFFICE)
    with pytest.raises(CalendarError):
        BusinessCalendar("Europe/Helsinki", {0: (Interval(8 * 3600, 12 * 3600), Interval(11 * 3600, 13 * 3600))})
    with pytest.raises(CalendarError):
        Interval(3600, 3600)
    with pytest.raises(CalendarError):
        country_holidays("XX")
    with pytest.raises(CalendarError):
        BusinessCalendar("Europe/Helsinki", OFFICE).add_business_time(dt.datetime(2026, 1, 1), dt.timedelta(hours=1))
    assert find_overlaps([Interval(0, 3600), Interval(3600, 7200)]) == []


def test_calendar_that_never_opens_says_so():
    closed = BusinessCalendar("Europe/Helsinki", {})
    with pytest.raises(CalendarError):
        closed.add_business_time(h(2026, 1, 1), dt.timedelta(hours=1))
    assert closed.next_opening(h(2026, 1, 1)) is None
