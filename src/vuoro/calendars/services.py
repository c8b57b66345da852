"""Writes on calendars: the built-in rows, and the version stamp the compiled cache keys on."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from vuoro.calendars.models import Calendar, OpeningHours

ALWAYS_OPEN_NAME = "24/7"
OFFICE_HOURS_NAME = "Arkisin 8–16"


@dataclass(frozen=True)
class BuiltinCalendars:
    always_open: Calendar
    office_hours: Calendar


def calendar_touch(*, calendar: Calendar) -> None:
    """Stamp a new version after its hours or exceptions changed, so compiled copies are rebuilt.

    An update of one column, without a read first; the in-memory row gets the same stamp.
    """
    now = timezone.now()
    Calendar.objects.filter(pk=calendar.pk).update(updated_at=now)
    calendar.updated_at = now


@transaction.atomic
def builtin_calendars() -> BuiltinCalendars:
    """The 24/7 and office-hours calendars that migration 0002 creates; made again if deleted.

    Found by name, so a renamed built-in calendar is recreated under its original name.
    """
    always, _ = Calendar.objects.get_or_create(
        name=ALWAYS_OPEN_NAME,
        defaults={"timezone": "Europe/Helsinki", "holiday_country": "", "always_open": True},
    )
    office, created = Calendar.objects.get_or_create(
        name=OFFICE_HOURS_NAME, defaults={"timezone": "Europe/Helsinki", "holiday_country": "FI"},
    )
    if created:
        OpeningHours.objects.bulk_create(
            OpeningHours(calendar=office, weekday=day, start=dt.time(8), end=dt.time(16))
            for day in range(5)
        )
    return BuiltinCalendars(always_open=always, office_hours=office)
