"""Who is on call when: layered rotations with local-time handoffs and overrides.

Pure Python (no Django). A schedule has a time zone, layers and overrides. Each layer is a
rotation: participants in order, a length in days (daily, weekly, every N days) or in hours,
and a first handoff at a local wall-clock time on a start date. A layer may be active only
inside weekly windows (weekday + local time range, which may cross midnight). Where several
layers have someone, the highest ``order`` wins; an override (start, end, person) beats every
layer, and of overlapping overrides the later one in the list wins. A shift swap is two
overrides.

Day-based handoffs are anchored to local wall time, so a weekly Monday-08:00 shift that spans
the last Sunday of March in Europe/Helsinki is 167 hours long and the October one 169 hours.
A wall time inside the spring gap is read with the offset in force before the change (moved
forward an hour); an ambiguous autumn time is its first occurrence. Hour-based rotations
step in absolute hours from their first handoff.

Every instant taken must be aware; every instant returned is in UTC.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

UTC = dt.UTC
DAY = 86_400
OVERRIDE = "override"

Unit = Literal["days", "hours"]


class ScheduleError(ValueError):
    """A schedule definition or a question about it makes no sense."""


@dataclass(frozen=True)
class Window:
    """Active from ``start`` to ``end`` seconds after local midnight of ``weekday`` (0 = Monday).

    ``end`` may pass midnight (16:00–08:00 is ``Window(d, 57600, 115200)``) but a window lasts
    at most 24 hours.
    """

    weekday: int
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.weekday not in range(7):
            raise ScheduleError(f"weekday must be 0–6, not {self.weekday}")
        if not 0 <= self.start < DAY:
            raise ScheduleError("a window must start between 00:00 and 23:59:59")
        if self.end <= self.start:
            raise ScheduleError("a window must end after it starts")
        if self.end - self.start > DAY:
            raise ScheduleError("a window may last at most 24 hours")

    @classmethod
    def wall(cls, weekday: int, start: dt.time, end: dt.time) -> Window:
        """From wall times; an end at or before the start means the next day (16:00–08:00)."""
        s = start.hour * 3600 + start.minute * 60 + start.second
        e = end.hour * 3600 + end.minute * 60 + end.second
        if e <= s:
            e += DAY
        return cls(weekday, s, e)

    @classmethod
    def whole_day(cls, weekday: int) -> Window:
        return cls(weekday, 0, DAY)


@dataclass(frozen=True)
class Layer:
    """One rotation. ``participants`` are person ids in rotation order (may repeat)."""

    name: str
    participants: tuple[int, ...]
    start: dt.date
    handoff: dt.time = dt.time(0)
    length: int = 7
    unit: Unit = "days"
    windows: tuple[Window, ...] = ()
    order: int = 0

    def __post_init__(self) -> None:
        if self.length <= 0:
            raise ScheduleError("a rotation must be at least one day or one hour long")
        if self.unit not in ("days", "hours"):
            raise ScheduleError(f"a rotation is measured in days or hours, not {self.unit}")
        if self.handoff.tzinfo is not None:
            raise ScheduleError("the handoff is a local wall-clock time without a zone")


@dataclass(frozen=True)
class Override:
    """``person`` is on call from ``start`` to ``end`` whatever the layers say."""

    start: dt.datetime
    end: dt.datetime
    person: int

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ScheduleError("override times must be aware")
        if self.end <= self.start:
            raise ScheduleError("an override must end after it starts")


@dataclass(frozen=True)
class Shift:
    """``person`` on call from ``start`` to ``end`` (UTC, half-open) through ``layer``."""

    start: dt.datetime
    end: dt.datetime
    person: int
    layer: str

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start


def _utc(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ScheduleError("times must be aware")
    return at.astimezone(UTC)


@dataclass
class Schedule:
    timezone: str
    layers: tuple[Layer, ...] = ()
    overrides: tuple[Override, ...] = ()
    _zone: ZoneInfo = field(init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            self._zone = ZoneInfo(self.timezone)
        except Exception as exc:  # noqa: BLE001 - ZoneInfo raises several kinds
            raise ScheduleError(f"unknown time zone: {self.timezone}") from exc
        # Highest order first; among equal orders the later layer wins.
        self._ranked = sorted(
            enumerate(self.layers), key=lambda p: (p[1].order, p[0]), reverse=True
        )
        self.overrides = tuple(self.overrides)

    # -- local wall time ----------------------------------------------------------------------

    def _wall(self, day: dt.date, seconds: int) -> dt.datetime:
        naive = dt.datetime(day.year, day.month, day.day) + dt.timedelta(seconds=seconds)
        return naive.replace(tzinfo=self._zone).astimezone(UTC)

    def _handoff_seconds(self, layer: Layer) -> int:
        h = layer.handoff
        return h.hour * 3600 + h.minute * 60 + h.second

    # -- one layer ----------------------------------------------------------------------------

    def _shift_start(self, layer: Layer, k: int) -> dt.datetime:
        if layer.unit == "days":
            day = layer.start + dt.timedelta(days=k * layer.length)
            return self._wall(day, self._handoff_seconds(layer))
        origin = self._wall(layer.start, self._handoff_seconds(layer))
        return origin + dt.timedelta(hours=k * layer.length)

    def _shift_index(self, layer: Layer, at: dt.datetime) -> int:
        """The rotation index in force at ``at``; negative before the first handoff."""
        if layer.unit == "days":
            local_days = (at.astimezone(self._zone).date() - layer.start).days
            k = local_days // layer.length
        else:
            origin = self._wall(layer.start, self._handoff_seconds(layer))
            k = int((at - origin) // dt.timedelta(hours=layer.length))
        while self._shift_start(layer, k) > at:
            k -= 1
        while self._shift_start(layer, k + 1) <= at:
            k += 1
        return k

    def _in_windows(self, layer: Layer, at: dt.datetime) -> bool:
        if not layer.windows:
            return True
        local = at.astimezone(self._zone).date()
        for day in (local - dt.timedelta(days=1), local):
            for w in layer.windows:
                if w.weekday == day.weekday() and self._wall(day, w.start) <= at < self._wall(
                    day, w.end
                ):
                    return True
        return False

    def _layer_person(self, layer: Layer, at: dt.datetime) -> int | None:
        if not layer.participants or not self._in_windows(layer, at):
            return None
        k = self._shift_index(layer, at)
        if k < 0:
            return None
        return layer.participants[k % len(layer.participants)]

    def _layer_changes(self, layer: Layer, a: dt.datetime, b: dt.datetime) -> Iterator[dt.datetime]:
        """Every instant in (a, b) where the layer's answer may change."""
        if not layer.participants:
            return
        k = max(self._shift_index(layer, a), 0)
        while (t := self._shift_start(layer, k)) < b:
            if t > a:
                yield t
            k += 1
        if layer.windows:
            day = a.astimezone(self._zone).date() - dt.timedelta(days=1)
            last = b.astimezone(self._zone).date()
            while day <= last:
                for w in layer.windows:
                    if w.weekday == day.weekday():
                        for t in (self._wall(day, w.start), self._wall(day, w.end)):
                            if a < t < b:
                                yield t
                day += dt.timedelta(days=1)

    # -- questions ----------------------------------------------------------------------------

    def _who(self, at: dt.datetime) -> tuple[int, str] | None:
        for override in reversed(self.overrides):
            if override.start <= at < override.end:
                return override.person, OVERRIDE
        for _, layer in self._ranked:
            person = self._layer_person(layer, at)
            if person is not None:
                return person, layer.name
        return None

    def on_call(self, at: dt.datetime) -> int | None:
        """The person on call at ``at``, or None if nobody is."""
        who = self._who(_utc(at))
        return who[0] if who else None

    def _segments(
        self, a: dt.datetime, b: dt.datetime
    ) -> Iterator[tuple[dt.datetime, dt.datetime, tuple[int, str] | None]]:
        """Consecutive pieces of [a, b) over which the answer is constant, merged."""
        a, b = _utc(a), _utc(b)
        if b <= a:
            return
        points: Iterable[dt.datetime] = heapq.merge(
            *(sorted(self._layer_changes(layer, a, b)) for layer in self.layers),
            sorted(t for o in self.overrides for t in (_utc(o.start), _utc(o.end)) if a < t < b),
        )
        start, current = a, self._who(a)
        for t in points:
            if t <= start:
                continue
            who = self._who(t)
            if who != current:
                yield start, t, current
                start, current = t, who
        yield start, b, current

    def shifts(self, a: dt.datetime, b: dt.datetime) -> list[Shift]:
        """Who is on call over [a, b): ordered, non-overlapping, clipped to [a, b).

        Adjacent pieces with the same person from the same layer are one shift.
        """
        return [
            Shift(s, e, who[0], who[1]) for s, e, who in self._segments(a, b) if who is not None
        ]

    def gaps(self, a: dt.datetime, b: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """The pieces of [a, b) where nobody is on call."""
        return [(s, e) for s, e, who in self._segments(a, b) if who is None]
