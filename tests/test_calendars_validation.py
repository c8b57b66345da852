"""Calendar definitions are checked as a whole: each rule, with a message a person can act on."""

import datetime as dt

import pytest
from django.utils import translation

from vuoro.calendars.models import Calendar, CalendarException, OpeningHours
from vuoro.calendars.validation import check_calendar


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def calendar(**fields) -> Calendar:
    return Calendar(name="Test", **{"timezone": "Europe/Helsinki", "holiday_country": "FI", **fields})


def hours(weekday: int, start: str, end: str) -> OpeningHours:
    return OpeningHours(weekday=weekday, start=t(start), end=t(end))


def exception(day: str, *, closed: bool = False, start: str | None = None, end: str | None = None):
    return CalendarException(date=dt.date.fromisoformat(day), closed=closed,
                             start=t(start) if start else None, end=t(end) if end else None)


def test_a_sound_calendar_has_no_errors():
    rows = [hours(0, "08:00", "16:00"), hours(0, "22:00", "06:00"), hours(1, "00:00", "04:00")]
    extra = [exception("2026-12-24", start="08:00", end="12:00"), exception("2026-12-31", closed=True)]
    assert check_calendar(calendar(), rows, extra) == {}


def test_unknown_time_zone_is_refused():
    errors = check_calendar(calendar(timezone="Europe/Helsingfors"), [], [])
    assert errors == {"timezone": ["Unknown time zone “Europe/Helsingfors”. Use a name such as Europe/Helsinki."]}


def test_unknown_holiday_country_is_refused():
    errors = check_calendar(calendar(holiday_country="XX"), [], [])
    assert errors == {"holiday_country": ["No public holidays are known for “XX”."]}


def test_unknown_holiday_region_is_refused_on_the_region():
    errors = check_calendar(calendar(holiday_subdivision="99"), [], [])
    assert errors == {"holiday_subdivision": ["No public holidays are known for “99”."]}


def test_a_region_without_a_country_is_refused():
    errors = check_calendar(calendar(holiday_country="", holiday_subdivision="01"), [], [])
    assert errors == {"holiday_subdivision": ["A region needs a country for its public holidays."]}


def test_midnight_to_midnight_is_the_whole_day():
    assert check_calendar(calendar(), [hours(5, "00:00", "00:00")], []) == {}


def test_other_zero_length_hours_are_refused_with_a_hint():
    errors = check_calendar(calendar(), [hours(2, "08:00", "08:00")], [])
    assert len(errors["opening_hours"]) == 1
    assert errors["opening_hours"][0].startswith("Wednesday: Opening and closing times are the same.")
    assert "open around the clock" in errors["opening_hours"][0]


def test_overlapping_hours_on_one_weekday_are_refused():
    errors = check_calendar(calendar(), [hours(0, "08:00", "12:00"), hours(0, "11:00", "16:00")], [])
    assert errors == {"opening_hours": ["Opening hours overlap on Monday: 08:00–12:00 / 11:00–16:00."]}


def test_a_night_interval_overlapping_the_evening_of_its_own_day_is_refused():
    errors = check_calendar(calendar(), [hours(4, "20:00", "23:00"), hours(4, "22:00", "06:00")], [])
    assert errors == {"opening_hours": ["Opening hours overlap on Friday: 20:00–23:00 / 22:00–06:00."]}


def test_the_same_hours_twice_are_an_overlap():
    errors = check_calendar(calendar(), [hours(1, "08:00", "16:00"), hours(1, "08:00", "16:00")], [])
    assert errors == {"opening_hours": ["Opening hours overlap on Tuesday: 08:00–16:00 / 08:00–16:00."]}


def test_a_night_interval_may_run_into_the_next_days_hours():
    rows = [hours(0, "22:00", "06:00"), hours(1, "00:00", "08:00")]
    assert check_calendar(calendar(), rows, []) == {}


def test_touching_intervals_are_fine():
    rows = [hours(3, "08:00", "12:00"), hours(3, "12:00", "16:00")]
    assert check_calendar(calendar(), rows, []) == {}


def test_closed_exception_with_hours_is_refused():
    errors = check_calendar(calendar(), [], [exception("2026-12-24", closed=True, start="08:00", end="12:00")])
    assert errors["exceptions"] == [
        "12/24/2026: A date closed all day has no hours; clear the hours or untick “closed all day”."]


def test_open_exception_needs_both_hours():
    errors = check_calendar(calendar(), [], [exception("2026-12-24", start="08:00")])
    assert errors["exceptions"] == [
        "12/24/2026: Give both the opening and the closing time, or tick “closed all day”."]


def test_exception_outside_2000_to_2100_is_refused():
    errors = check_calendar(calendar(), [], [exception("2101-01-01", closed=True)])
    assert errors["exceptions"] == ["01/01/2101: The date must be between the years 2000 and 2100."]


def test_closed_and_open_rows_on_one_date_are_refused():
    rows = [exception("2026-12-24", closed=True), exception("2026-12-24", start="08:00", end="12:00")]
    errors = check_calendar(calendar(), [], rows)
    assert errors["exceptions"] == ["12/24/2026 is both closed all day and open at some hours; keep one."]


def test_overlapping_exception_hours_on_one_date_are_refused():
    rows = [exception("2026-12-24", start="08:00", end="12:00"), exception("2026-12-24", start="10:00", end="14:00")]
    errors = check_calendar(calendar(), [], rows)
    assert errors["exceptions"] == ["Exception hours overlap on 12/24/2026: 08:00–12:00 / 10:00–14:00."]


def test_every_problem_is_reported_at_once():
    errors = check_calendar(calendar(timezone="Mars/Olympus"), [hours(0, "08:00", "08:00")],
                            [exception("1999-12-31", closed=True)])
    assert set(errors) == {"timezone", "opening_hours", "exceptions"}


def test_model_clean_normalises_the_country_code():
    cal = calendar(holiday_country=" fi ")
    cal.clean()
    assert cal.holiday_country == "FI"
