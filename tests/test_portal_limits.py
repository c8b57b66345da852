"""The anonymous portal cannot be used to flood the desk or mail strangers; files have quotas."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from tests import factories as f
from tests.test_portal import anonymous_submit, new_url, pdf, request_data
from vuoro.portal.models import AnonymousRequest
from vuoro.tickets.attachments import check_uploads
from vuoro.tickets.models import Attachment, Ticket
from vuoro.tickets.services import message_add


@pytest.fixture(autouse=True)
def in_english(settings, client):
    settings.VUORO_REQUESTER_MAIL = True
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def test_one_address_gets_at_most_three_anonymous_requests_an_hour(client, world, settings):
    settings.VUORO_PORTAL_ANONYMOUS_PER_ADDRESS = 3
    codes = [anonymous_submit(client, world, email="victim@example.test").status_code for _ in range(5)]
    assert codes == [302, 302, 302, 429, 429]
    assert Ticket.objects.count() == 3
    assert len([m for m in mail.outbox if "victim@example.test" in m.to]) <= 3
    refused = anonymous_submit(client, world, email="victim@example.test")
    assert refused.status_code == 429 and "within the hour" in refused.text


def test_one_client_files_at_most_its_hourly_share_whatever_addresses_it_types(client, world, settings):
    settings.VUORO_PORTAL_ANONYMOUS_PER_CLIENT = 4
    codes = [anonymous_submit(client, world, email=f"person{n}@example.test").status_code for n in range(6)]
    assert codes == [302] * 4 + [429] * 2
    assert Ticket.objects.count() == 4
    elsewhere = client.post(new_url(world.cat_other), request_data(name="Other", email="someone@example.test"),
                            REMOTE_ADDR="198.51.100.7")
    assert elsewhere.status_code == 302  # another client has its own share


def test_a_refused_or_invalid_request_is_not_counted(client, world, settings):
    settings.VUORO_PORTAL_ANONYMOUS_PER_ADDRESS = 1
    assert anonymous_submit(client, world, email="maija@example.test", subject="").status_code == 200
    assert not AnonymousRequest.objects.exists()
    assert anonymous_submit(client, world, email="maija@example.test").status_code == 302
    stored = AnonymousRequest.objects.get()
    assert stored.email_hash != "maija@example.test" and len(stored.email_hash) == 64


def test_signed_in_requesters_are_not_limited_by_the_anonymous_limits(login, world, settings):
    settings.VUORO_PORTAL_ANONYMOUS_PER_CLIENT = 1
    client = login(world.requester_a)
    codes = [client.post(new_url(world.cat_other), request_data(subject=f"Own {n}")).status_code for n in range(3)]
    assert codes == [302, 302, 302]


def test_too_many_files_at_once_are_refused_with_the_reason(client, world, settings):
    settings.VUORO_ATTACHMENTS_PER_MESSAGE = 3
    files = [pdf(f"part{n}.pdf") for n in range(4)]
    response = anonymous_submit(client, world, attachments=files)
    assert response.status_code == 200 and "At most 3 files" in response.text
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_files_too_large_together_are_refused(client, world, settings):
    settings.VUORO_ATTACHMENTS_MESSAGE_BYTES = 3000
    files = [pdf(f"part{n}.pdf", size=1200) for n in range(3)]
    response = anonymous_submit(client, world, attachments=files)
    assert response.status_code == 200 and "too large together" in response.text
    assert not Ticket.objects.exists()


def test_a_ticket_holds_at_most_its_quota_of_files(world, settings):
    settings.VUORO_ATTACHMENTS_TICKET_BYTES = 5000
    ticket = f.ticket(world.requester_a, world.other)
    message_add(actor=world.requester_a, ticket=ticket, body="first",
                attachments=check_uploads([pdf("a.pdf", size=3000)]))
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        message_add(actor=world.requester_a, ticket=ticket, body="second",
                    attachments=check_uploads([pdf("b.pdf", size=3000)]))
    assert "exceed" in str(refused.value)
    assert ticket.messages.count() == 1 and ticket.attachments.count() == 1


def test_the_api_refuses_an_upload_past_the_quota(world, client, settings):
    settings.VUORO_ATTACHMENTS_TICKET_BYTES = 5000
    ticket = f.ticket(world.requester_a, world.other)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(world.agent)}"}
    url = f"/api/v1/tickets/{ticket.reference}/attachments"

    def upload(name):
        return client.post(url, {"files": [SimpleUploadedFile(name, b"x" * 3000, content_type="text/plain")]},
                           **auth)

    assert upload("a.txt").status_code == 201
    second = upload("b.txt")
    assert second.status_code == 400 and "exceed" in second.text
    assert ticket.attachments.count() == 1
