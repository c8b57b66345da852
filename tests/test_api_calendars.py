"""Calendar API: open or closed at an instant and due dates, exact on DST nights and holidays."""

import datetime as dt

import pytest

from tests import factories as f
from vuoro.accounts.models import Role
from vuoro.calendars.models import Calendar, OpeningHours

API = "/api/v1"


@pytest.fixture
def get(client, db):
    """GET as a requester (any signed-in caller may read calendars), in English."""
    token = f.api_token(f.user(Role.REQUESTER, language="en"))

    def call(path, **params):
        return client.get(API + path, params, HTTP_AUTHORIZATION=f"Bearer {token}",
                          HTTP_ACCEPT_LANGUAGE="en")

    return call


@pytest.fixture
def night_shift(db) -> Calendar:
    """Open 00:00–08:00 every day, no holidays: 7 hours on the spring night, 9 in autumn."""
    calendar = Calendar.objects.create(name="Night shift", holiday_country="")
    for day in range(7):
        OpeningHours.objects.create(calendar=calendar, weekday=day, start=dt.time(0), end=dt.time(8))
    return calendar


@pytest.fixture
def office(db) -> Calendar:
    return Calendar.objects.get(name="Arkisin 8–16")


# Listing


def test_any_signed_in_caller_lists_the_calendars(get):
    response = get("/calendars")
    assert response.status_code == 200
    by_name = {c["name"]: c for c in response.json()}
    assert by_name["24/7"]["always_open"] is True
    assert by_name["Arkisin 8–16"] == {**by_name["Arkisin 8–16"], "timezone": "Europe/Helsinki",
                                       "holiday_country": "FI", "always_open": False}


def test_calendars_need_a_token(client, db):
    response = client.get(f"{API}/calendars")
    assert response.status_code == 401
    assert response.json()["detail"]


# DST


def test_due_across_the_spring_change_counts_seven_wall_hours_as_seven(get, night_shift):
    response = get(f"/calendars/{night_shift.pk}/due", start="2026-03-29T00:00+02:00", duration="PT7H")
    assert response.status_code == 200
    assert response.json() == {"calendar": night_shift.pk, "start": "2026-03-29T00:00:00+02:00",
                               "duration_seconds": 25200.0, "due": "2026-03-29T08:00:00+03:00",
                               "timezone": "Europe/Helsinki"}


def test_due_across_the_autumn_change_takes_nine_hours_to_reach_eight(get, night_shift):
    response = get(f"/calendars/{night_shift.pk}/due", start="2026-10-25T00:00+03:00", duration="32400")
    assert response.json()["due"] == "2026-10-25T08:00:00+02:00"


def test_state_at_the_first_of_the_repeated_autumn_hour(get, night_shift):
    response = get(f"/calendars/{night_shift.pk}/state", at="2026-10-25T03:30+03:00")
    assert response.status_code == 200
    assert response.json() == {"calendar": night_shift.pk, "at": "2026-10-25T03:30:00+03:00", "open": True,
                               "next_change": "2026-10-25T08:00:00+02:00",
                               "next_opening": "2026-10-25T03:30:00+03:00", "timezone": "Europe/Helsinki"}


def test_state_after_closing_on_the_spring_night_points_to_the_next_midnight(get, night_shift):
    body = get(f"/calendars/{night_shift.pk}/state", at="2026-03-29T09:00+03:00").json()
    assert (body["open"], body["next_change"], body["next_opening"]) == (
        False, "2026-03-30T00:00:00+03:00", "2026-03-30T00:00:00+03:00")


# Office hours and Finnish holidays


def test_office_hours_are_closed_on_saturday_night(get, office):
    body = get(f"/calendars/{office.pk}/state", at="2026-11-21T02:00+02:00").json()
    assert body["open"] is False
    assert body["next_opening"] == "2026-11-23T08:00:00+02:00"
    assert body["next_change"] == "2026-11-23T08:00:00+02:00"


def test_office_hours_stay_closed_over_christmas(get, office):
    body = get(f"/calendars/{office.pk}/state", at="2026-12-24T10:00+02:00").json()
    assert body["open"] is False
    assert body["next_opening"] == "2026-12-28T08:00:00+02:00"


def test_due_skips_midsummer_eve_and_midsummer_day(get, office):
    response = get(f"/calendars/{office.pk}/due", start="2026-06-18T15:00+03:00", duration="PT2H")
    assert response.json()["due"] == "2026-06-22T09:00:00+03:00"


def test_due_skips_epiphany(get, office):
    response = get(f"/calendars/{office.pk}/due", start="2026-01-05T12:00+02:00", duration="PT8H")
    assert response.json()["due"] == "2026-01-07T12:00:00+02:00"


def test_instants_in_utc_are_answered_in_the_calendars_zone(get, office):
    body = get(f"/calendars/{office.pk}/state", at="2026-11-23T06:30:00Z").json()
    assert (body["at"], body["open"]) == ("2026-11-23T08:30:00+02:00", True)
    assert body["next_change"] == "2026-11-23T16:00:00+02:00"


def test_a_plus_sign_lost_in_the_query_string_is_read_as_an_offset(client, get, office):
    response = get(f"/calendars/{office.pk}/state", at="2026-11-21T02:00 02:00")
    assert response.status_code == 200
    assert response.json()["at"] == "2026-11-21T02:00:00+02:00"


def test_around_the_clock_due_is_plain_addition(get):
    calendar = Calendar.objects.get(name="24/7")
    body = get(f"/calendars/{calendar.pk}/due", start="2026-12-24T10:00+02:00", duration="P1DT2H").json()
    assert body["due"] == "2026-12-25T12:00:00+02:00"


def test_state_defaults_to_now(get, office):
    response = get(f"/calendars/{office.pk}/state")
    assert response.status_code == 200
    assert response.json()["at"].endswith(("+02:00", "+03:00"))


# Bad input


def test_a_naive_time_is_refused(get, office):
    response = get(f"/calendars/{office.pk}/state", at="2026-11-21T02:00")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "at": ["Give a time zone offset, e.g. 2026-03-29T08:00+03:00 or …Z for UTC."]}


def test_an_unparsable_time_is_refused(get, office):
    response = get(f"/calendars/{office.pk}/due", start="tomorrow", duration="PT1H")
    assert response.status_code == 400
    assert "start" in response.json()["errors"]


def test_a_time_outside_the_supported_years_is_refused(get, office):
    response = get(f"/calendars/{office.pk}/state", at="9999-12-31T23:00+02:00")
    assert response.status_code == 400
    assert response.json()["errors"]["at"] == ["The time must be between the years 2000 and 2100."]


@pytest.mark.parametrize("duration", ["-PT1H", "-5"])
def test_a_negative_duration_is_refused(get, office, duration):
    response = get(f"/calendars/{office.pk}/due", start="2026-11-23T08:00+02:00", duration=duration)
    assert response.status_code == 400
    assert response.json()["errors"] == {"duration": ["The duration must not be negative."]}


def test_a_duration_over_ten_years_is_refused(get, office):
    response = get(f"/calendars/{office.pk}/due", start="2026-11-23T08:00+02:00", duration="P3653DT1S")
    assert response.status_code == 400
    assert response.json()["errors"] == {"duration": ["The duration may be at most ten years."]}


@pytest.mark.parametrize("duration", ["P1Y", "P1M", "PT", "eight hours", "9" * 80])
def test_a_duration_that_is_not_one_is_refused(get, office, duration):
    response = get(f"/calendars/{office.pk}/due", start="2026-11-23T08:00+02:00", duration=duration)
    assert response.status_code in (400, 422)
    assert "duration" in response.json()["errors"]


def test_a_missing_duration_is_refused(get, office):
    response = get(f"/calendars/{office.pk}/due", start="2026-11-23T08:00+02:00")
    assert response.status_code == 422
    assert response.json()["errors"] == {"duration": ["This field is required."]}


def test_a_calendar_that_never_opens_cannot_give_a_due_date(get):
    closed = Calendar.objects.create(name="Never", holiday_country="")
    response = get(f"/calendars/{closed.pk}/due", start="2026-11-23T08:00+02:00", duration="PT1H")
    assert response.status_code == 400
    assert response.json()["errors"] == {"duration": ["The calendar is not open that long within 30 years."]}


@pytest.mark.parametrize("suffix", ["state", "due?duration=PT1H"])
def test_an_unknown_calendar_is_not_found(get, suffix):
    response = get(f"/calendars/999999/{suffix}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# The OpenAPI document


def test_openapi_documents_both_questions_and_their_parameters(client, db):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    state = paths["/api/v1/calendars/{calendar_id}/state"]["get"]
    due = paths["/api/v1/calendars/{calendar_id}/due"]["get"]
    assert {p["name"]: p["in"] for p in state["parameters"]} == {"calendar_id": "path", "at": "query"}
    assert {p["name"] for p in due["parameters"]} == {"calendar_id", "start", "duration"}
    assert all(p.get("description") for p in due["parameters"] if p["in"] == "query")
    assert next(p for p in due["parameters"] if p["name"] == "duration")["required"] is True
