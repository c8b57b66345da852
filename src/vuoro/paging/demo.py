"""Demo paging: the desk's on-call schedule and the escalation policy of the critical services.

Called by the demo loader after users, teams, services and coverage exist; safe to call again.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from vuoro.accounts.models import Team, User
from vuoro.catalog.models import Service
from vuoro.coverage.models import ServiceCoverage
from vuoro.oncall.models import Layer, LayerMember, RotationKind, Schedule
from vuoro.paging.models import EscalationPolicy, EscalationStep, TargetKind

POLICY_NAME = "Kriittiset palvelut"
SCHEDULE_NAME = "Lähituen päivystys"
DESK_TEAM = "Lähituki"
CRITICAL_SERVICES = ("email", "erp")
DESK_AGENTS = ("antti", "aino")


def _demo_schedule() -> Schedule | None:
    """The first schedule there is; else a weekly rotation of the demo agents around the clock."""
    schedule = Schedule.objects.order_by("id").first()
    if schedule is not None:
        return schedule
    agents = [u for name in DESK_AGENTS if (u := User.objects.filter(username=name).first())]
    if not agents:
        return None
    schedule = Schedule.objects.create(name=SCHEDULE_NAME, timezone="Europe/Helsinki",
                                       team=Team.objects.filter(name=DESK_TEAM).first())
    layer = Layer.objects.create(schedule=schedule, name="Viikkovuoro", rotation=RotationKind.WEEKLY,
                                 start_date=dt.date(2026, 1, 5), handoff_time=dt.time(8))
    for position, agent in enumerate(agents):
        LayerMember.objects.create(layer=layer, user=agent, position=position)
    return schedule


def _demo_email_contacts() -> None:
    """An email contact method (no webhook) for each demo agent."""
    from vuoro.notify.models import ContactKind, ContactMethod

    for agent in User.objects.filter(username__in=DESK_AGENTS).exclude(email=""):
        ContactMethod.objects.get_or_create(user=agent, kind=ContactKind.EMAIL, address=agent.email,
                                            defaults={"label": "Sähköposti", "created_at": timezone.now()})


@transaction.atomic
def load_paging_demo() -> EscalationPolicy | None:
    """Step 1: whoever is on call (wait 5 min); step 2: the desk team lead; repeat once;
    fallback: the demo admin. Assigned to the coverage of the critical services."""
    schedule = _demo_schedule()
    lead = Team.objects.filter(name=DESK_TEAM).values_list("lead", flat=True).first()
    if schedule is None or lead is None:
        return None
    policy, created = EscalationPolicy.objects.get_or_create(
        name=POLICY_NAME,
        defaults={"repeat_count": 1, "fallback_user": User.objects.filter(username="admin").first(),
                  "description": "Päivystäjä ensin, sitten lähituen tiiminvetäjä."},
    )
    if created:
        EscalationStep.objects.create(policy=policy, order=1, wait_minutes=5,
                                      target_kind=TargetKind.SCHEDULE, target_schedule=schedule)
        EscalationStep.objects.create(policy=policy, order=2, wait_minutes=5,
                                      target_kind=TargetKind.USER, target_user_id=lead)
    for service in Service.objects.filter(slug__in=CRITICAL_SERVICES):
        coverage, _new = ServiceCoverage.objects.get_or_create(service=service)
        if coverage.escalation_policy_id is None:
            coverage.escalation_policy = policy
            coverage.save(update_fields=["escalation_policy"])
    _demo_email_contacts()
    return policy
