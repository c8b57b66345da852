"""Demo coverage: the night partner covers the critical services, one model each.

Email follows guided actions (the partner runs the service's runbook first); the ERP system is
caught and dispatched.

Called by the demo loader after services and teams exist; safe to call again.
"""

from django.db import transaction

from vuoro.accounts.models import Team
from vuoro.catalog.models import Service
from vuoro.coverage.models import CoverageModel, ServiceCoverage

PARTNER_TEAM = "Päivystyskumppani"
COVERED_SERVICES = {"email": CoverageModel.GUIDED_ACTIONS, "erp": CoverageModel.CATCH_DISPATCH}


@transaction.atomic
def load_coverage_demo() -> int:
    """Coverage for the demo's critical services; returns how many services are covered."""
    team = Team.objects.filter(name=PARTNER_TEAM).first()
    if team is None:
        return 0
    for service in Service.objects.filter(slug__in=COVERED_SERVICES):
        ServiceCoverage.objects.update_or_create(
            service=service,
            defaults={"model": COVERED_SERVICES[service.slug], "partner_team": team,
                      "out_of_hours_calendar": None},
        )
    return ServiceCoverage.objects.exclude(model=CoverageModel.NONE).count()
