"""Gaps in an on-call schedule are warned about once each, to the team lead and the admins."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests import factories as f
from vuoro.accounts.models import Role
from vuoro.notify.models import DeskNotification, OutboundEmail
from vuoro.oncall.models import Layer, LayerMember, Override, Schedule
from vuoro.oncall.services import gap_warnings_send

HELSINKI = ZoneInfo("Europe/Helsinki")
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=HELSINKI)  # a Monday


@pytest.fixture
def nights_only(world):
    """Weekday nights 16–08 only: the days are gaps, the first one from 08:00 today."""
    world.desk_team.lead = world.agent
    world.desk_team.save()
    schedule = Schedule.objects.create(name="Yöpäivystys", timezone="Europe/Helsinki",
                                       team=world.desk_team)
    layer = Layer.objects.create(
        schedule=schedule, name="nights", start_date=dt.date(2026, 11, 2), handoff_time=dt.time(16),
        window_start=dt.time(16), window_end=dt.time(8), window_weekdays="0123456",
    )
    LayerMember.objects.create(layer=layer, user=world.agent2, position=0)
    return schedule


def test_each_gap_of_the_next_week_is_warned_about_once(world, nights_only):
    written = gap_warnings_send(now=NOW)
    lead_notices = DeskNotification.objects.filter(user=world.agent, key__startswith="oncall-gap-")
    # The week ahead holds today's gap from 09:00 (the scan), six whole days 08–16 and next
    # Monday's first hour before the horizon ends at 09:00: eight gaps.
    assert lead_notices.count() == 8
    assert DeskNotification.objects.filter(user=world.admin, key__startswith="oncall-gap-").count() == 8
    assert not DeskNotification.objects.filter(user=world.agent2).exists()
    assert written == 16
    assert OutboundEmail.objects.filter(key__startswith="oncall-gap-").count() == 16

    assert gap_warnings_send(now=NOW + dt.timedelta(minutes=10)) == 0
    assert DeskNotification.objects.filter(key__startswith="oncall-gap-").count() == 16


def test_the_warning_names_the_schedule_and_the_local_times(world, nights_only):
    world.agent.language = "en"
    world.agent.save()
    gap_warnings_send(now=NOW)
    first = DeskNotification.objects.filter(user=world.agent).order_by("key").first()
    texts = set(DeskNotification.objects.filter(user=world.agent).values_list("text", flat=True))
    assert first is not None
    assert "Nobody is on call in Yöpäivystys from 24.11.2026 08:00 to 24.11.2026 16:00." in texts


def test_an_override_that_fills_a_gap_stops_its_warning(world, nights_only):
    tuesday = dt.datetime(2026, 11, 24, 8, 0, tzinfo=HELSINKI)
    Override.objects.create(schedule=nights_only, user=world.agent, start=tuesday,
                            end=tuesday + dt.timedelta(hours=8), created_at=NOW)
    gap_warnings_send(now=NOW)
    assert DeskNotification.objects.filter(user=world.agent, key__startswith="oncall-gap-").count() == 7


def test_a_schedule_without_gaps_warns_nobody(world):
    schedule = Schedule.objects.create(name="Around the clock", timezone="Europe/Helsinki")
    layer = Layer.objects.create(schedule=schedule, name="weekly", start_date=dt.date(2026, 11, 2),
                                 handoff_time=dt.time(8))
    LayerMember.objects.create(layer=layer, user=world.agent, position=0)
    f.user(Role.ADMIN, username="admin2")
    assert gap_warnings_send(now=NOW) == 0
    assert not DeskNotification.objects.filter(key__startswith="oncall-gap-").exists()
