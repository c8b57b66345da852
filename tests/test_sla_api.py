"""The API shows a ticket's SLA clocks and when its requester was told it will be handled."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import time_machine

from tests import factories as f
from vuoro.sla.models import SlaPolicy
from vuoro.tickets.models import Status
from vuoro.tickets.services import ticket_change

HELSINKI = ZoneInfo("Europe/Helsinki")
WEDNESDAY = dt.datetime(2026, 11, 18, 10, 0, tzinfo=HELSINKI)
API = "/api/v1"


def call(client, method, path, user, data=None):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(user)}", "HTTP_ACCEPT_LANGUAGE": "en"}
    if data is not None:
        extra.update(content_type="application/json", data=json.dumps(data))
    with time_machine.travel(WEDNESDAY, tick=False):
        return getattr(client, method)(API + path, **extra)


def new_request():
    return {"service": "workstations", "category": "new-device", "subject": "New laptop",
            "stops_work": "no", "affected": "me", "form_answers": {"device": "laptop"}}


def test_the_create_response_carries_the_clocks_and_the_expected_handling(client, world):
    SlaPolicy.objects.create(service=world.other, first_response_minutes=60, resolution_minutes=480)
    response = call(client, "post", "/tickets", world.requester_b, new_request())
    assert response.status_code == 201
    body = response.json()
    assert body["expected_handling"]["text"] == (
        "Your request is being handled now. You will get a first response by Wed 18 Nov at 11:00.")
    assert body["expected_handling"]["at"].startswith("2026-11-18T08:00:00")
    assert [(c["kind"], c["state"], c["target_seconds"], c["used_seconds"], c["breached"])
            for c in body["sla"]] == [("first_response", "running", 3600, 0, False),
                                      ("resolution", "running", 28800, 0, False)]
    assert body["sla"][0]["due_at"].startswith("2026-11-18T09:00:00")


def test_the_expected_handling_is_in_the_requester_language(client, world):
    response = call(client, "post", "/tickets", world.requester_a, new_request())
    assert response.json()["expected_handling"]["text"] == "Pyyntösi käsitellään heti."
    assert response.json()["sla"] == []


def test_a_resolved_ticket_has_no_expected_handling_and_stopped_clocks(client, world):
    SlaPolicy.objects.create(service=world.other, resolution_minutes=480)
    with time_machine.travel(WEDNESDAY, tick=False):
        ticket = f.ticket(world.requester_a, world.other)
        ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)
    body = call(client, "get", f"/tickets/{ticket.reference}", world.agent).json()
    assert body["expected_handling"] is None
    assert [(c["kind"], c["state"], c["due_at"]) for c in body["sla"]] == [("resolution", "stopped", None)]


def test_the_ticket_list_stays_without_clocks(client, world):
    SlaPolicy.objects.create(service=world.other, resolution_minutes=480)
    with time_machine.travel(WEDNESDAY, tick=False):
        f.ticket(world.requester_a, world.other)
    items = call(client, "get", "/tickets", world.agent).json()["items"]
    assert len(items) == 1
    assert "sla" not in items[0] and "expected_handling" not in items[0]
