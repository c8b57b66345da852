"""A calendar's answers never depend on the questions it answered before.

One compiled calendar serves every request of a web process. It grows its range of compiled
years as questions need it; these properties ask a fresh calendar and one that first answered
questions about other years, and require the same answer (or the same refusal) from both.
"""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_businesstime import EXAMPLES, build, calendar_specs, instants
from vuoro.calendars.businesstime import (
    DAY,
    BusinessCalendar,
    CalendarError,
    Interval,
    always_open,
)

UTC = dt.UTC
years = st.integers(2000, 2100)


def answer(call):
    """The result, or the refusal's message, so both can be compared."""
    try:
        return call()
    except CalendarError as exc:
        return f"refused: {exc}"


def warmed(spec, warm_years):
    calendar = build(spec)
    for year in warm_years:
        at = dt.datetime(year, 6, 1, tzinfo=UTC)
        calendar.is_open(at)
        answer(lambda at=at: calendar.add_business_time(at, dt.timedelta(days=200)))
    return calendar


@EXAMPLES
@given(calendar_specs(), instants(), st.integers(0, 400 * 24 * 60), st.lists(years, max_size=3))
def test_add_business_time_is_the_same_after_other_years(spec, start, minutes, warm_years):
    duration = dt.timedelta(minutes=minutes)
    fresh = answer(lambda: build(spec).add_business_time(start, duration))
    assert answer(lambda: warmed(spec, warm_years).add_business_time(start, duration)) == fresh


@EXAMPLES
@given(calendar_specs(), instants(), st.lists(years, max_size=3))
def test_next_change_is_the_same_after_other_years(spec, at, warm_years):
    assert warmed(spec, warm_years).next_change(at) == build(spec).next_change(at)


def sparse() -> BusinessCalendar:
    """Open one hour a year: on 1 January (no holidays)."""
    return BusinessCalendar("Europe/Helsinki", weekly={},
                            exceptions={dt.date(y, 1, 1): (Interval(8 * 3600, 9 * 3600),)
                                        for y in range(2000, 2140)})


def test_the_thirty_year_limit_counts_from_the_start_not_from_what_was_compiled():
    """The measured case: one web worker had compiled 2000 first and refused what another
    answered. 30 hours on a calendar open an hour a year is due 30 years on."""
    start = dt.datetime(2026, 6, 1, tzinfo=UTC)
    fresh = sparse().add_business_time(start, dt.timedelta(hours=30))
    warm = sparse()
    warm.is_open(dt.datetime(2000, 6, 1, tzinfo=UTC))
    assert warm.add_business_time(start, dt.timedelta(hours=30)) == fresh
    assert fresh.astimezone(UTC).year == 2056
    for calendar in (sparse(), warm):
        with pytest.raises(CalendarError, match="within 30 years"):
            calendar.add_business_time(start, dt.timedelta(hours=31))


def test_next_change_looks_three_years_ahead_whatever_was_compiled():
    start = dt.datetime(2026, 6, 1, tzinfo=UTC)
    warm = sparse()
    warm.add_business_time(start, dt.timedelta(hours=20))  # compiles up to 2046
    for calendar in (sparse(), warm):
        assert calendar.next_change(start) == dt.datetime(2027, 1, 1, 6, tzinfo=UTC)
    rare = {dt.date(2035, 1, 1): (Interval(0, 3600),)}
    for warm_first in (False, True):
        calendar = BusinessCalendar("Europe/Helsinki", weekly={}, exceptions=rare)
        if warm_first:
            calendar.add_business_time(start, dt.timedelta(minutes=30))  # compiles to 2035
        assert calendar.next_change(start) is None


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59),
                    timezones=st.sampled_from([UTC, dt.timezone(dt.timedelta(hours=-1)),
                                               dt.timezone(dt.timedelta(hours=14))])))
def test_any_instant_is_answered_or_refused_never_overflows(at):
    """Instants near year 1 or 9999 are refused with CalendarError, never OverflowError."""
    calendar = always_open()
    for call in (lambda: calendar.is_open(at), lambda: calendar.next_change(at),
                 lambda: calendar.add_business_time(at, dt.timedelta(days=3653)),
                 lambda: calendar.business_time_between(at, at)):
        result = answer(call)
        assert isinstance(result, bool | dt.datetime | dt.timedelta | None) or result.startswith("refused: ")


@pytest.mark.parametrize("at", [
    dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(-dt.timedelta(hours=1))),
    dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    dt.datetime(9999, 12, 31, tzinfo=UTC),
    dt.datetime(1, 1, 2, tzinfo=UTC),
])
def test_extreme_instants_are_refused_with_the_supported_years(at):
    calendar = BusinessCalendar("Europe/Helsinki", weekly={0: (Interval(0, DAY),)})
    with pytest.raises(CalendarError, match="times must lie in the years"):
        calendar.add_business_time(at, dt.timedelta(hours=1))
    with pytest.raises(CalendarError, match="times must lie in the years"):
        calendar.is_open(at)
