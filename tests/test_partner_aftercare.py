"""After the night's work ends, a partner keeps only what it handled, read-only, for a while.

Intake routes an urgent night request into the partner's team. Once the desk resolves or closes
such a ticket, the partner must not read it any more unless it handled it (caught it or was
assigned it), must never change it (not even reopen it through the API), must not see the
desk's internal notes written after the work ended, and loses it after the aftercare period.
"""

import datetime as dt
import json

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import factories as f
from tests.test_partner_scope import night_ticket, night_world, visible
from vuoro.partner.services import partner_catch, partner_resolve
from vuoro.tickets.attachments import check_uploads
from vuoro.tickets.models import Status, Ticket
from vuoro.tickets.services import message_add, ticket_change


@pytest.fixture
def night(world):
    return night_world(world)

def _api(client, partner):
    return {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(partner)}"}


def test_a_night_ticket_routed_to_the_partner_team_leaves_sight_when_the_desk_resolves_it(night, client):
    ticket = night_ticket(night)
    assert ticket.team == night.partner_team  # intake routed it to the partner's team
    ticket_change(actor=night.agent, ticket=ticket, status=Status.RESOLVED)
    ticket_change(actor=night.agent, ticket=Ticket.objects.get(pk=ticket.pk), status=Status.CLOSED)
    assert visible(night.partner) == set()
    auth = _api(client, night.partner)
    for path in ("", "/messages", "/events", "/attachments"):
        assert client.get(f"/api/v1/tickets/{ticket.reference}{path}", **auth).status_code == 404, path
    reopen = client.patch(f"/api/v1/tickets/{ticket.reference}", json.dumps({"status": "open"}),
                          content_type="application/json", **auth)
    assert reopen.status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED
    client.force_login(night.partner)
    assert client.get(reverse("partner:ticket", args=[ticket.reference])).status_code == 404


def test_a_ticket_the_partner_handled_stays_readable_but_not_changeable(night, client):
    ticket = night_ticket(night)
    partner_catch(user=night.partner, ticket=ticket)
    message_add(actor=night.partner, ticket=ticket, body="Restarted the relay", internal=True)
    partner_resolve(user=night.partner, ticket=Ticket.objects.get(pk=ticket.pk), reply="Fixed.")
    message_add(actor=night.agent, ticket=Ticket.objects.get(pk=ticket.pk),
                body="Desk remark after the night", internal=True,
                attachments=check_uploads([SimpleUploadedFile("later.txt", b"later", content_type="text/plain")]))
    assert visible(night.partner) == {ticket.reference}
    auth = _api(client, night.partner)
    bodies = " ".join(m["body"] for m in client.get(f"/api/v1/tickets/{ticket.reference}/messages",
                                                    **auth).json())
    assert "Restarted the relay" in bodies and "Fixed." in bodies
    assert "Desk remark after the night" not in bodies
    assert client.get(f"/api/v1/tickets/{ticket.reference}/attachments", **auth).json() == []
    later = ticket.attachments.get(filename="later.txt")
    assert client.get(f"/api/v1/attachments/{later.pk}", **auth).status_code == 404
    for change in ({"status": "open"}, {}, {"priority": "P1"}):
        response = client.patch(f"/api/v1/tickets/{ticket.reference}", json.dumps(change),
                                content_type="application/json", **auth)
        assert response.status_code == 403, change
    reply = client.post(f"/api/v1/tickets/{ticket.reference}/messages",
                        json.dumps({"body": "One more thing", "internal": False}),
                        content_type="application/json", **auth)
    assert reply.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED
    client.force_login(night.partner)
    page = client.get(reverse("partner:ticket", args=[ticket.reference])).content.decode()
    assert "Restarted the relay" in page and "Desk remark after the night" not in page


def test_what_the_partner_handled_leaves_sight_after_the_aftercare_period(night, settings):
    settings.VUORO_PARTNER_AFTERCARE_DAYS = 7
    ticket = night_ticket(night)
    partner_catch(user=night.partner, ticket=ticket)
    partner_resolve(user=night.partner, ticket=Ticket.objects.get(pk=ticket.pk), reply="Fixed.")
    resolved_at = Ticket.objects.get(pk=ticket.pk).resolved_at
    with time_machine.travel(resolved_at + dt.timedelta(days=6, hours=23), tick=False):
        assert visible(night.partner) == {ticket.reference}
    with time_machine.travel(resolved_at + dt.timedelta(days=7, minutes=1), tick=False):
        assert visible(night.partner) == set()


def test_a_reopened_ticket_the_partner_handled_is_its_work_again(night):
    ticket = night_ticket(night)
    partner_catch(user=night.partner, ticket=ticket)
    partner_resolve(user=night.partner, ticket=Ticket.objects.get(pk=ticket.pk), reply="Fixed.")
    ticket_change(actor=night.agent, ticket=Ticket.objects.get(pk=ticket.pk), status=Status.OPEN)
    message_add(actor=night.partner, ticket=Ticket.objects.get(pk=ticket.pk), body="Looking again",
                internal=True)
    assert Ticket.objects.get(pk=ticket.pk).messages.filter(body__contains="Looking again").exists()
