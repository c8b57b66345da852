"""The iCalendar feed: signed tokens, parseable output, event times equal to the pure shifts."""

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.core import signing

from vuoro.oncall import selectors
from vuoro.oncall.models import Layer, LayerMember, Schedule

HELSINKI = ZoneInfo("Europe/Helsinki")
HOUR = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)  # the spring change is nine days ahead


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HELSINKI)


@pytest.fixture
def schedule(world):
    schedule = Schedule.objects.create(name="Desk on call", timezone="Europe/Helsinki")
    layer = Layer.objects.create(
        schedule=schedule, name="weekly", start_date=dt.date(2026, 3, 2), handoff_time=dt.time(8)
    )
    LayerMember.objects.create(layer=layer, user=world.agent, position=0)
    LayerMember.objects.create(layer=layer, user=world.agent2, position=1)
    return schedule


def utc(event, name: str) -> dt.datetime:
    return event.decoded(name).astimezone(dt.UTC)


def events(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content).walk("VEVENT")


@time_machine.travel(NOW, tick=False)
def test_schedule_feed_matches_the_pure_shifts_across_dst(client, schedule):
    found = events(client.get(selectors.feed_path("schedule", schedule.pk)))
    expected = selectors.schedule_shifts(schedule, local(2026, 3, 9, 8), local(2026, 5, 25, 8))
    assert len(found) == len(expected) == 11
    for event, shift in zip(found, expected, strict=True):
        # Aware datetimes in one zone subtract as wall clocks; real durations need UTC.
        start, end = utc(event, "dtstart"), utc(event, "dtend")
        assert event["dtstart"].params["TZID"] == "Europe/Helsinki"
        assert start == shift.start and end == shift.end
        assert end - start == shift.duration
        assert start.astimezone(HELSINKI).time() == dt.time(8)
    durations = {
        event.decoded("dtstart").date(): utc(event, "dtend") - utc(event, "dtstart")
        for event in found
    }
    assert durations[dt.date(2026, 3, 23)] == 167 * HOUR
    assert durations[dt.date(2026, 3, 30)] == 168 * HOUR


def test_uids_are_stable_as_the_feed_moves(client, schedule):
    with time_machine.travel(NOW, tick=False):
        first = {
            e["uid"]: e.decoded("dtstart")
            for e in events(client.get(selectors.feed_path("schedule", schedule.pk)))
        }
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        second = {
            e["uid"]: e.decoded("dtstart")
            for e in events(client.get(selectors.feed_path("schedule", schedule.pk)))
        }
    shared = first.keys() & second.keys()
    assert len(shared) >= 10
    assert all(first[uid] == second[uid] for uid in shared)


@time_machine.travel(NOW, tick=False)
def test_person_feed_lists_only_that_persons_shifts(client, schedule, world):
    found = events(client.get(selectors.feed_path("person", world.agent2.pk)))
    assert found
    assert all(world.agent2.display_name() in str(e["summary"]) for e in found)
    assert [e.decoded("dtstart").astimezone(HELSINKI).date() for e in found][:2] == [
        dt.date(2026, 3, 9),
        dt.date(2026, 3, 23),
    ]


def test_tampered_token_is_not_found(client, schedule):
    token = signing.dumps(["schedule", schedule.pk], salt="vuoro.oncall.feed")
    assert client.get(f"/oncall/feed/{token}.ics").status_code == 200
    assert client.get(f"/oncall/feed/{token[:-2]}xx.ics").status_code == 404
    forged = signing.dumps(["schedule", schedule.pk], salt="another.salt")
    assert client.get(f"/oncall/feed/{forged}.ics").status_code == 404


def test_feed_of_a_deleted_schedule_is_not_found(client, schedule):
    path = selectors.feed_path("schedule", schedule.pk)
    schedule.delete()
    assert client.get(path).status_code == 404
