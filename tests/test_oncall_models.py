"""On-call schedules stored as rows: validation, the selectors, swaps and the admin page."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from vuoro.oncall import selectors, services
from vuoro.oncall.models import Layer, LayerMember, Override, RotationKind, Schedule

HELSINKI = ZoneInfo("Europe/Helsinki")
HOUR = dt.timedelta(hours=1)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HELSINKI)


def weekly(members, **extra) -> Schedule:
    schedule = Schedule.objects.create(name="Desk on call", timezone="Europe/Helsinki")
    layer = Layer.objects.create(
        schedule=schedule,
        name="weekly",
        rotation=RotationKind.WEEKLY,
        start_date=dt.date(2026, 3, 2),
        handoff_time=dt.time(8),
        **extra,
    )
    for position, user in enumerate(members):
        LayerMember.objects.create(layer=layer, user=user, position=position)
    return schedule


def test_who_is_on_call_follows_the_weekly_rotation(world):
    schedule = weekly([world.agent, world.agent2])
    assert selectors.who_is_on_call(schedule, local(2026, 3, 3)) == world.agent
    assert selectors.who_is_on_call(schedule, local(2026, 3, 10)) == world.agent2
    assert selectors.who_is_on_call(schedule, local(2026, 3, 1)) is None


def test_stored_weekly_shift_across_dst_is_167_hours(world):
    schedule = weekly([world.agent, world.agent2])
    shifts = selectors.schedule_shifts(schedule, local(2026, 3, 23, 8), local(2026, 3, 30, 8))
    assert [s.duration for s in shifts] == [167 * HOUR]


def test_nights_and_weekends_layer_leaves_office_hours_as_gaps(world):
    schedule = weekly(
        [world.partner],
        window_start=dt.time(16),
        window_end=dt.time(8),
        window_weekdays="0123456",
        full_day_weekdays="56",
    )
    gaps = selectors.schedule_gaps(schedule, local(2026, 6, 1, 0), local(2026, 6, 8, 0))
    assert len(gaps) == 5  # 08:00–16:00 Monday to Friday
    assert gaps[0] == (local(2026, 6, 1, 8), local(2026, 6, 1, 16))
    assert selectors.who_is_on_call(schedule, local(2026, 6, 6, 12)) == world.partner


def test_a_layer_with_nobody_is_all_gap(world):
    schedule = weekly([])
    a, b = local(2026, 4, 1), local(2026, 4, 2)
    assert selectors.schedule_gaps(schedule, a, b) == [(a, b)]


def test_override_and_swap(world):
    schedule = weekly([world.agent, world.agent2])
    services.override_create(
        schedule=schedule,
        user=world.owner,
        start=local(2026, 3, 4, 12),
        end=local(2026, 3, 4, 18),
        created_by=world.admin,
    )
    assert selectors.who_is_on_call(schedule, local(2026, 3, 4, 13)) == world.owner
    services.shift_swap(
        schedule=schedule,
        first=(local(2026, 3, 16, 8), local(2026, 3, 23, 8)),
        second=(local(2026, 3, 23, 8), local(2026, 3, 30, 8)),
        created_by=world.agent,
    )
    assert selectors.who_is_on_call(schedule, local(2026, 3, 17)) == world.agent2
    assert selectors.who_is_on_call(schedule, local(2026, 3, 24)) == world.agent
    # The reason is stored in the language of the person who swapped (Finnish by default).
    assert Override.objects.filter(schedule=schedule, reason=gettext("Shift swap")).count() == 2


def test_override_ending_before_it_starts_is_refused(world):
    schedule = weekly([world.agent])
    with pytest.raises(ValidationError):
        services.override_create(
            schedule=schedule, user=world.agent, start=local(2026, 3, 4), end=local(2026, 3, 4)
        )
    row = Override(
        schedule=schedule, user=world.agent, start=local(2026, 3, 5), end=local(2026, 3, 4)
    )
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert "end" in caught.value.message_dict


def test_unknown_zone_is_refused(db):
    with pytest.raises(ValidationError) as caught:
        Schedule(name="x", timezone="Europe/Nowhere").full_clean()
    assert "timezone" in caught.value.message_dict


def test_zero_length_custom_rotation_is_refused(world):
    schedule = weekly([world.agent])
    layer = Layer(
        schedule=schedule,
        name="x",
        rotation=RotationKind.CUSTOM_HOURS,
        length=0,
        start_date=dt.date(2026, 1, 1),
    )
    with pytest.raises(ValidationError) as caught:
        layer.full_clean()
    assert "length" in caught.value.message_dict


def test_bad_weekdays_are_refused(world):
    schedule = weekly([world.agent])
    layer = Layer(
        schedule=schedule, name="x", start_date=dt.date(2026, 1, 1), full_day_weekdays="78"
    )
    with pytest.raises(ValidationError) as caught:
        layer.full_clean()
    assert "full_day_weekdays" in caught.value.message_dict


def test_half_a_window_is_refused(world):
    schedule = weekly([world.agent])
    layer = Layer(
        schedule=schedule, name="x", start_date=dt.date(2026, 1, 1), window_start=dt.time(16)
    )
    with pytest.raises(ValidationError) as caught:
        layer.full_clean()
    assert "window_end" in caught.value.message_dict


@time_machine.travel(dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC), tick=False)
def test_admin_page_shows_who_is_on_call_the_week_gaps_and_the_feed(world, login):
    schedule = weekly([world.agent, world.agent2], window_start=dt.time(16), window_end=dt.time(8))
    client = login(world.admin)
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.language = "en"
    world.admin.save()
    response = client.get(f"/admin/oncall/schedule/{schedule.pk}/change/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Nobody on call" in text
    assert world.agent.display_name() in text
    assert services.feed_path("schedule", schedule.pk) in text
    assert services.feed_path("person", world.agent2.pk) in text


@time_machine.travel(dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC), tick=False)
def test_admin_page_warns_of_a_layer_with_nobody(world, login):
    schedule = weekly([])
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.language = "en"
    world.admin.save()
    response = login(world.admin).get(f"/admin/oncall/schedule/{schedule.pk}/change/")
    text = response.content.decode()
    assert "Layer weekly has nobody in it." in text
    assert "Nobody on call" in text


def test_admin_refuses_an_unknown_zone(world, login):
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.language = "en"
    world.admin.save()
    client = login(world.admin)
    data = {
        "name": "Night",
        "timezone": "Mars/Olympus",
        "team": "",
        "layers-TOTAL_FORMS": "0",
        "layers-INITIAL_FORMS": "0",
        "overrides-TOTAL_FORMS": "0",
        "overrides-INITIAL_FORMS": "0",
    }
    response = client.post("/admin/oncall/schedule/add/", data)
    assert response.status_code == 200
    assert "Unknown time zone" in response.content.decode()
    assert not Schedule.objects.exists()
