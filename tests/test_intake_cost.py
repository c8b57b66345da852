"""What one intake costs, and the per-process configuration cache it relies on."""

import json

import pytest

from tests import factories as f
from vuoro.accounts.models import AssignmentStrategy, Role
from vuoro.catalog.models import RoutingRule
from vuoro.core import config_cache
from vuoro.core.models import ConfigVersion
from vuoro.tickets.models import Ticket

QUERY_BUDGET = 12


def _create(client, token, world, n):
    body = {"service": world.other.slug, "category": world.cat_other.slug, "subject": f"Screen {n}",
            "description": "Flickers", "stops_work": "no", "affected": "me",
            "form_answers": {"device": "laptop"}}
    return client.post("/api/v1/tickets", json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")


def test_an_api_intake_costs_at_most_twelve_queries_with_the_configuration_cached(
        world, client, django_assert_max_num_queries, settings):
    settings.VUORO_REACT_INLINE = False  # as in production: mail and webhooks are the worker's
    world.desk_team.assignment_strategy = AssignmentStrategy.ROUND_ROBIN
    world.desk_team.save()
    token = f.api_token(world.requester_a)
    assert _create(client, token, world, 0).status_code == 201  # fills the cache
    with django_assert_max_num_queries(QUERY_BUDGET):
        response = _create(client, token, world, 1)
    assert response.status_code == 201
    body = response.json()
    assert body["reference"].endswith("000002") and body["assignee"] is not None
    assert {c["kind"] for c in body["sla"]} == set(
        Ticket.objects.get(reference=body["reference"]).sla_clocks.values_list("kind", flat=True))


def test_a_routing_change_is_seen_by_the_next_intake(world):
    first = f.ticket(world.requester_a, world.other, world.cat_other)
    assert first.team == world.desk_team
    night = f.team("Second line", members=[world.agent2])
    RoutingRule.objects.create(service=world.other, category=world.cat_other, team=night, order=1)
    assert f.ticket(world.requester_a, world.other, world.cat_other).team == night


def test_a_new_desk_member_is_assigned_after_the_change(world):
    world.desk_team.assignment_strategy = AssignmentStrategy.ROUND_ROBIN
    world.desk_team.save()
    f.ticket(world.requester_a, world.other, world.cat_other)
    newcomer = f.user(Role.AGENT, username="newcomer")
    world.desk_team.members.add(newcomer)
    seen = {f.ticket(world.requester_a, world.other, world.cat_other).assignee for _ in range(3)}
    assert newcomer in seen


def test_a_sign_in_is_not_a_configuration_change(world):
    version = ConfigVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0
    world.agent.save(update_fields=["last_login"])
    assert (ConfigVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0) == version


def _version() -> int:
    return ConfigVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def test_a_new_contact_is_not_a_configuration_change_but_a_role_change_is(world):
    before = _version()
    contact = f.user(Role.REQUESTER, username="newcontact")  # as mail intake files an unknown sender
    assert _version() == before
    contact.role = Role.AGENT
    contact.save()
    assert _version() > before


@pytest.mark.django_db
def test_another_process_change_is_seen_within_the_check_interval(world, settings):
    settings.VUORO_CONFIG_CHECK_SECONDS = 0  # compare the version on every read
    assert config_cache.cached("probe", lambda: "old") == "old"
    # Another process changed configuration: only the version row tells this one.
    ConfigVersion.objects.update_or_create(pk=1, defaults={"version": 10_000})
    assert config_cache.cached("probe", lambda: "new") == "new"
