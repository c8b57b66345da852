"""Escalation policies in the admin: steps inline; no steps or handover loops refused, nothing saved."""

import pytest

from tests import factories as f
from tests.test_paging_services import policy_with
from vuoro.accounts.models import Role
from vuoro.coverage.models import ServiceCoverage
from vuoro.paging.models import EscalationPolicy, EscalationStep, TargetKind

ADD_URL = "/admin/paging/escalationpolicy/add/"


@pytest.fixture
def admin_client(db, client):
    client.force_login(f.user(Role.ADMIN, username="root", language="en"))
    return client


def form(name: str, steps: list[dict], initial: int = 0, **fields) -> dict:
    data = {"name": name, "description": "", "repeat_count": "1", "fallback_user": "", **fields,
            "steps-TOTAL_FORMS": str(len(steps)), "steps-INITIAL_FORMS": str(initial),
            "steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "1000"}
    for i, step in enumerate(steps):
        data.update({f"steps-{i}-{key}": value for key, value in step.items()})
    return data


def step(kind: str, target, order: int = 0, wait: int = 5, **extra) -> dict:
    return {"order": str(order), "wait_minutes": str(wait), "target_kind": kind,
            f"target_{kind}": str(target.pk), "policy": extra.pop("policy", ""), **extra}


def test_admin_adds_a_policy_with_steps(admin_client):
    agent = f.user(Role.AGENT, username="agent")
    response = admin_client.post(ADD_URL, form("Critical", [step("user", agent)]))
    assert response.status_code == 302
    policy = EscalationPolicy.objects.get(name="Critical")
    assert list(policy.steps.values_list("target_user", flat=True)) == [agent.pk]


def test_a_policy_without_steps_is_refused(admin_client):
    response = admin_client.post(ADD_URL, form("Empty", []))
    assert response.status_code == 200
    assert b"has no steps" in response.content
    assert not EscalationPolicy.objects.filter(name="Empty").exists()


def test_a_step_without_its_target_is_refused(admin_client):
    data = form("Half", [{"order": "0", "wait_minutes": "5", "target_kind": "user"}])
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert not EscalationPolicy.objects.filter(name="Half").exists()


def test_a_handover_loop_is_refused_with_the_loop_named_and_nothing_saved(admin_client):
    agent = f.user(Role.AGENT, username="agent")
    first = policy_with((TargetKind.USER, agent, 5), name="First")
    second = policy_with((TargetKind.POLICY, first, 5), name="Second")
    existing = first.steps.get()
    url = f"/admin/paging/escalationpolicy/{first.pk}/change/"
    data = form("First", [
        step("user", agent, id=str(existing.pk), policy=str(first.pk)),
        step("policy", second, order=1),
    ], initial=1)
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "First → Second → First".encode() in response.content
    assert list(EscalationStep.objects.filter(policy=first).values_list("target_kind", flat=True)) == ["user"]


def test_a_policy_handing_over_to_itself_is_refused(admin_client):
    agent = f.user(Role.AGENT, username="agent")
    policy = policy_with((TargetKind.USER, agent, 5), name="Loop")
    existing = policy.steps.get()
    data = form("Loop", [step("user", agent, id=str(existing.pk), policy=str(policy.pk)),
                         step("policy", policy, order=1)], initial=1)
    response = admin_client.post(f"/admin/paging/escalationpolicy/{policy.pk}/change/", data)
    assert response.status_code == 200
    assert "Loop → Loop".encode() in response.content
    assert policy.steps.count() == 1


def test_a_handover_chain_without_a_loop_is_saved(admin_client):
    agent = f.user(Role.AGENT, username="agent")
    first = policy_with((TargetKind.USER, agent, 5), name="First")
    response = admin_client.post(ADD_URL, form("Second", [step("policy", first)]))
    assert response.status_code == 302


def test_the_coverage_form_offers_the_escalation_policy(admin_client):
    service = f.service("email", critical=True)
    coverage = ServiceCoverage.objects.create(service=service)
    response = admin_client.get(f"/admin/coverage/servicecoverage/{coverage.pk}/change/")
    assert b'name="escalation_policy"' in response.content


def test_pages_are_read_only_in_the_admin(admin_client):
    assert admin_client.get("/admin/paging/page/add/").status_code == 403
    assert admin_client.get("/admin/paging/page/").status_code == 200
