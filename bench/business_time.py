"""Due-date computations per second on one core, as the SLA clocks ask them.

Each question is ``add_business_time(start, duration)`` on a compiled calendar that is reused
(warm, as in a running process: ``calendars.selectors`` caches one per calendar version).
Starts are uniform over 2025–2027, durations uniform over 1–500 business hours. Pure module,
no database.

    .venv/bin/python bench/business_time.py [--n 200000] [--seed 1]
"""

import argparse
import datetime as dt
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from vuoro.calendars.businesstime import (  # noqa: E402
    BusinessCalendar,
    Interval,
    always_open,
    country_holidays,
)

UTC = dt.UTC
HOUR = 3600
FIRST = dt.datetime(2025, 1, 1, tzinfo=UTC).timestamp()
LAST = dt.datetime(2028, 1, 1, tzinfo=UTC).timestamp()


def office_hours() -> BusinessCalendar:
    """Mon–Fri 8–16 in Helsinki, Finnish public holidays."""
    day = (Interval(8 * HOUR, 16 * HOUR),)
    return BusinessCalendar("Europe/Helsinki", {d: day for d in range(5)}, country_holidays("FI"))


def two_shifts() -> BusinessCalendar:
    """Mon–Sat 07–15 and 21–03 (the night shift runs past midnight), Finnish public holidays."""
    shifts = (Interval(7 * HOUR, 15 * HOUR), Interval(21 * HOUR, 27 * HOUR))
    return BusinessCalendar("Europe/Helsinki", {d: shifts for d in range(6)}, country_holidays("FI"))


CALENDARS = {
    "Office hours Mon–Fri 8–16, Finnish holidays": office_hours,
    "24/7": always_open,
    "Two shifts Mon–Sat 07–15 + 21–03, Finnish holidays": two_shifts,
}


def questions(n: int, rng: random.Random) -> list[tuple[dt.datetime, dt.timedelta]]:
    return [(dt.datetime.fromtimestamp(rng.uniform(FIRST, LAST), UTC),
             dt.timedelta(seconds=rng.uniform(1 * HOUR, 500 * HOUR))) for _ in range(n)]


def warm(calendar: BusinessCalendar, asked: list[tuple[dt.datetime, dt.timedelta]]) -> None:
    """Compile every year the questions touch, once, as a long-running process would have."""
    for start, duration in asked[:2000]:
        calendar.add_business_time(start, duration)
    calendar.add_business_time(dt.datetime(2027, 12, 31, 23, tzinfo=UTC), dt.timedelta(hours=500))
    calendar.add_business_time(dt.datetime(2025, 1, 1, tzinfo=UTC), dt.timedelta(hours=1))


def measure(calendar: BusinessCalendar, asked: list[tuple[dt.datetime, dt.timedelta]]) -> tuple[float, float]:
    """CPU and wall seconds for all questions, each the best of three runs.

    CPU time is the one-core figure; wall time is shown too because a shared machine can
    take the core away, which CPU time does not count.
    """
    add = calendar.add_business_time
    cpu = wall = float("inf")
    for _ in range(3):
        cpu_began, wall_began = time.process_time(), time.perf_counter()
        for start, duration in asked:
            add(start, duration)
        cpu = min(cpu, time.process_time() - cpu_began)
        wall = min(wall, time.perf_counter() - wall_began)
    return cpu, wall


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="questions per calendar")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    asked = questions(args.n, random.Random(args.seed))
    print(f"{args.n:,} due dates per calendar, 1–500 business hours from random starts in 2025–2027")
    print(f"Python {platform.python_version()}, {cpu_model()}, nproc {os.cpu_count()}, pinned to one core\n")
    print("| calendar | computations/s | mean µs | wall-clock computations/s |")
    print("|---|---:|---:|---:|")
    for name, build in CALENDARS.items():
        calendar = build()
        warm(calendar, asked)
        cpu, wall = measure(calendar, asked)
        print(f"| {name} | {args.n / cpu:,.0f} | {cpu / args.n * 1e6:.2f} | {args.n / wall:,.0f} |")


if __name__ == "__main__":
    main()
