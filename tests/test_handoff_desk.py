"""The desk ticket page shows the ticket's copy in the customer's system; requesters never see it."""

import json
import time

from django.urls import reverse
from django.utils import timezone, translation

from tests import factories as f
from tests.fake_provider import FakeProvider
from vuoro.notify.models import OutboundEmail
from vuoro.webhooks import events, selectors, sender
from vuoro.webhooks.models import HandOff
from vuoro.webhooks.signing import sign


def _handed_off_ticket(world, answer=None):
    """A ticket of a REST hand-off service, sent to a loopback receiver that answers ``answer``."""
    answer = {"key": "OPS-42", "url": "https://its.customer.test/browse/OPS-42"} if answer is None else answer
    with FakeProvider(replies={"/jira": json.dumps(answer).encode()}) as fake:
        HandOff.objects.create(service=world.other, kind="rest", url=fake.url("/jira/issue"),
                               secret="hs", reference_key="key")
        ticket = f.ticket(world.requester_a, world.other, subject="Printer on fire")
        assert sender.send_webhooks()["delivered"] == 1
    return ticket


def _desk_page(client, user, ticket) -> str:
    """The page in English: each request is in the signed-in user's own language."""
    user.language = "en"
    user.save(update_fields=["language"])
    client.force_login(user)
    response = client.get(reverse("desk:ticket", args=[ticket.reference]))
    assert response.status_code == 200
    return response.content.decode()


def test_card_shows_the_external_id_as_a_link_and_the_delivery(world, client):
    ticket = _handed_off_ticket(world)
    page = _desk_page(client, world.agent, ticket)
    assert 'id="handoff-card"' in page and "External system" in page
    assert '<a href="https://its.customer.test/browse/OPS-42"' in page and ">OPS-42</a>" in page
    assert 'class="handoff-sent"' in page and "127.0.0.1" in page
    world.other.owner = world.owner  # a service owner sees their own services' tickets
    world.other.save()
    for staff in (world.owner, world.admin):
        assert "OPS-42" in _desk_page(client, staff, ticket)


def test_inbound_update_shows_the_external_status(world, client):
    ticket = _handed_off_ticket(world, answer={"key": "OPS-7"})
    body = json.dumps({"reference": "OPS-7", "status": "in_progress"}).encode()
    stamp = int(time.time())
    response = client.post(f"/webhooks/handoff/{world.other.slug}/", data=body, content_type="application/json",
                           HTTP_X_VUORO_TIMESTAMP=str(stamp), HTTP_X_VUORO_SIGNATURE=sign("hs", stamp, body))
    assert response.status_code == 200
    card = selectors.handoff_card_for_ticket(user=world.agent, ticket=ticket)
    assert (card.reference, card.url, card.external_status) == ("OPS-7", "", "in_progress")
    page = _desk_page(client, world.agent, ticket)
    assert "in_progress" in page and ">OPS-7<" in page and 'href="https://' not in page.split("handoff-card")[1]


def test_no_card_without_a_hand_off(world, client):
    ticket = f.ticket(world.requester_a, world.other)
    assert selectors.handoff_card_for_ticket(user=world.agent, ticket=ticket) is None
    assert 'id="handoff-card"' not in _desk_page(client, world.agent, ticket)


def test_a_pending_email_hand_off_shows_without_an_id(world, client):
    HandOff.objects.create(service=world.other, kind="email", email="desk@customer.test", secret="x")
    ticket = f.ticket(world.requester_a, world.other)
    assert OutboundEmail.objects.filter(to="desk@customer.test").count() == 1
    card = selectors.handoff_card_for_ticket(user=world.agent, ticket=ticket)
    assert (card.target, card.reference, card.delivery_state) == ("desk@customer.test", "", "pending")
    page = _desk_page(client, world.agent, ticket)
    assert 'id="handoff-card"' in page and "desk@customer.test" in page and "not received yet" in page


def test_a_failed_rest_hand_off_says_so(world, client):
    with FakeProvider() as fake:
        fake.set_mode("status", status=410)
        HandOff.objects.create(service=world.other, kind="rest", url=fake.url("/its"), secret="hs")
        ticket = f.ticket(world.requester_a, world.other)
        assert sender.send_webhooks()["failed"] == 1
    assert 'class="handoff-failed"' in _desk_page(client, world.agent, ticket)


def test_requesters_and_partners_do_not_get_the_external_id(world, client):
    ticket = _handed_off_ticket(world)
    for outsider in (world.requester_a, world.partner):
        assert selectors.handoff_card_for_ticket(user=outsider, ticket=ticket) is None
    client.force_login(world.requester_a)
    with translation.override("en"):
        response = client.get(reverse("portal:ticket", args=[ticket.reference]))
    assert response.status_code == 200 and b"Printer on fire" in response.content
    assert b"OPS-42" not in response.content and b"handoff-card" not in response.content


def test_the_card_reads_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    ticket = _handed_off_ticket(world)
    events.handoff_send(ticket=ticket, now=timezone.now())  # a repeat adds no second row
    with django_assert_max_num_queries(4):
        card = selectors.handoff_card_for_ticket(user=world.agent, ticket=ticket)
    assert card.delivery_state == "sent" and card.reference == "OPS-42"


def test_only_a_web_address_becomes_a_link(world):
    ticket = _handed_off_ticket(world, answer={"key": "OPS-9", "url": "javascript:alert(1)"})
    card = selectors.handoff_card_for_ticket(user=world.agent, ticket=ticket)
    assert (card.reference, card.url) == ("OPS-9", "")
