"""Reads for out-of-hours coverage: a service's coverage and the monthly decision counts."""

import datetime as dt

from django.db.models import Count, QuerySet

from vuoro.coverage.models import OutOfHoursDecision, ServiceCoverage


def coverage_list() -> QuerySet[ServiceCoverage]:
    """Every service's coverage; few rows, configuration rather than secrets."""
    return ServiceCoverage.objects.select_related("service", "partner_team", "out_of_hours_calendar")


def coverage_for_service(service_id: int) -> ServiceCoverage | None:
    return coverage_list().filter(service_id=service_id).first()


def decision_counts(*, start: dt.datetime, end: dt.datetime) -> list[dict[str, object]]:
    """Decisions in [start, end) counted per service, action and handler, for the monthly review."""
    return list(
        OutOfHoursDecision.objects.filter(decided_at__gte=start, decided_at__lt=end)
        .values("ticket__service_id", "action", "handled_by")
        .annotate(count=Count("id"))
        .order_by("ticket__service_id", "action", "handled_by")
    )
