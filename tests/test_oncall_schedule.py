"""On-call schedules against a brute-force oracle that steps 15 minutes at a time.

Schedules are random (one to three layers, daily, weekly, every N days or N hours, local
handoffs on a 15-minute grid, optional weekly windows that may cross midnight, overrides);
ranges are drawn from 2026 with extra weight on both DST changes in Europe/Helsinki.
"""

import datetime as dt
import functools
from bisect import bisect_right
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vuoro.oncall.schedule import OVERRIDE, Layer, Override, Schedule, ScheduleError, Window

HELSINKI = ZoneInfo("Europe/Helsinki")
UTC = dt.UTC
STEP = dt.timedelta(minutes=15)
HOUR = dt.timedelta(hours=1)
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DST_DAYS = [dt.date(2026, 3, 29), dt.date(2026, 10, 25)]
ALICE, BOB, CAROL, DAVE = 1, 2, 3, 4


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HELSINKI)


# --- the oracle ------------------------------------------------------------------------------


def wall(day: dt.date, seconds: int) -> dt.datetime:
    naive = dt.datetime(day.year, day.month, day.day) + dt.timedelta(seconds=seconds)
    return naive.replace(tzinfo=HELSINKI).astimezone(UTC)


@functools.cache
def handoffs(layer: Layer) -> list[dt.datetime]:
    """Every handoff of the layer into 2027, listed one by one from the first."""
    handoff = layer.handoff.hour * 3600 + layer.handoff.minute * 60
    if layer.unit == "days":
        return [
            wall(layer.start + dt.timedelta(days=k * layer.length), handoff) for k in range(400)
        ]
    origin = wall(layer.start, handoff)
    return [origin + k * layer.length * HOUR for k in range(1200)]


def oracle_layer(layer: Layer, at: dt.datetime):
    if not layer.participants:
        return None
    if layer.windows:
        day = at.astimezone(HELSINKI).date()
        if not any(
            w.weekday == d.weekday() and wall(d, w.start) <= at < wall(d, w.end)
            for d in (day - dt.timedelta(days=1), day)
            for w in layer.windows
        ):
            return None
    index = bisect_right(handoffs(layer), at) - 1
    return None if index < 0 else layer.participants[index % len(layer.participants)]


def oracle(schedule: Schedule, at: dt.datetime):
    for override in reversed(schedule.overrides):
        if override.start <= at < override.end:
            return override.person, OVERRIDE
    ranked = sorted(enumerate(schedule.layers), key=lambda p: (p[1].order, p[0]), reverse=True)
    for _, layer in ranked:
        person = oracle_layer(layer, at)
        if person is not None:
            return person, layer.name
    return None


def steps(a: dt.datetime, b: dt.datetime):
    t = a
    while t < b:
        yield t
        t += STEP


# --- strategies ------------------------------------------------------------------------------

QUARTER = 15 * 60


@st.composite
def windows(draw):
    if draw(st.booleans()):
        return ()
    result = []
    for weekday in draw(st.lists(st.integers(0, 6), max_size=4, unique=True)):
        start = draw(st.integers(0, 95)) * QUARTER
        length = draw(st.integers(1, 96)) * QUARTER
        result.append(Window(weekday, start, start + length))
    return tuple(result)


@st.composite
def layers(draw, index):
    unit = draw(st.sampled_from(["days", "hours"]))
    length = draw(st.sampled_from([1, 7, 3]) if unit == "days" else st.sampled_from([8, 12, 30]))
    return Layer(
        name=f"layer {index}",
        participants=tuple(draw(st.lists(st.integers(1, 5), max_size=4))),
        start=dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 330))),
        handoff=dt.time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45]))),
        length=length,
        unit=unit,
        windows=draw(windows()),
        order=draw(st.integers(0, 2)),
    )


@st.composite
def instants(draw):
    """A 2026 instant on the 15-minute grid, often close to a DST change."""
    if draw(st.booleans()):
        base = dt.datetime.combine(draw(st.sampled_from(DST_DAYS)), dt.time(0), UTC)
        return base + draw(st.integers(-4 * 24 * 4, 4 * 24 * 4)) * STEP
    return dt.datetime(2026, 1, 1, tzinfo=UTC) + draw(st.integers(0, 364 * 96)) * STEP


@st.composite
def schedules(draw):
    count = draw(st.integers(1, 3))
    overrides = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(instants())
        overrides.append(
            Override(start, start + draw(st.integers(1, 200)) * STEP, draw(st.integers(1, 5)))
        )
    return Schedule(
        "Europe/Helsinki", tuple(draw(layers(i)) for i in range(count)), tuple(overrides)
    )


@st.composite
def ranges(draw):
    a = draw(instants())
    return a, a + draw(st.integers(1, 4 * 24 * 4)) * STEP


# --- properties ------------------------------------------------------------------------------


@EXAMPLES
@given(schedules(), ranges())
def test_on_call_agrees_with_the_oracle(schedule, span):
    for t in steps(*span):
        expected = oracle(schedule, t)
        assert schedule.on_call(t) == (expected[0] if expected else None), t


@EXAMPLES
@given(schedules(), ranges())
def test_shifts_and_gaps_cover_the_range_exactly(schedule, span):
    a, b = span
    pieces = sorted(
        [(s.start, s.end, (s.person, s.layer)) for s in schedule.shifts(a, b)]
        + [(s, e, None) for s, e in schedule.gaps(a, b)]
    )
    assert pieces[0][0] == a and pieces[-1][1] == b
    for (_, end, _), (start, _, _) in zip(pieces, pieces[1:], strict=False):
        assert end == start
    for start, end, who in pieces:
        assert start < end
        for t in steps(start, end):
            assert oracle(schedule, t) == who, t
    shifts = schedule.shifts(a, b)
    for left, right in zip(shifts, shifts[1:], strict=False):
        assert left.end <= right.start
        assert (left.end, left.person, left.layer) != (right.start, right.person, right.layer)


@EXAMPLES
@given(schedules(), ranges())
def test_overrides_win(schedule, span):
    for override in schedule.overrides:
        for t in steps(max(override.start, span[0]), min(override.end, span[1])):
            winner = [o for o in schedule.overrides if o.start <= t < o.end][-1]
            assert schedule.on_call(t) == winner.person


# --- examples --------------------------------------------------------------------------------


def weekly_helsinki(**extra) -> Schedule:
    layer = Layer("weekly", (ALICE, BOB), start=dt.date(2026, 3, 2), handoff=dt.time(8), length=7)
    return Schedule("Europe/Helsinki", (layer,), **extra)


def test_weekly_handoff_across_spring_dst_is_167_hours_and_stays_at_0800():
    shifts = weekly_helsinki().shifts(local(2026, 3, 23, 8), local(2026, 4, 6, 8))
    assert [s.duration for s in shifts] == [167 * HOUR, 168 * HOUR]
    assert [s.start.astimezone(HELSINKI).time() for s in shifts] == [dt.time(8), dt.time(8)]
    assert [s.person for s in shifts] == [BOB, ALICE]


def test_weekly_handoff_across_autumn_dst_is_169_hours():
    shifts = weekly_helsinki().shifts(local(2026, 10, 19, 8), local(2026, 10, 26, 8))
    assert [s.duration for s in shifts] == [169 * HOUR]
    assert shifts[0].end.astimezone(HELSINKI) == local(2026, 10, 26, 8)


def test_on_call_changes_at_the_local_handoff():
    schedule = weekly_helsinki()
    assert schedule.on_call(local(2026, 3, 30, 7, 59)) == BOB
    assert schedule.on_call(local(2026, 3, 30, 8)) == ALICE
    assert schedule.on_call(local(2026, 3, 2, 7, 59)) is None


def test_daily_rotation_cycles_through_participants():
    layer = Layer(
        "daily", (ALICE, BOB, CAROL), start=dt.date(2026, 5, 4), handoff=dt.time(9), length=1
    )
    schedule = Schedule("Europe/Helsinki", (layer,))
    shifts = schedule.shifts(local(2026, 5, 4, 9), local(2026, 5, 8, 9))
    assert [s.person for s in shifts] == [ALICE, BOB, CAROL, ALICE]
    assert all(s.duration == 24 * HOUR for s in shifts)


def nights_and_weekends() -> tuple[Window, ...]:
    nights = tuple(Window.wall(d, dt.time(16), dt.time(8)) for d in range(7))
    return nights + (Window.whole_day(5), Window.whole_day(6))


def test_layer_restricted_to_nights_and_weekends_falls_back_to_the_day_layer():
    day = Layer("office", (ALICE,), start=dt.date(2026, 1, 5), handoff=dt.time(8), length=7)
    night = Layer(
        "out of hours",
        (BOB,),
        start=dt.date(2026, 1, 5),
        handoff=dt.time(8),
        length=7,
        windows=nights_and_weekends(),
        order=1,
    )
    schedule = Schedule("Europe/Helsinki", (day, night))
    assert schedule.on_call(local(2026, 6, 3, 12)) == ALICE  # Wednesday noon
    assert schedule.on_call(local(2026, 6, 3, 16)) == BOB
    assert schedule.on_call(local(2026, 6, 4, 7, 59)) == BOB
    assert schedule.on_call(local(2026, 6, 6, 12)) == BOB  # Saturday
    shifts = schedule.shifts(local(2026, 6, 5, 8), local(2026, 6, 8, 8))  # Friday 08 → Monday 08
    assert [(s.person, s.layer) for s in shifts] == [(ALICE, "office"), (BOB, "out of hours")]
    assert shifts[1].start == local(2026, 6, 5, 16)


def test_override_replaces_the_rotation_for_its_range():
    override = Override(local(2026, 4, 8, 12), local(2026, 4, 9, 12), CAROL)
    schedule = weekly_helsinki(overrides=(override,))
    shifts = schedule.shifts(local(2026, 4, 6, 8), local(2026, 4, 13, 8))
    assert [(s.person, s.layer) for s in shifts] == [
        (BOB, "weekly"),
        (CAROL, OVERRIDE),
        (BOB, "weekly"),
    ]
    assert shifts[1].start == local(2026, 4, 8, 12) and shifts[1].end == local(2026, 4, 9, 12)


def test_shift_swap_is_two_overrides():
    # Bob (week of 6 April) and Alice (week of 13 April) trade weeks.
    swap = (
        Override(local(2026, 4, 6, 8), local(2026, 4, 13, 8), ALICE),
        Override(local(2026, 4, 13, 8), local(2026, 4, 20, 8), BOB),
    )
    schedule = weekly_helsinki(overrides=swap)
    assert weekly_helsinki().on_call(local(2026, 4, 8)) == BOB
    assert schedule.on_call(local(2026, 4, 8)) == ALICE
    assert schedule.on_call(local(2026, 4, 15)) == BOB
    assert schedule.on_call(local(2026, 4, 22)) == BOB  # the rotation resumes


def test_a_layer_with_no_one_leaves_a_gap():
    empty = Layer("nobody yet", (), start=dt.date(2026, 1, 5))
    schedule = Schedule("Europe/Helsinki", (empty,))
    a, b = local(2026, 2, 2), local(2026, 2, 9)
    assert schedule.gaps(a, b) == [(a.astimezone(UTC), b.astimezone(UTC))]
    assert schedule.shifts(a, b) == []


def test_gaps_only_where_the_restricted_layer_is_off():
    night = Layer(
        "nights",
        (BOB,),
        start=dt.date(2026, 1, 5),
        windows=(Window.wall(2, dt.time(16), dt.time(8)),),
    )
    schedule = Schedule("Europe/Helsinki", (night,))
    gaps = schedule.gaps(local(2026, 6, 3), local(2026, 6, 5))
    assert gaps == [
        (local(2026, 6, 3).astimezone(UTC), local(2026, 6, 3, 16).astimezone(UTC)),
        (local(2026, 6, 4, 8).astimezone(UTC), local(2026, 6, 5).astimezone(UTC)),
    ]


def test_hourly_rotation_counts_real_hours_across_dst():
    layer = Layer(
        "12h",
        (ALICE, BOB),
        start=dt.date(2026, 3, 28),
        handoff=dt.time(20),
        length=12,
        unit="hours",
    )
    schedule = Schedule("Europe/Helsinki", (layer,))
    assert (
        schedule.on_call(local(2026, 3, 29, 9)) == BOB
    )  # 20:00 + 12 real hours = 09:00 summer time
    assert schedule.on_call(local(2026, 3, 29, 8, 59)) == ALICE


@pytest.mark.parametrize(
    "build",
    [
        lambda: Schedule("Europe/Nowhere"),
        lambda: Layer("x", (1,), start=dt.date(2026, 1, 1), length=0),
        lambda: Override(local(2026, 1, 2), local(2026, 1, 1), 1),
        lambda: Override(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2), 1),
        lambda: Window(7, 0, 3600),
    ],
)
def test_nonsense_is_refused(build):
    with pytest.raises(ScheduleError):
        build()


def test_naive_questions_are_refused():
    with pytest.raises(ScheduleError):
        weekly_helsinki().on_call(dt.datetime(2026, 1, 1))
