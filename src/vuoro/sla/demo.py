"""Demo SLA policies: critical services around the clock for P1 and P2, office hours otherwise.

Called by the demo loader after the services exist; safe to call again (policies are updated
in place, calendars looked up by name).
"""

from django.db import transaction

from vuoro.calendars.models import Calendar
from vuoro.calendars.services import builtin_calendars
from vuoro.catalog.models import Service
from vuoro.sla.models import SlaPolicy

BUSINESS_DAY_MINUTES = 8 * 60
CRITICAL_TARGETS = {"P1": (30, 4 * 60), "P2": (60, 8 * 60)}
OFFICE_TARGETS = (4 * 60, 3 * BUSINESS_DAY_MINUTES)


def _policy(service: Service, priority: str, calendar: Calendar | None, targets: tuple[int, int]) -> None:
    SlaPolicy.objects.update_or_create(
        service=service, priority=priority,
        defaults={"calendar": calendar, "first_response_minutes": targets[0],
                  "resolution_minutes": targets[1], "warning_percent": 80})


@transaction.atomic
def load_sla_demo() -> int:
    """Policies for every active service; returns how many policies there are afterwards."""
    hours = builtin_calendars()
    office, always = hours.office_hours, hours.always_open
    for service in Service.objects.filter(active=True).select_related("calendar"):
        # Other priorities follow the service's own hours when it has them.
        _policy(service, "", None if service.calendar_id else office, OFFICE_TARGETS)
        if service.critical:
            for priority, targets in CRITICAL_TARGETS.items():
                _policy(service, priority, always, targets)
    return SlaPolicy.objects.count()
