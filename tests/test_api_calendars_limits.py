"""Calendar API: the same question gets the same answer whatever the process answered before,
and instants at the ends of the representable range are refused with 400, not a 500."""

import datetime as dt

import pytest

from tests.test_api_calendars import get, office  # noqa: F401 - fixtures
from vuoro.calendars.models import Calendar, CalendarException


@pytest.fixture
def yearly(db) -> Calendar:
    """Open one hour a year (1 January 08–09), so 30 hours are due 30 years on."""
    calendar = Calendar.objects.create(name="Once a year", holiday_country="")
    CalendarException.objects.bulk_create(
        CalendarException(calendar=calendar, date=dt.date(year, 1, 1), start=dt.time(8), end=dt.time(9))
        for year in range(2000, 2140))
    return calendar


def test_a_due_date_does_not_depend_on_the_years_asked_about_before(get, yearly):  # noqa: F811
    question = {"start": "2026-06-01T12:00+03:00", "duration": "PT30H"}
    fresh = get(f"/calendars/{yearly.pk}/due", **question)
    assert fresh.status_code == 200, fresh.json()
    assert fresh.json()["due"] == "2056-01-01T09:00:00+02:00"
    get(f"/calendars/{yearly.pk}/state", at="2000-06-01T12:00+03:00")  # compiles 1999–2001 first
    assert get(f"/calendars/{yearly.pk}/due", **question).json() == fresh.json()
    refused = get(f"/calendars/{yearly.pk}/due", start=question["start"], duration="PT31H")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"duration": ["The calendar is not open that long within 30 years."]}


@pytest.mark.parametrize("instant", ["9999-12-31T23:59-01:00", "0001-01-01T00:30+01:00",
                                     "9999-12-31T23:59:59.999999-14:00", "0001-01-01T00:00Z"])
@pytest.mark.parametrize(("path", "field", "params"), [("state", "at", {}),
                                                       ("due", "start", {"duration": "PT1H"})])
def test_extreme_instants_are_refused_with_a_reason(get, office, instant, path, field, params):  # noqa: F811
    response = get(f"/calendars/{office.pk}/{path}", **params, **{field: instant})
    assert response.status_code == 400
    assert response.json()["errors"] == {field: ["The time must be between the years 2000 and 2100."]}


@pytest.mark.parametrize("duration", ["P" + "9" * 62 + "W", "9" * 64, "PT" + "9" * 61 + "S", "P99999999999999999999DT1H"])
def test_huge_durations_are_refused_with_a_reason(get, office, duration):  # noqa: F811
    response = get(f"/calendars/{office.pk}/due", start="2026-11-23T08:00+02:00", duration=duration)
    assert response.status_code == 400
    assert response.json()["errors"] == {"duration": ["The duration may be at most ten years."]}


def test_the_last_supported_instant_with_the_longest_duration_is_answered(get):  # noqa: F811
    around_the_clock = Calendar.objects.create(name="24/7 UTC", timezone="UTC", always_open=True)
    response = get(f"/calendars/{around_the_clock.pk}/due", start="2100-12-31T23:59Z", duration="P3652D")
    assert response.status_code == 200, response.json()
    assert response.json()["due"] == "2110-12-31T23:59:00Z"
