"""Reads on on-call schedules: rows → the pure ``schedule.Schedule``, who is on call, feeds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import Q

from vuoro.accounts.models import User
from vuoro.oncall import schedule as pure
from vuoro.oncall.models import FeedKey, FeedKind, Layer, Override, Schedule

FEED_SALT = "vuoro.oncall.feed"
FEED_PAST = dt.timedelta(days=7)
FEED_AHEAD = dt.timedelta(days=60)
# Shifts are computed this far beyond the feed's range so the edge events keep their real
# start and end (and so their UID) as the range moves day by day.
FEED_MARGIN = dt.timedelta(days=35)


def _pure_layer(layer: Layer) -> pure.Layer:
    participants = tuple(m.user_id for m in layer.members.all())
    windows: list[pure.Window] = []
    if layer.window_start is not None and layer.window_end is not None:
        windows += [
            pure.Window.wall(int(d), layer.window_start, layer.window_end)
            for d in layer.window_weekdays
        ]
    windows += [pure.Window.whole_day(int(d)) for d in layer.full_day_weekdays]
    if layer.is_restricted and not windows:
        participants = ()  # restricted to no time at all
    length, unit = layer.rotation_length()
    return pure.Layer(
        name=layer.name,
        participants=participants,
        start=layer.start_date,
        handoff=layer.handoff_time,
        length=length,
        unit=unit,  # type: ignore[arg-type]
        windows=tuple(windows),
        order=layer.order,
    )


def pure_schedule(schedule: Schedule) -> pure.Schedule:
    """The schedule's rows as the pure schedule; raises ``ScheduleError`` on a bad definition."""
    layers = schedule.layers.prefetch_related("members").order_by("order", "id")
    overrides = Override.objects.filter(schedule=schedule).order_by("created_at", "id")
    return pure.Schedule(
        schedule.timezone,
        tuple(_pure_layer(layer) for layer in layers),
        tuple(pure.Override(o.start, o.end, o.user_id) for o in overrides),
    )


def who_is_on_call(schedule: Schedule, at: dt.datetime) -> User | None:
    person = pure_schedule(schedule).on_call(at)
    return User.objects.filter(pk=person).first() if person is not None else None


def schedule_shifts(schedule: Schedule, a: dt.datetime, b: dt.datetime) -> list[pure.Shift]:
    return pure_schedule(schedule).shifts(a, b)


def schedule_gaps(
    schedule: Schedule, a: dt.datetime, b: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    return pure_schedule(schedule).gaps(a, b)


def people_by_id(ids: set[int]) -> dict[int, User]:
    return {u.pk: u for u in User.objects.filter(pk__in=ids)}


# -- feeds ------------------------------------------------------------------------------------


def feed_max_age() -> dt.timedelta:
    """How long a feed address works after it was issued (``VUORO_CALENDAR_FEED_DAYS``, 365)."""
    return dt.timedelta(days=int(getattr(settings, "VUORO_CALENDAR_FEED_DAYS", 365)))


def feed_token(key: FeedKey) -> str:
    """The signed token in a feed's address, naming the feed and its key."""
    return signing.dumps([key.kind, key.target_id, key.key], salt=FEED_SALT)


def feed_target(token: str, now: dt.datetime) -> tuple[str, int] | None:
    """What a feed token stands for; None if it was not made here, was revoked or has expired."""
    if len(token) > 300:
        return None
    try:
        value: Any = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature:
        return None
    if not (
        isinstance(value, list)
        and len(value) == 3
        and value[0] in FeedKind.values
        and isinstance(value[1], int)
        and isinstance(value[2], str)
    ):
        return None
    live = FeedKey.objects.filter(kind=value[0], target_id=value[1], key=value[2],
                                  revoked_at__isnull=True, created_at__gt=now - feed_max_age())
    return (value[0], value[1]) if live.exists() else None


def feed_shifts(
    schedules: list[Schedule], now: dt.datetime, person_id: int | None = None
) -> list[tuple[Schedule, pure.Shift]]:
    """Shifts touching [now − 7 days, now + 60 days), unclipped, optionally for one person."""
    a, b = now - FEED_PAST, now + FEED_AHEAD
    found = []
    for schedule in schedules:
        try:
            shifts = schedule_shifts(schedule, a - FEED_MARGIN, b + FEED_MARGIN)
        except pure.ScheduleError:
            continue
        for shift in shifts:
            if shift.end > a and shift.start < b and person_id in (None, shift.person):
                found.append((schedule, shift))
    found.sort(key=lambda pair: (pair[1].start, pair[0].pk))
    return found


def schedules_of_person(user_id: int) -> list[Schedule]:
    return list(
        Schedule.objects.filter(
            Q(layers__members__user_id=user_id) | Q(overrides__user_id=user_id)
        ).distinct()
    )
