"""Reading instants and durations that people and clients type, with errors they can act on.

Instants must carry an offset: a wall time alone is ambiguous on DST nights. Durations are ISO
8601 (``PT8H``, ``P2DT4H``, ``P1W``) or plain seconds; years and months are refused because
they have no fixed length. Both are bounded so no question reaches far outside the calendars.
"""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

FIRST_YEAR = 2000
LAST_YEAR = 2100
MAX_DURATION = dt.timedelta(days=3653)  # ten years

ISO_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)
SECONDS = re.compile(r"^\d+(?:\.\d+)?$")
# "+02:00" arrives as " 02:00" when a client forgets to URL-encode the plus sign.
LOST_PLUS = re.compile(r"^(?P<stamp>\d{4}-\d{2}-\d{2}T[\d:.]+) (?P<offset>\d{2}(?::?\d{2})?)$")
UNIT_SECONDS = {"weeks": 604_800, "days": 86_400, "hours": 3600, "minutes": 60}


def parse_instant(value: str, field: str) -> dt.datetime:
    """An aware datetime from ISO 8601 text such as ``2026-03-29T08:00+03:00``."""
    text = value.strip()
    lost_plus = LOST_PLUS.match(text)
    if lost_plus:
        text = f"{lost_plus['stamp']}+{lost_plus['offset']}"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError({field: [_("Not a date and time; use ISO 8601, e.g. 2026-03-29T08:00+03:00.")]}) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError({field: [_("Give a time zone offset, e.g. 2026-03-29T08:00+03:00 or …Z for UTC.")]})
    try:
        year = moment.astimezone(dt.UTC).year
    except OverflowError:  # 9999-12-31T23:59-01:00 or 0001-01-01T00:30+01:00 has no UTC year
        year = None
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError({field: [_("The time must be between the years %(first)d and %(last)d.")
                                       % {"first": FIRST_YEAR, "last": LAST_YEAR}]})
    return moment


def parse_duration(value: str, field: str) -> dt.timedelta:
    """A duration from ISO 8601 (``PT8H``) or seconds (``28800``), from zero to ten years."""
    text = value.strip().upper()
    if text.startswith("-"):
        raise ValidationError({field: [_("The duration must not be negative.")]})
    seconds = _seconds(text) if len(text) <= 64 else None
    if seconds is None:
        raise ValidationError({field: [_("Not a duration; use ISO 8601 such as PT8H or P2DT4H (no years or months), or seconds.")]})
    if seconds > MAX_DURATION.total_seconds():
        raise ValidationError({field: [_("The duration may be at most ten years.")]})
    return dt.timedelta(seconds=seconds)


def _seconds(text: str) -> float | None:
    if SECONDS.match(text):
        return float(text)
    match = ISO_DURATION.match(text)
    if match is None:
        return None
    parts = match.groupdict()
    total: float = sum(int(parts[unit]) * size for unit, size in UNIT_SECONDS.items() if parts[unit])
    if parts["seconds"]:
        total += float(parts["seconds"].replace(",", "."))
    return float(total)
