"""The requester is told when the request will be handled: now, or from the next opening."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from tests import factories as f
from vuoro.calendars import selectors as calendar_selectors
from vuoro.calendars.models import Calendar, CalendarException, OpeningHours
from vuoro.sla.expected import expected_handling
from vuoro.sla.models import SlaPolicy
from vuoro.tickets.tracking import tracking_token

HELSINKI = ZoneInfo("Europe/Helsinki")
SATURDAY_NIGHT = dt.datetime(2026, 11, 21, 2, 0, tzinfo=HELSINKI)
MONDAY_EIGHT = dt.datetime(2026, 11, 23, 8, 0, tzinfo=HELSINKI)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HELSINKI)


@pytest.fixture(autouse=True)
def fresh_calendars():
    """Compiled calendars are cached per row id and version; test rows reuse both."""
    calendar_selectors._compiled.cache_clear()
    yield
    calendar_selectors._compiled.cache_clear()


@pytest.fixture
def office(world):
    """Workstations open Monday to Friday 8–16 with Finnish public holidays."""
    calendar = Calendar.objects.create(name="Office hours", timezone="Europe/Helsinki", holiday_country="FI")
    for weekday in range(5):
        OpeningHours.objects.create(calendar=calendar, weekday=weekday, start=dt.time(8), end=dt.time(16))
    world.other.calendar = calendar
    world.other.save()
    return calendar


def request_at(world, at: dt.datetime, service=None):
    with time_machine.travel(at, tick=False):
        return f.ticket(world.requester_a, service or world.other)


def told(ticket, language: str, at: dt.datetime) -> dict:
    with time_machine.travel(at, tick=False):
        return expected_handling(ticket, language)


def test_a_saturday_night_request_is_handled_from_monday_morning_in_finnish(world, office):
    ticket = request_at(world, SATURDAY_NIGHT)
    answer = told(ticket, "fi", SATURDAY_NIGHT)
    assert answer["at"] == MONDAY_EIGHT
    assert answer["open_now"] is False
    assert answer["text"] == "Pyyntösi käsitellään seuraavana arkipäivänä ma 23.11. klo 8.00 alkaen."


def test_the_same_answer_in_english(world, office):
    ticket = request_at(world, SATURDAY_NIGHT)
    assert told(ticket, "en", SATURDAY_NIGHT)["text"] == (
        "Your request will be handled from Mon 23 Nov at 08:00, the next business day.")


def test_the_same_answer_in_swedish_whatever_language_is_active(world, office):
    ticket = request_at(world, SATURDAY_NIGHT)
    with translation.override("en"):
        text = told(ticket, "sv", SATURDAY_NIGHT)["text"]
    assert text == "Ditt ärende behandlas från och med mån 23.11. kl. 8.00, nästa vardag."


def test_during_opening_hours_the_request_is_handled_now_with_the_response_target(world, office):
    SlaPolicy.objects.create(service=world.other, first_response_minutes=240)
    wednesday = local(2026, 11, 18, 10, 0)
    ticket = request_at(world, wednesday)
    answer = told(ticket, "fi", wednesday)
    assert answer["at"] == wednesday
    assert answer["open_now"] is True
    assert answer["text"] == (
        "Pyyntösi käsitellään heti. Saat ensimmäisen vastauksen viimeistään ke 18.11. klo 14.00.")


def test_a_service_without_hours_handles_a_saturday_night_request_now(world):
    ticket = request_at(world, SATURDAY_NIGHT, world.critical)
    answer = told(ticket, "en", SATURDAY_NIGHT)
    assert answer["open_now"] is True
    assert answer["text"] == "Your request is being handled now."


def test_a_christmas_eve_request_waits_for_the_first_day_after_the_holidays(world, office):
    christmas_eve = local(2026, 12, 24, 10, 0)
    ticket = request_at(world, christmas_eve)
    answer = told(ticket, "fi", christmas_eve)
    assert answer["at"] == local(2026, 12, 28, 8, 0)
    assert answer["text"] == "Pyyntösi käsitellään seuraavana arkipäivänä ma 28.12. klo 8.00 alkaen."


def test_an_early_morning_request_is_handled_from_the_opening_the_same_day(world, office):
    early = local(2026, 11, 23, 6, 30)
    ticket = request_at(world, early)
    assert told(ticket, "fi", early)["text"] == "Pyyntösi käsitellään ma 23.11. klo 8.00 alkaen."


def test_an_opening_beyond_the_next_business_day_is_named_without_calling_it_that(world, office):
    CalendarException.objects.create(calendar=office, date=dt.date(2026, 11, 23), closed=True)
    office.save()
    ticket = request_at(world, SATURDAY_NIGHT)
    answer = told(ticket, "fi", SATURDAY_NIGHT)
    assert answer["at"] == local(2026, 11, 24, 8, 0)
    assert answer["text"] == "Pyyntösi käsitellään ti 24.11. klo 8.00 alkaen."


def test_times_are_given_in_the_service_time_zone(world):
    stockholm = Calendar.objects.create(name="Stockholm", timezone="Europe/Stockholm", holiday_country="SE")
    for weekday in range(5):
        OpeningHours.objects.create(calendar=stockholm, weekday=weekday, start=dt.time(8), end=dt.time(16))
    world.other.calendar = stockholm
    world.other.save()
    ticket = request_at(world, SATURDAY_NIGHT)
    answer = told(ticket, "sv", SATURDAY_NIGHT)
    assert answer["at"] == dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)
    assert answer["text"] == "Ditt ärende behandlas från och med mån 23.11. kl. 8.00, nästa vardag."


def test_the_portal_confirmation_tells_when_the_request_is_handled(client, world, office):
    ticket = request_at(world, SATURDAY_NIGHT)
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        response = client.get(reverse("portal:confirmation", args=[tracking_token(ticket)]),
                              HTTP_ACCEPT_LANGUAGE="fi")
    assert response.status_code == 200
    assert "käsitellään seuraavana arkipäivänä ma 23.11. klo 8.00 alkaen" in response.text
    assert 'datetime="2026-11-23T' in response.text


def test_a_work_stopping_saturday_night_request_on_a_covered_service_is_handled_now(world, office):
    from vuoro.coverage.models import CoverageModel, ServiceCoverage

    ServiceCoverage.objects.create(service=world.other, model=CoverageModel.CATCH_DISPATCH,
                                   partner_team=world.partner_team)
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        urgent = f.ticket(world.requester_a, world.other, stops_work="yes")
        ordinary = f.ticket(world.requester_a, world.other, stops_work="no")
    answer = told(urgent, "en", SATURDAY_NIGHT)
    assert answer["open_now"] is True
    assert answer["text"] == (
        "The service is closed now, but your request stops work, so support on duty is handling it now.")
    assert told(ordinary, "en", SATURDAY_NIGHT)["at"] == MONDAY_EIGHT
