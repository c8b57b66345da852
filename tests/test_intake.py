"""The one intake service: numbering, priority, routing, assignment, validation, idempotency."""

import pytest
from django.core.exceptions import ValidationError

from tests import factories as f
from vuoro.accounts.models import AssignmentStrategy, Role
from vuoro.catalog.models import RoutingRule
from vuoro.tickets.models import EventKind, Status, Ticket
from vuoro.tickets.services import ticket_create


def test_ticket_gets_yearly_reference_and_priority_from_plain_answers(world):
    t = f.ticket(world.requester_a, world.critical, world.cat_critical, stops_work="yes", affected="many")
    assert t.reference.startswith("VUO-20") and t.reference.endswith("000001")
    assert (t.impact, t.urgency, t.priority) == ("high", "high", "P1")
    t2 = f.ticket(world.requester_a, world.other, world.cat_other, stops_work="no", affected="me")
    assert t2.reference.endswith("000002")
    assert t2.priority == "P5"


def test_created_event_written_with_ticket(world):
    t = f.ticket(world.requester_a, world.other, world.cat_other)
    assert list(t.events.values_list("kind", flat=True)) == [EventKind.CREATED]
    assert t.status == Status.NEW
    assert t.organisation == world.org_a


def test_missing_required_form_field_and_bad_answers_are_refused_and_nothing_stored(world):
    with pytest.raises(ValidationError) as exc:
        ticket_create(actor=None, requester=world.requester_a, service=world.other,
                      category=world.cat_other, subject="x" * 201, stops_work="maybe",
                      affected="me", channel="portal", form_answers={"count": "99", "nope": 1})
    errors = exc.value.message_dict
    assert set(errors) == {"subject", "stops_work", "form_answers.device", "form_answers.count",
                           "form_answers.nope"}
    assert Ticket.objects.count() == 0


def test_category_of_another_service_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        f.ticket(world.requester_a, world.other, world.cat_critical)
    assert "category" in exc.value.message_dict


def test_description_html_is_sanitised(world):
    t = f.ticket(world.requester_a, world.other, world.cat_other,
                 description='<p onclick="x()">Hi<script>alert(1)</script><img src=x onerror=y></p>')
    assert "script" not in t.description and "onclick" not in t.description
    assert "onerror" not in t.description and "Hi" in t.description


def test_idempotency_key_returns_the_first_ticket(world):
    kwargs = dict(actor=None, requester=world.requester_a, service=world.other, category=world.cat_other,
                  subject="Once", stops_work="no", affected="me", channel="api",
                  form_answers={"device": "phone"}, idempotency_key="abc-1")
    first = ticket_create(**kwargs)
    second = ticket_create(**kwargs)
    assert first.created and not second.created
    assert first.ticket.pk == second.ticket.pk
    assert Ticket.objects.count() == 1


def test_routing_rule_for_category_beats_service_default(world):
    special = f.team("Special")
    RoutingRule.objects.create(service=world.other, category=world.cat_other, team=special)
    t = f.ticket(world.requester_a, world.other, world.cat_other)
    assert t.team == special
    t2 = f.ticket(world.requester_a, world.critical, world.cat_critical)
    assert t2.team == world.desk_team


def test_round_robin_assignment_takes_turns(world):
    world.desk_team.assignment_strategy = AssignmentStrategy.ROUND_ROBIN
    world.desk_team.save()
    assignees = [f.ticket(world.requester_a, world.other, world.cat_other).assignee for _ in range(4)]
    assert assignees == [world.agent, world.agent2, world.agent, world.agent2]


def test_least_open_assignment_picks_the_least_loaded(world):
    world.desk_team.assignment_strategy = AssignmentStrategy.LEAST_OPEN
    world.desk_team.save()
    first = f.ticket(world.requester_a, world.other, world.cat_other).assignee
    second = f.ticket(world.requester_a, world.other, world.cat_other).assignee
    assert {first, second} == {world.agent, world.agent2}


def test_service_not_offered_to_organisation_is_refused(world):
    world.other.organisations.set([world.org_b])
    with pytest.raises(ValidationError) as exc:
        f.ticket(world.requester_a, world.other, world.cat_other)
    assert "service" in exc.value.message_dict
    assert f.ticket(world.requester_b, world.other, world.cat_other).organisation == world.org_b


def test_requester_role_is_required_for_nothing_but_org_is_copied(world):
    staff = f.user(Role.AGENT)
    t = f.ticket(world.requester_b, world.other, world.cat_other, actor=staff, channel="desk")
    assert t.created_by == staff and t.requester == world.requester_b
