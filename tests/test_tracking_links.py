"""Tracking links expire and can be revoked one ticket at a time; desk staff revoke, nobody else."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from tests import factories as f
from vuoro.accounts.models import Role
from vuoro.tickets.models import TicketEvent
from vuoro.tickets.tracking import tracking_token


def track(ticket):
    return reverse("portal:track", args=[tracking_token(ticket)])


def revoke_url(ticket):
    return reverse("desk:revoke_tracking_links", args=[ticket.reference])


def test_a_tracking_link_stops_working_after_its_days(client, world, settings):
    settings.VUORO_TRACKING_LINK_DAYS = 10
    start = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        ticket = f.ticket(world.requester_a, world.other)
        url = track(ticket)
        assert client.get(url).status_code == 200
    with time_machine.travel(start + dt.timedelta(days=9), tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(start + dt.timedelta(days=11), tick=False):
        assert client.get(url).status_code == 404
        assert client.post(url, {"body": "Still there?"}).status_code == 404
        assert client.get(track(ticket)).status_code == 200  # the next mail's link works


def test_an_agent_revokes_the_links_sent_so_far_and_the_next_mail_carries_a_working_one(
        client, world, settings):
    ticket = f.ticket(world.requester_a, world.other)
    old = track(ticket)
    client.force_login(world.agent)
    page = client.get(reverse("desk:ticket", args=[ticket.reference])).text
    assert 'id="revoke-tracking"' in page
    response = client.post(revoke_url(ticket))
    assert response.status_code == 302
    client.logout()
    assert client.get(old).status_code == 404
    ticket.refresh_from_db()
    assert client.get(track(ticket)).status_code == 200
    event = TicketEvent.objects.get(ticket=ticket, field="tracking_link")
    assert event.internal and event.actor == world.agent


def test_a_revocation_is_in_the_desk_history_in_words(client, world):
    ticket = f.ticket(world.requester_a, world.other)
    client.force_login(world.agent)
    client.post(revoke_url(ticket))
    page = client.get(reverse("desk:ticket", args=[ticket.reference])).text
    with translation.override(world.agent.language):
        sentence = gettext("%(who)s revoked the requester's tracking links") % {
            "who": world.agent.display_name()}
    assert escape(sentence) in page


@pytest.mark.parametrize("role", [Role.REQUESTER, Role.PARTNER])
def test_requesters_and_partners_cannot_revoke(client, world, role):
    ticket = f.ticket(world.requester_a, world.other)
    old = track(ticket)
    someone = world.requester_a if role == Role.REQUESTER else f.user(Role.PARTNER)
    client.force_login(someone)
    response = client.post(revoke_url(ticket))
    assert response.status_code in (302, 400, 403, 404)
    client.logout()
    assert client.get(old).status_code == 200
    assert not TicketEvent.objects.filter(field="tracking_link").exists()


def test_revoking_answers_only_to_post_and_only_inside_the_agents_scope(client, world):
    ticket = f.ticket(world.requester_a, world.other)
    client.force_login(world.agent)
    assert client.get(revoke_url(ticket)).status_code == 405
    assert client.post(reverse("desk:revoke_tracking_links", args=["HD-0000-999999"])).status_code == 404
    assert not TicketEvent.objects.filter(field="tracking_link").exists()
