"""Business-time arithmetic on service calendars: exact to the second, correct across DST.

Pure Python (no Django). A calendar is a time zone, weekly opening intervals in wall-clock
time (several per weekday; an interval may cross midnight, e.g. 22:00–06:00), public holidays
and dated exceptions (closed, or special hours). An interval belongs to the local date it
starts on; a holiday or exception replaces that date's weekly intervals.

The calendar is compiled, one local year at a time, into sorted, merged, half-open spans of
UTC seconds with a running total of open seconds before each span. Every question is then a
binary search, so a due date 500 business hours ahead costs what one 2 hours ahead costs.

Answers never depend on what was asked before: a compiled calendar grows its range of years as
questions need it, but every limit ("not open enough within 30 years", "no change within three
years") is counted from the local year of the question's own instant, never from the compiled
range. Instants too close to the ends of ``datetime``'s range are refused with CalendarError.

Wall-clock rules on DST nights: an interval is anchored to local wall times, so 00:00–08:00 is
7 hours long on the last Sunday of March and 9 hours on the last Sunday of October in
Europe/Helsinki. A wall time inside the spring gap (03:00–04:00) is read with the offset in
force before the change, i.e. moved forward by an hour; an ambiguous autumn time is its
first occurrence.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

DAY = 86_400
UTC = dt.UTC
MAX_YEARS_AHEAD = 30  # a due date lies before the local new year MAX_YEARS_AHEAD + 1 years on
CHANGE_YEARS_AHEAD = 3  # a next change lies before the local new year CHANGE_YEARS_AHEAD + 1 years on
# Local years a question may start in: room for the margins and horizons above.
FIRST_YEAR = dt.MINYEAR + 2
LAST_YEAR = dt.MAXYEAR - MAX_YEARS_AHEAD - 3


class CalendarError(ValueError):
    """A calendar definition or a question about it makes no sense."""


@dataclass(frozen=True, order=True)
class Interval:
    """Open from ``start`` to ``end`` seconds after local midnight; ``end`` may pass midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < DAY:
            raise CalendarError("an interval must start between 00:00 and 23:59:59")
        if self.end <= self.start:
            raise CalendarError("an interval must end after it starts")
        if self.end - self.start > DAY:
            raise CalendarError("an interval may last at most 24 hours")

    @classmethod
    def wall(cls, start: dt.time, end: dt.time) -> Interval:
        """From wall times; an end at or before the start means the next day (22:00–06:00)."""
        s = start.hour * 3600 + start.minute * 60 + start.second
        e = end.hour * 3600 + end.minute * 60 + end.second
        if e <= s:
            e += DAY
        return cls(s, e)


def find_overlaps(intervals: Iterable[Interval]) -> list[tuple[Interval, Interval]]:
    """Pairs of intervals of one day that overlap (touching ends are fine)."""
    ordered = sorted(intervals)
    return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if b.start < a.end]


HolidayLookup = Callable[[int], Iterable[dt.date]]


def no_holidays(year: int) -> Iterable[dt.date]:
    return ()


def country_holidays(country: str, subdivision: str | None = None) -> HolidayLookup:
    """Public holidays from the ``holidays`` package (Finland includes Midsummer and Christmas Eve)."""
    import holidays

    try:
        holidays.country_holidays(country, subdiv=subdivision or None, years=2026)
    except (NotImplementedError, KeyError) as exc:
        raise CalendarError(f"unknown holiday country or subdivision: {country} {subdivision or ''}") from exc

    def lookup(year: int) -> Iterable[dt.date]:
        return holidays.country_holidays(country, subdiv=subdivision or None, years=year).keys()

    return lookup


@dataclass
class BusinessCalendar:
    """A compiled calendar. Build once per definition and reuse: years are compiled lazily."""

    timezone: str
    weekly: Mapping[int, tuple[Interval, ...]]  # 0 = Monday … 6 = Sunday
    holidays: HolidayLookup = no_holidays
    exceptions: Mapping[dt.date, tuple[Interval, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            self._zone = ZoneInfo(self.timezone)
        except Exception as exc:  # noqa: BLE001 - ZoneInfo raises several kinds
            raise CalendarError(f"unknown time zone: {self.timezone}") from exc
        for weekday, intervals in self.weekly.items():
            if weekday not in range(7):
                raise CalendarError(f"weekday must be 0–6, not {weekday}")
            if find_overlaps(intervals):
                raise CalendarError(f"overlapping intervals on weekday {weekday}")
        for day, intervals in self.exceptions.items():
            if find_overlaps(intervals):
                raise CalendarError(f"overlapping intervals on {day.isoformat()}")
        self._year_spans_cache: dict[int, list[tuple[float, float]]] = {}
        self._spans: _Spans | None = None

    # -- compiling ---------------------------------------------------------------------------

    def intervals_on(self, day: dt.date, holiday_dates: frozenset[dt.date] | None = None) -> tuple[Interval, ...]:
        """The intervals that start on local date ``day``."""
        if day in self.exceptions:
            return self.exceptions[day]
        holidays = holiday_dates if holiday_dates is not None else frozenset(self.holidays(day.year))
        if day in holidays:
            return ()
        return self.weekly.get(day.weekday(), ())

    def _wall_to_utc(self, day: dt.date, seconds: int) -> float:
        wall = dt.datetime(day.year, day.month, day.day) + dt.timedelta(seconds=seconds)
        return wall.replace(tzinfo=self._zone).timestamp()

    def _year_spans(self, year: int) -> list[tuple[float, float]]:
        holiday_dates = frozenset(self.holidays(year))
        spans = []
        day = dt.date(year, 1, 1)
        one = dt.timedelta(days=1)
        while day.year == year:
            for interval in self.intervals_on(day, holiday_dates):
                start = self._wall_to_utc(day, interval.start)
                end = self._wall_to_utc(day, interval.end)
                if end > start:  # an interval wholly inside the spring gap has no length
                    spans.append((start, end))
            day += one
        return spans

    def _year_cached(self, year: int) -> list[tuple[float, float]]:
        spans = self._year_spans_cache.get(year)
        if spans is None:
            spans = self._year_spans_cache[year] = self._year_spans(year)
        return spans

    def _compile(self, first: int, last: int) -> _Spans:
        """Merge the spans of local years ``first``…``last``; each year is built only once.

        The result is one immutable object swapped in whole, so a reader in another thread
        sees either the old or the new compilation, never half of one.
        """
        raw: list[tuple[float, float]] = []
        for year in range(first, last + 1):
            raw.extend(self._year_cached(year))
        raw.sort()
        starts: list[float] = []
        ends: list[float] = []
        _merge_into(starts, ends, raw)
        cum, cum_end = _running_totals(starts, ends, 0.0)
        self._spans = _Spans(first, last, starts, ends, cum, cum_end, self._new_year(last + 1))
        return self._spans

    def _extend(self, spans: _Spans) -> _Spans:
        """``spans`` grown by one local year at its end, without merging the older years again.

        Every span of year ``last + 1`` starts after every span of the years before (intervals
        start on their own local date), so only the last old span can touch the new ones.
        """
        year = spans.last + 1
        starts, ends = list(spans.starts), list(spans.ends)
        kept = len(starts) - 1 if starts else 0
        _merge_into(starts, ends, sorted(self._year_cached(year)))
        base = spans.cum[kept] if kept < len(spans.cum) else 0.0
        cum, cum_end = _running_totals(starts[kept:], ends[kept:], base)
        grown = _Spans(spans.first, year, starts, ends, spans.cum[:kept] + cum,
                       spans.cum_end[:kept] + cum_end, self._new_year(year + 1))
        self._spans = grown
        return grown

    def _new_year(self, year: int) -> float:
        """The instant local year ``year`` begins."""
        return dt.datetime(year, 1, 1, tzinfo=self._zone).timestamp()

    def _year_of(self, ts: float) -> int:
        """The local year of ``ts``; CalendarError outside FIRST_YEAR…LAST_YEAR."""
        try:
            year = dt.datetime.fromtimestamp(ts, self._zone).year
        except (OverflowError, ValueError, OSError):
            year = None
        if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
            raise CalendarError(f"times must lie in the years {FIRST_YEAR}–{LAST_YEAR}")
        return year

    def _cover(self, ts: float) -> _Spans:
        """Spans covering the local years around ``ts`` (with a year's margin)."""
        spans = self._spans
        year = self._year_of(ts)
        if spans is not None and spans.first < year < spans.last:
            return spans
        if spans is None:
            return self._compile(year - 1, year + 1)
        return self._compile(min(spans.first, year - 1), max(spans.last, year + 1))

    # -- questions ---------------------------------------------------------------------------

    @staticmethod
    def _ts(at: dt.datetime) -> float:
        if at.tzinfo is None:
            raise CalendarError("times must be timezone-aware")
        try:
            return at.timestamp()
        except (OverflowError, ValueError) as exc:
            raise CalendarError(f"times must lie in the years {FIRST_YEAR}–{LAST_YEAR}") from exc

    def is_open(self, at: dt.datetime) -> bool:
        ts = self._ts(at)
        spans = self._cover(ts)
        i = bisect_right(spans.starts, ts) - 1
        return i >= 0 and ts < spans.ends[i]

    def next_change(self, at: dt.datetime) -> dt.datetime | None:
        """When the open/closed state next flips after ``at``; None if not before the local new
        year CHANGE_YEARS_AHEAD + 1 years after ``at``'s local year."""
        ts = self._ts(at)
        horizon = self._new_year(self._year_of(ts) + CHANGE_YEARS_AHEAD + 1)
        spans = self._cover(ts)
        while True:
            i = bisect_right(spans.starts, ts) - 1
            if i >= 0 and ts < spans.ends[i]:
                flip: float | None = spans.ends[i]
            elif i + 1 < len(spans.starts):
                flip = spans.starts[i + 1]
            else:
                flip = None
            # A flip at or past the compiled end may be merged away by next year's openings.
            if flip is not None and flip < spans.end_ts:
                return dt.datetime.fromtimestamp(flip, UTC) if flip < horizon else None
            if spans.end_ts >= horizon:
                return None
            spans = self._extend(spans)

    def next_opening(self, at: dt.datetime) -> dt.datetime | None:
        """``at`` itself when open, else the start of the next opening; None if never."""
        if self.is_open(at):
            return at
        return self.next_change(at)

    def add_business_time(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The instant when ``duration`` of open time has passed since ``start``.

        CalendarError when that instant is not before the local new year MAX_YEARS_AHEAD + 1
        years after ``start``'s local year (whatever this object compiled before).
        """
        seconds = duration.total_seconds()
        if seconds < 0:
            raise CalendarError("duration must not be negative")
        ts = self._ts(start)
        horizon = self._new_year(self._year_of(ts) + MAX_YEARS_AHEAD + 1)
        if seconds == 0:
            return start.astimezone(UTC)
        spans = self._cover(ts)
        # Growing the compiled range forwards never moves positions before its old end.
        target = spans.position(ts) + seconds
        while True:
            j = bisect_left(spans.cum_end, target)
            if j < len(spans.cum_end):
                due = spans.starts[j] + (target - spans.cum[j])
                if due < spans.end_ts:
                    if due >= horizon:
                        break
                    return dt.datetime.fromtimestamp(due, UTC)
            if spans.end_ts >= horizon:
                break
            spans = self._extend(spans)
        raise CalendarError(f"the calendar does not open enough within {MAX_YEARS_AHEAD} years")

    def business_time_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Open time from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
        ta, tb = self._ts(a), self._ts(b)
        self._cover(ta)
        spans = self._cover(tb)  # grows the range that already covers ``ta``
        return dt.timedelta(seconds=spans.position(tb) - spans.position(ta))


def _merge_into(starts: list[float], ends: list[float], raw: Iterable[tuple[float, float]]) -> None:
    """Append sorted ``raw`` spans to the merged ``starts``/``ends``, joining overlaps."""
    for start, end in raw:
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)


def _running_totals(starts: list[float], ends: list[float], total: float) -> tuple[list[float], list[float]]:
    """Open seconds before and up to the end of each span, counting from ``total``."""
    cum, cum_end = [], []
    for start, end in zip(starts, ends, strict=True):
        cum.append(total)
        total += end - start
        cum_end.append(total)
    return cum, cum_end


@dataclass(frozen=True)
class _Spans:
    """Compiled, merged, half-open open spans (UTC seconds) for local years first…last."""

    first: int
    last: int
    starts: list[float]
    ends: list[float]
    cum: list[float]  # open seconds before span i
    cum_end: list[float]  # open seconds up to the end of span i
    end_ts: float  # the first instant not compiled (local new year after ``last``)

    def position(self, ts: float) -> float:
        """Open seconds in the compiled range before instant ``ts``."""
        i = bisect_right(self.starts, ts) - 1
        if i < 0:
            return 0.0
        return self.cum[i] + min(ts - self.starts[i], self.ends[i] - self.starts[i])


def always_open(timezone: str = "Europe/Helsinki") -> BusinessCalendar:
    """The built-in 24/7 calendar."""
    whole_day = (Interval(0, DAY),)
    return BusinessCalendar(timezone=timezone, weekly={d: whole_day for d in range(7)})
