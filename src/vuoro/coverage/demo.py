"""Demo coverage: the critical services are caught and dispatched by the night partner.

Called by the demo loader after services and teams exist; safe to call again.
"""

from django.db import transaction

from vuoro.accounts.models import Team
from vuoro.catalog.models import Service
from vuoro.coverage.models import CoverageModel, ServiceCoverage

PARTNER_TEAM = "Päivystyskumppani"
COVERED_SERVICES = ("email", "erp")


@transaction.atomic
def load_coverage_demo() -> int:
    """Catch & dispatch for the demo's critical services; returns how many services are covered."""
    team = Team.objects.filter(name=PARTNER_TEAM).first()
    if team is None:
        return 0
    for service in Service.objects.filter(slug__in=COVERED_SERVICES):
        ServiceCoverage.objects.update_or_create(
            service=service,
            defaults={"model": CoverageModel.CATCH_DISPATCH, "partner_team": team,
                      "out_of_hours_calendar": None},
        )
    return ServiceCoverage.objects.exclude(model=CoverageModel.NONE).count()
