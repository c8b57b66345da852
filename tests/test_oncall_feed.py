"""The iCalendar feed: signed tokens, parseable output, event times equal to the pure shifts."""

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.core import signing

from vuoro.oncall import selectors, services
from vuoro.oncall.models import FeedKey, Layer, LayerMember, Schedule

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
    found = events(client.get(services.feed_path("schedule", schedule.pk)))
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
            for e in events(client.get(services.feed_path("schedule", schedule.pk)))
        }
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        second = {
            e["uid"]: e.decoded("dtstart")
            for e in events(client.get(services.feed_path("schedule", schedule.pk)))
        }
    shared = first.keys() & second.keys()
    assert len(shared) >= 10
    assert all(first[uid] == second[uid] for uid in shared)


@time_machine.travel(NOW, tick=False)
def test_person_feed_lists_only_that_persons_shifts(client, schedule, world):
    found = events(client.get(services.feed_path("person", world.agent2.pk)))
    assert found
    assert all(world.agent2.display_name() in str(e["summary"]) for e in found)
    assert [e.decoded("dtstart").astimezone(HELSINKI).date() for e in found][:2] == [
        dt.date(2026, 3, 9),
        dt.date(2026, 3, 23),
    ]


def test_tampered_token_is_not_found(client, schedule):
    path = services.feed_path("schedule", schedule.pk)
    assert client.get(path).status_code == 200
    assert client.get(path.replace(".ics", "xx.ics")).status_code == 404
    key = FeedKey.objects.get()
    forged = signing.dumps(["schedule", schedule.pk, key.key], salt="another.salt")
    assert client.get(f"/oncall/feed/{forged}.ics").status_code == 404
    # A token signed before feed addresses had keys names no key: it no longer works.
    keyless = signing.dumps(["schedule", schedule.pk], salt="vuoro.oncall.feed")
    assert client.get(f"/oncall/feed/{keyless}.ics").status_code == 404


def test_a_feed_address_is_stable_until_revoked_and_revoking_one_leaves_the_others(client, schedule, world):
    schedule_feed = services.feed_path("schedule", schedule.pk)
    personal = services.feed_path("person", world.agent2.pk)
    assert services.feed_path("schedule", schedule.pk) == schedule_feed
    assert services.feed_revoke("schedule", schedule.pk) == 1
    assert client.get(schedule_feed).status_code == 404
    assert client.get(personal).status_code == 200
    renewed = services.feed_path("schedule", schedule.pk)
    assert renewed != schedule_feed and client.get(renewed).status_code == 200


def test_a_feed_address_expires(client, schedule, settings):
    settings.VUORO_CALENDAR_FEED_DAYS = 30
    with time_machine.travel(NOW, tick=False):
        path = services.feed_path("schedule", schedule.pk)
        assert client.get(path).status_code == 200
    with time_machine.travel(NOW + dt.timedelta(days=31), tick=False):
        assert client.get(path).status_code == 404
        fresh = services.feed_path("schedule", schedule.pk)
        assert fresh != path and client.get(fresh).status_code == 200


def test_an_admin_revokes_one_feed_address_in_the_admin(client, schedule, world):
    path = services.feed_path("person", world.agent2.pk)
    other = services.feed_path("person", world.agent.pk)
    mine = FeedKey.objects.get(kind="person", target_id=world.agent2.pk)
    client.force_login(world.admin)
    response = client.post("/admin/oncall/feedkey/", {"action": "revoke", "_selected_action": [mine.pk]})
    assert response.status_code == 302
    assert client.get(path).status_code == 404
    assert client.get(other).status_code == 200


def test_feed_of_a_deleted_schedule_is_not_found(client, schedule):
    path = services.feed_path("schedule", schedule.pk)
    schedule.delete()
    assert client.get(path).status_code == 404
