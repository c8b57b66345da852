"""SLA policies in the admin, the read-only clock audit view, and the demo policies."""

import pytest
from django.urls import reverse

from tests import factories as f
from vuoro.sla.admin import SlaPolicyForm
from vuoro.sla.demo import load_sla_demo
from vuoro.sla.models import SlaClock, SlaPolicy


def policy_form(world, **values):
    data = {"service": world.other.pk, "priority": "", "warning_percent": 80,
            "pause_when_waiting": "on", "pause_when_on_hold": "on", **values}
    return SlaPolicyForm(data=data)


def test_a_policy_needs_at_least_one_target(world):
    form = policy_form(world)
    assert not form.is_valid()
    assert form.non_field_errors()


def test_the_warning_share_must_be_between_1_and_100_percent(world):
    form = policy_form(world, resolution_minutes=480, warning_percent=0)
    assert not form.is_valid()
    assert "warning_percent" in form.errors


def test_a_policy_with_one_target_is_valid(world):
    assert policy_form(world, first_response_minutes=60).is_valid()


def test_the_policy_list_shows_each_service_and_priority(login, world):
    SlaPolicy.objects.create(service=world.critical, priority="P1", first_response_minutes=30)
    response = login(world.admin).get(reverse("admin:sla_slapolicy_changelist"))
    assert response.status_code == 200
    assert "Palvelu email" in response.text
    assert "P1" in response.text


def test_a_clock_is_shown_with_its_events_and_cannot_be_changed(login, world):
    SlaPolicy.objects.create(service=world.other, resolution_minutes=480)
    ticket = f.ticket(world.requester_a, world.other)
    clock = SlaClock.objects.get(ticket=ticket)
    client = login(world.admin)
    response = client.get(reverse("admin:sla_slaclock_change", args=[clock.pk]))
    assert response.status_code == 200
    assert "28800" in response.text
    assert 'name="_save"' not in response.text
    assert client.get(reverse("admin:sla_slaclock_add")).status_code == 403


@pytest.mark.parametrize("run_twice", [False, True])
def test_demo_policies_cover_critical_priorities_around_the_clock_and_the_rest_on_office_hours(world, run_twice):
    load_sla_demo()
    if run_twice:
        load_sla_demo()
    p1 = SlaPolicy.objects.get(service=world.critical, priority="P1")
    assert (p1.first_response_minutes, p1.resolution_minutes, p1.calendar.always_open) == (30, 240, True)
    p2 = SlaPolicy.objects.get(service=world.critical, priority="P2")
    assert (p2.first_response_minutes, p2.resolution_minutes) == (60, 480)
    rest = SlaPolicy.objects.get(service=world.other, priority="")
    assert (rest.first_response_minutes, rest.resolution_minutes, rest.warning_percent) == (240, 1440, 80)
    assert rest.calendar.opening_hours.count() == 5
    assert SlaPolicy.objects.count() == 4
