"""Leaks through the API and the access log: the user register, partner changes, unlogged reads."""

import json

import pytest
from django.test import RequestFactory
from django.urls import reverse

from tests import factories as f
from tests.test_partner_scope import night_ticket, night_world
from vuoro.core.http import client_ip
from vuoro.partner.models import PartnerAccess
from vuoro.partner.services import partner_catch
from vuoro.tickets.models import Ticket


@pytest.fixture
def night(world):
    return night_world(world)

def _post(client, token, **extra):
    body = {"service": "critical", "subject": "For someone", "description": "x", "stops_work": "no",
            "affected": "me", "form_answers": {"device": "laptop"}, **extra}
    return client.post("/api/v1/tickets", json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.parametrize("role", ["partner", "owner", "requester_a"])
def test_only_agents_and_admins_name_another_requester_and_unknown_ones_answer_alike(world, client, role):
    token = f.api_token(getattr(world, role))
    world.critical.slug = "critical"
    world.critical.save()
    answers = []
    for named in (world.admin.pk, world.admin.email, 999_999, "nobody@example.invalid"):
        response = _post(client, token, category=world.cat_critical.slug, requester=named)
        answers.append((response.status_code, response.json().get("detail")))
        assert world.admin.get_full_name() not in response.content.decode()
    assert len(set(answers)) == 1 and answers[0][0] == 403
    assert not Ticket.objects.exists()


def test_an_agent_still_files_for_a_named_requester(world, client):
    world.critical.slug = "critical"
    world.critical.save()
    response = _post(client, f.api_token(world.agent), category=world.cat_critical.slug,
                     requester=world.requester_a.email)
    assert response.status_code == 201
    assert Ticket.objects.get().requester == world.requester_a


def test_a_partner_cannot_assign_a_desk_person_or_move_the_service_through_the_api(night, client):
    ticket = night_ticket(night)
    partner_catch(user=night.partner, ticket=ticket)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(night.partner)}"}
    for change, field in (({"assignee": night.agent.pk}, "assignee"), ({"service": night.other.slug}, "service")):
        response = client.patch(f"/api/v1/tickets/{ticket.reference}", json.dumps(change),
                                content_type="application/json", **auth)
        assert response.status_code in (400, 422), change
        assert field in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee == night.partner and ticket.service == night.critical
    handed_on = client.patch(f"/api/v1/tickets/{ticket.reference}", json.dumps({"team": night.desk_team.pk}),
                             content_type="application/json", **auth)
    assert handed_on.status_code in (200, 404)  # handing on to a desk team is the partner's job
    assert Ticket.objects.get(pk=ticket.pk).team == night.desk_team


def test_every_partner_read_through_the_api_and_the_desk_is_logged(night, client):
    ticket = night_ticket(night)
    partner_catch(user=night.partner, ticket=ticket)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(night.partner)}"}
    assert client.get("/api/v1/tickets", **auth).status_code == 200
    assert client.get(f"/api/v1/tickets/{ticket.reference}/attachments", **auth).status_code == 200
    assert client.patch(f"/api/v1/tickets/{ticket.reference}", "{}", content_type="application/json",
                        **auth).status_code == 200
    client.force_login(night.partner)
    fragment = client.post(reverse("desk:change", args=[ticket.reference]), {"priority": ticket.priority},
                           HTTP_HX_REQUEST="true")
    assert fragment.status_code in (200, 400)
    views = set(PartnerAccess.objects.filter(user=night.partner, ticket=ticket).values_list("view", flat=True))
    assert {"api_list", "api_attachments", "api_change", "desk_ticket"} <= views


def test_the_client_address_comes_from_a_trusted_proxy_only(settings):
    factory = RequestFactory()
    spoofed = factory.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    settings.VUORO_TRUSTED_PROXIES = ""
    assert client_ip(spoofed) == "203.0.113.9"
    settings.VUORO_TRUSTED_PROXIES = "10.0.0.0/8"
    assert client_ip(spoofed) == "203.0.113.9"  # the peer is not a trusted proxy
    behind = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1, 192.0.2.7, 10.0.0.5")
    assert client_ip(behind) == "192.0.2.7"  # the right-most address no trusted proxy added
    garbage = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(garbage) == "10.0.0.2"
