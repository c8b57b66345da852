"""Demo SLA policies: critical services around the clock for P1 and P2, office hours otherwise.

Called by the demo loader after the services exist; safe to call again (policies are updated
in place, calendars looked up by name).
"""

import datetime as dt

from django.db import transaction

from vuoro.calendars.models import Calendar, OpeningHours
from vuoro.catalog.models import Service
from vuoro.sla.models import SlaPolicy

OFFICE_HOURS = "Virka-aika ma–pe 8–16"
AROUND_THE_CLOCK = "Ympäri vuorokauden"
BUSINESS_DAY_MINUTES = 8 * 60
CRITICAL_TARGETS = {"P1": (30, 4 * 60), "P2": (60, 8 * 60)}
OFFICE_TARGETS = (4 * 60, 3 * BUSINESS_DAY_MINUTES)


def office_hours() -> Calendar:
    """Monday to Friday 8–16 in Helsinki with Finnish public holidays."""
    calendar, created = Calendar.objects.get_or_create(
        name=OFFICE_HOURS, defaults={"timezone": "Europe/Helsinki", "holiday_country": "FI"})
    if created:
        OpeningHours.objects.bulk_create(
            OpeningHours(calendar=calendar, weekday=d, start=dt.time(8), end=dt.time(16)) for d in range(5))
        calendar.save()  # a new version for the compiled-calendar cache
    return calendar


def around_the_clock() -> Calendar:
    calendar, _created = Calendar.objects.get_or_create(
        name=AROUND_THE_CLOCK, defaults={"timezone": "Europe/Helsinki", "always_open": True})
    return calendar


def _policy(service: Service, priority: str, calendar: Calendar | None, targets: tuple[int, int]) -> None:
    SlaPolicy.objects.update_or_create(
        service=service, priority=priority,
        defaults={"calendar": calendar, "first_response_minutes": targets[0],
                  "resolution_minutes": targets[1], "warning_percent": 80})


@transaction.atomic
def load_sla_demo() -> int:
    """Policies for every active service; returns how many policies there are afterwards."""
    office = office_hours()
    always = around_the_clock()
    for service in Service.objects.filter(active=True).select_related("calendar"):
        # Other priorities follow the service's own hours when it has them.
        _policy(service, "", None if service.calendar_id else office, OFFICE_TARGETS)
        if service.critical:
            for priority, targets in CRITICAL_TARGETS.items():
                _policy(service, priority, always, targets)
    return SlaPolicy.objects.count()
