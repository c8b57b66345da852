"""Which SLA policy applies to a ticket, and on which calendar its clocks count."""

from vuoro.calendars.businesstime import BusinessCalendar
from vuoro.calendars.models import Calendar
from vuoro.calendars.selectors import business_calendar_for
from vuoro.catalog.models import Service
from vuoro.core import config_cache
from vuoro.sla.models import ClockKind, SlaPolicy


def policy_for(service: Service | int, priority: str) -> SlaPolicy | None:
    """The service's policy for ``priority``, else its catch-all policy, else None (no SLA).

    Cached per process (core.config_cache); the policy's calendar and the service's calendar
    come with it.
    """
    service_id = service if isinstance(service, int) else service.pk
    candidates = config_cache.cached(("sla.policies", service_id, priority), lambda: list(
        SlaPolicy.objects.filter(service_id=service_id, priority__in=[priority, ""])
        .select_related("calendar", "service__calendar")
    ))
    exact = [p for p in candidates if p.priority == priority]
    fallback = [p for p in candidates if not p.priority]
    return (exact or fallback or [None])[0]


def policy_calendar(policy: SlaPolicy) -> Calendar | None:
    """The policy's own calendar, else the service's hours; None means around the clock."""
    return policy.calendar if policy.calendar_id else policy.service.calendar


def policy_targets(policy: SlaPolicy | None) -> dict[str, int]:
    """Target seconds per clock kind; a kind without a target has no clock."""
    if policy is None:
        return {}
    minutes = {
        ClockKind.FIRST_RESPONSE: policy.first_response_minutes,
        ClockKind.RESOLUTION: policy.resolution_minutes,
    }
    return {str(kind): value * 60 for kind, value in minutes.items() if value}


def compiled_calendar(calendar: Calendar | None) -> BusinessCalendar:
    """The compiled calendar a clock counts on (cached per calendar row version)."""
    return business_calendar_for(calendar)
