"""POST /channels/inbound/<mailbox>/: raw MIME in, 202 with the outcome; auth and size refused."""

import pytest

from tests import factories as f
from vuoro.channels.models import InboundEmail, Mailbox, Outcome
from vuoro.tickets.models import Ticket

RAW = b"From: someone@outside.test\r\nSubject: Hi\r\nMessage-ID: <h1@x>\r\n\r\nPlease help."


@pytest.fixture
def box(world):
    return Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=world.other,
                                  inbound_secret="s3cret-gateway")


def post(client, box, raw=RAW, auth=None):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return client.post(f"/channels/inbound/{box.pk}/", data=raw, content_type="message/rfc822", **headers)


@pytest.mark.django_db
def test_admin_token_creates_ticket(client, world, box):
    response = post(client, box, auth="Bearer " + f.api_token(world.admin))
    assert response.status_code == 202
    assert response.json()["outcome"] == Outcome.TICKET_CREATED
    assert Ticket.objects.get().reference == response.json()["ticket"]
    again = post(client, box, auth="Bearer " + f.api_token(world.admin))
    assert again.status_code == 202 and again.json()["outcome"] == Outcome.DUPLICATE
    assert InboundEmail.objects.count() == 1


@pytest.mark.django_db
def test_mailbox_secret_accepted(client, world, box):
    assert post(client, box, auth="Bearer s3cret-gateway").status_code == 202


@pytest.mark.django_db
def test_refusals(client, world, box, settings):
    assert post(client, box).status_code == 401
    assert post(client, box, auth="Bearer wrong").status_code == 401
    assert post(client, box, auth="Bearer " + f.api_token(world.requester_a)).status_code == 403
    assert post(client, box, auth="Bearer " + f.api_token(world.partner)).status_code == 403
    # An agent's token may not file mail in a requester's name either.
    assert post(client, box, auth="Bearer " + f.api_token(world.agent)).status_code == 403
    token = "Bearer " + f.api_token(world.admin)
    assert post(client, box, raw=b"  ", auth=token).status_code == 400
    settings.VUORO_INBOUND_MAX_BYTES = 100
    assert post(client, box, raw=RAW + b"x" * 200, auth=token).status_code == 400
    assert client.get(f"/channels/inbound/{box.pk}/").status_code == 405
    assert InboundEmail.objects.count() == 0


@pytest.mark.django_db
def test_unknown_inactive_and_secretless_mailboxes_answer_like_a_wrong_secret(client, world, box):
    """The endpoint must not tell which mailboxes exist: every refusal is the same 401."""
    wrong = post(client, box, auth="Bearer wrong")
    unknown = client.post(f"/channels/inbound/{box.pk + 1000}/", data=RAW, content_type="message/rfc822",
                          HTTP_AUTHORIZATION="Bearer s3cret-gateway")
    secretless = Mailbox.objects.create(name="Plain", address="plain@vuoro.test", service=world.other)
    no_secret = post(client, secretless, auth="Bearer s3cret-gateway")
    empty_secret = post(client, secretless, auth="Bearer ")
    Mailbox.objects.filter(pk=box.pk).update(active=False)
    inactive = post(client, box, auth="Bearer s3cret-gateway")
    answers = [wrong, unknown, no_secret, empty_secret, inactive]
    assert {r.status_code for r in answers} == {401}
    assert {r.content for r in answers} == {wrong.content}
    assert InboundEmail.objects.count() == 0


@pytest.mark.django_db
def test_tokens_do_not_reveal_mailboxes_either(client, world, box):
    """An admin token on an unknown mailbox is 401 like any refusal; a requester token is 403
    whether or not the mailbox exists."""
    agent = "Bearer " + f.api_token(world.admin)
    requester = "Bearer " + f.api_token(world.requester_a)
    missing = box.pk + 1000
    url = f"/channels/inbound/{missing}/"
    unknown = client.post(url, data=RAW, content_type="message/rfc822", HTTP_AUTHORIZATION=agent)
    assert unknown.status_code == 401
    assert unknown.content == post(client, box, auth="Bearer wrong").content
    assert client.post(url, data=RAW, content_type="message/rfc822",
                       HTTP_AUTHORIZATION=requester).status_code == 403
    assert post(client, box, auth=requester).status_code == 403
    assert InboundEmail.objects.count() == 0
