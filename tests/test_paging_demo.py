"""The demo's escalation policy for the critical services, and its on-call schedule."""

import datetime as dt

from vuoro.coverage.models import ServiceCoverage
from vuoro.notify.models import ContactMethod
from vuoro.oncall.models import Schedule
from vuoro.oncall.selectors import who_is_on_call
from vuoro.ops.demo import load_demo
from vuoro.paging.demo import POLICY_NAME, load_paging_demo
from vuoro.paging.models import EscalationPolicy, EscalationStep
from vuoro.paging.services import policy_snapshot


def test_demo_policy_pages_the_on_call_then_the_desk_lead_and_falls_back_to_the_admin(db):
    load_demo()
    policy = EscalationPolicy.objects.get(name=POLICY_NAME)
    assert (policy.repeat_count, policy.fallback_user.username) == (1, "admin")
    steps = list(policy.steps.order_by("order"))
    assert [(s.target_kind, s.wait_minutes) for s in steps] == [("schedule", 5), ("user", 5)]
    assert steps[1].target_user.username == "antti"  # lead of the desk team
    assert who_is_on_call(steps[0].target_schedule, dt.datetime(2026, 11, 21, tzinfo=dt.UTC)) is not None
    policy_snapshot(policy)  # a policy that can run


def test_demo_policy_covers_the_critical_services(db):
    load_demo()
    covered = ServiceCoverage.objects.filter(escalation_policy__name=POLICY_NAME)
    assert sorted(covered.values_list("service__slug", flat=True)) == ["email", "erp"]


def test_demo_agents_get_an_email_contact_and_no_webhook(db):
    load_demo()
    methods = ContactMethod.objects.filter(user__username__in=["antti", "aino"])
    assert sorted(methods.values_list("kind", flat=True)) == ["email", "email"]


def test_loading_the_paging_demo_again_changes_nothing(db):
    load_demo()
    counts = (EscalationPolicy.objects.count(), EscalationStep.objects.count(), Schedule.objects.count(),
              ContactMethod.objects.count())
    load_paging_demo()
    assert counts == (EscalationPolicy.objects.count(), EscalationStep.objects.count(),
                      Schedule.objects.count(), ContactMethod.objects.count())
