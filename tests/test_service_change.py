"""Moving a ticket to another service: the category follows, the SLA clocks take the new
service's policy and keep the time already used."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from tests import factories as f
from vuoro.sla.models import ClockKind, SlaClock, SlaClockEvent, SlaPolicy
from vuoro.tickets.models import EventKind
from vuoro.tickets.services import ticket_change

HELSINKI = ZoneInfo("Europe/Helsinki")
START = dt.datetime(2026, 11, 18, 10, 0, tzinfo=HELSINKI)


@pytest.fixture
def ticket(world):
    SlaPolicy.objects.create(service=world.other, first_response_minutes=60, resolution_minutes=480)
    SlaPolicy.objects.create(service=world.critical, first_response_minutes=15, resolution_minutes=120)
    with time_machine.travel(START, tick=False):
        return f.ticket(world.requester_a, world.other, world.cat_other)


def test_new_service_recomputes_clocks_and_keeps_used_time(world, ticket):
    with time_machine.travel(START + dt.timedelta(minutes=30), tick=False):
        ticket_change(actor=world.agent, ticket=ticket, service=world.critical)
    resolution = SlaClock.objects.get(ticket=ticket, kind=ClockKind.RESOLUTION)
    assert resolution.target_seconds == 120 * 60
    assert resolution.due_at == START + dt.timedelta(minutes=120)
    assert SlaClockEvent.objects.filter(clock=resolution, kind="recompute").count() == 1
    # 30 minutes used against the new 15-minute response target: due at once, so it shows overdue.
    ticket.refresh_from_db()
    assert ticket.sla_due_at == START + dt.timedelta(minutes=30)


def test_new_service_drops_the_old_services_category_in_history(world, ticket):
    ticket_change(actor=world.agent, ticket=ticket, service=world.critical)
    ticket.refresh_from_db()
    assert ticket.service == world.critical and ticket.category is None
    fields = set(ticket.events.filter(kind=EventKind.CHANGED).values_list("field", flat=True))
    assert {"service", "category"} <= fields


def test_category_of_another_service_is_refused_and_nothing_changes(world, ticket):
    with pytest.raises(ValidationError) as exc:
        ticket_change(actor=world.agent, ticket=ticket, category=world.cat_critical)
    assert "category" in exc.value.message_dict
    ticket.refresh_from_db()
    assert ticket.category == world.cat_other


def test_service_and_its_category_change_together(world, ticket):
    ticket_change(actor=world.agent, ticket=ticket, service=world.critical, category=world.cat_critical)
    ticket.refresh_from_db()
    assert (ticket.service, ticket.category) == (world.critical, world.cat_critical)


def test_inactive_service_is_refused(world, ticket):
    world.critical.active = False
    world.critical.save()
    with pytest.raises(ValidationError):
        ticket_change(actor=world.agent, ticket=ticket, service=world.critical)


def test_api_moves_a_ticket_to_another_service(world, ticket, client):
    token = f.api_token(world.agent)
    response = client.patch(f"/api/v1/tickets/{ticket.reference}",
                            {"service": world.critical.slug, "category": world.cat_critical.slug},
                            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["service"]["slug"] == world.critical.slug
    unknown = client.patch(f"/api/v1/tickets/{ticket.reference}", {"service": "no-such-service"},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert unknown.status_code == 400 and "service" in unknown.json()["errors"]
