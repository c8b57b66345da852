"""Editing calendars in the admin: checks across the inline rows, nothing saved on error, preview."""

import datetime as dt

import pytest
import time_machine

from tests import factories as f
from vuoro.accounts.models import Role
from vuoro.calendars.models import Calendar, CalendarException, OpeningHours
from vuoro.calendars.selectors import business_calendar_for

ADD_URL = "/admin/calendars/calendar/add/"
HELSINKI_NOON = dt.datetime(2026, 12, 21, 10, 0, tzinfo=dt.UTC)  # Monday 12:00 in Helsinki


@pytest.fixture
def admin_client(db, client):
    client.force_login(f.user(Role.ADMIN, username="root", language="en"))
    return client


@pytest.fixture
def admin_at_noon(db, client):
    """Signed in on the frozen Monday, so the session is fresh then."""
    with time_machine.travel(HELSINKI_NOON, tick=False):
        client.force_login(f.user(Role.ADMIN, username="root", language="en"))
        yield client


def inline(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{key}": value for key, value in row.items()})
    return data


def calendar_form(*, hours=(), exceptions=(), **fields) -> dict:
    data = {"name": "Service hours", "timezone": "Europe/Helsinki", "holiday_country": "FI",
            "holiday_subdivision": "", **fields}
    data.update(inline("opening_hours", list(hours)))
    data.update(inline("exceptions", list(exceptions)))
    return data


def weekday(day: int, start: str, end: str) -> dict:
    return {"weekday": str(day), "start": start, "end": end}


def nothing_stored() -> bool:
    return not Calendar.objects.filter(name="Service hours").exists() and not OpeningHours.objects.filter(
        calendar__name="Service hours").exists()


def test_admin_adds_a_calendar_with_hours_and_exceptions(admin_client):
    data = calendar_form(hours=[weekday(0, "08:00", "16:00"), weekday(1, "22:00", "06:00")],
                         exceptions=[{"date": "2026-12-24", "closed": "on"}])
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 302
    calendar = Calendar.objects.get(name="Service hours")
    assert calendar.opening_hours.count() == 2
    assert calendar.exceptions.get().closed is True


def test_overlapping_hours_show_an_error_and_store_nothing(admin_client):
    data = calendar_form(hours=[weekday(0, "08:00", "12:00"), weekday(0, "11:00", "16:00")])
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert "Opening hours overlap on Monday: 08:00–12:00 / 11:00–16:00." in response.content.decode()
    assert nothing_stored()


def test_zero_length_hours_show_an_error_and_store_nothing(admin_client):
    response = admin_client.post(ADD_URL, calendar_form(hours=[weekday(2, "09:00", "09:00")]))
    assert response.status_code == 200
    assert "Opening and closing times are the same." in response.content.decode()
    assert nothing_stored()


def test_unknown_time_zone_shows_an_error_and_stores_nothing(admin_client):
    response = admin_client.post(ADD_URL, calendar_form(timezone="Europe/Nowhere",
                                                        hours=[weekday(0, "08:00", "16:00")]))
    assert response.status_code == 200
    assert "Unknown time zone “Europe/Nowhere”." in response.content.decode()
    assert nothing_stored()


def test_unknown_holiday_country_shows_an_error_and_stores_nothing(admin_client):
    response = admin_client.post(ADD_URL, calendar_form(holiday_country="QQ"))
    assert response.status_code == 200
    assert "No public holidays are known for “QQ”." in response.content.decode()
    assert nothing_stored()


def test_closed_exception_with_hours_shows_an_error_and_stores_nothing(admin_client):
    row = {"date": "2026-12-24", "closed": "on", "start": "08:00", "end": "12:00"}
    response = admin_client.post(ADD_URL, calendar_form(exceptions=[row]))
    assert response.status_code == 200
    assert "A date closed all day has no hours" in response.content.decode()
    assert nothing_stored() and not CalendarException.objects.exists()


def test_open_exception_without_hours_shows_an_error_and_stores_nothing(admin_client):
    response = admin_client.post(ADD_URL, calendar_form(exceptions=[{"date": "2026-12-24", "start": "08:00"}]))
    assert response.status_code == 200
    assert "Give both the opening and the closing time, or tick “closed all day”." in response.content.decode()
    assert nothing_stored() and not CalendarException.objects.exists()


def test_exception_outside_the_years_shows_an_error_and_stores_nothing(admin_client):
    response = admin_client.post(ADD_URL, calendar_form(exceptions=[{"date": "1999-12-31", "closed": "on"}]))
    assert response.status_code == 200
    assert "The date must be between the years 2000 and 2100." in response.content.decode()
    assert nothing_stored() and not CalendarException.objects.exists()


def test_closed_and_open_exception_on_one_date_shows_an_error_and_stores_nothing(admin_client):
    rows = [{"date": "2026-12-24", "closed": "on"}, {"date": "2026-12-24", "start": "08:00", "end": "12:00"}]
    response = admin_client.post(ADD_URL, calendar_form(exceptions=rows))
    assert response.status_code == 200
    assert "is both closed all day and open at some hours; keep one." in response.content.decode()
    assert nothing_stored() and not CalendarException.objects.exists()


def test_overlapping_exception_hours_show_an_error_and_store_nothing(admin_client):
    rows = [{"date": "2026-12-24", "start": "08:00", "end": "12:00"},
            {"date": "2026-12-24", "start": "11:00", "end": "13:00"}]
    response = admin_client.post(ADD_URL, calendar_form(exceptions=rows))
    assert response.status_code == 200
    assert "Exception hours overlap on" in response.content.decode()
    assert nothing_stored() and not CalendarException.objects.exists()


def test_an_edit_that_adds_an_overlap_keeps_the_stored_hours(admin_client):
    calendar = Calendar.objects.create(name="Desk hours")
    row = OpeningHours.objects.create(calendar=calendar, weekday=0, start=dt.time(8), end=dt.time(16))
    data = calendar_form(name="Desk hours")
    data.update(inline("opening_hours", [{"id": str(row.pk), "calendar": str(calendar.pk), **weekday(0, "08:00", "16:00")},
                                         weekday(0, "15:00", "18:00")], initial=1))
    response = admin_client.post(f"/admin/calendars/calendar/{calendar.pk}/change/", data)
    assert response.status_code == 200
    assert "Opening hours overlap on Monday" in response.content.decode()
    assert list(calendar.opening_hours.values_list("start", "end")) == [(dt.time(8), dt.time(16))]


def test_editing_hours_refreshes_the_compiled_calendar(admin_client):
    calendar = Calendar.objects.create(name="Desk hours", holiday_country="")
    row = OpeningHours.objects.create(calendar=calendar, weekday=0, start=dt.time(8), end=dt.time(16))
    monday_evening = dt.datetime(2026, 12, 21, 17, 0, tzinfo=dt.UTC)  # 19:00 in Helsinki
    assert business_calendar_for(calendar).is_open(monday_evening) is False
    data = calendar_form(name="Desk hours", holiday_country="")
    data.update(inline("opening_hours", [{"id": str(row.pk), "calendar": str(calendar.pk),
                                          **weekday(0, "08:00", "20:00")}], initial=1))
    assert admin_client.post(f"/admin/calendars/calendar/{calendar.pk}/change/", data).status_code == 302
    calendar.refresh_from_db()
    assert business_calendar_for(calendar).is_open(monday_evening) is True


def test_change_page_previews_the_coming_week(admin_at_noon):
    calendar = Calendar.objects.create(name="Desk hours")
    for day in range(5):
        OpeningHours.objects.create(calendar=calendar, weekday=day, start=dt.time(8), end=dt.time(16))
    page = admin_at_noon.get(f"/admin/calendars/calendar/{calendar.pk}/change/").content.decode()
    assert "Open now." in page
    assert "Next change: Mon 21.12.2026 16:00 (+0200)." in page
    assert "08:00–16:00" in page
    assert page.count("closed</td>") == 4  # Christmas Eve, Christmas Day, Boxing Day and Sunday


def test_preview_of_the_around_the_clock_calendar(admin_at_noon):
    calendar = Calendar.objects.get(name="24/7")
    page = admin_at_noon.get(f"/admin/calendars/calendar/{calendar.pk}/change/").content.decode()
    assert "Open now." in page
    assert "No change within three years." in page
    assert page.count("00:00–24:00") == 7


def test_add_page_asks_to_save_before_the_preview(admin_client):
    page = admin_client.get(ADD_URL).content.decode()
    assert "Save the calendar to see a preview." in page
