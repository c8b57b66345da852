"""Mailbox and InboundEmail: the unique Message-ID is what recognises a redelivered message."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from vuoro.channels.models import InboundEmail, Mailbox, Outcome, UnknownSenders


@pytest.mark.django_db
def test_mailbox_defaults_and_inbound_message_id_unique(world):
    box = Mailbox.objects.create(name="Desk", address="desk@example.test", service=world.critical)
    assert box.unknown_senders == UnknownSenders.CREATE_CONTACT
    assert box.imap_folder == "INBOX" and box.imap_port == 993 and box.active
    now = timezone.now()
    InboundEmail.objects.create(mailbox=box, message_id="<a@x>", received_at=now,
                                outcome=Outcome.REJECTED, raw=b"raw")
    with pytest.raises(IntegrityError), transaction.atomic():
        InboundEmail.objects.create(mailbox=box, message_id="<a@x>", received_at=now,
                                    outcome=Outcome.REJECTED)
    assert bytes(InboundEmail.objects.get().raw) == b"raw"


@pytest.mark.django_db
def test_admin_pages_render(client, world):
    box = Mailbox.objects.create(name="Desk", address="desk@example.test")
    row = InboundEmail.objects.create(mailbox=box, message_id="<b@x>", received_at=timezone.now(),
                                      outcome=Outcome.IGNORED_LOOP, raw=b"raw")
    client.force_login(world.admin)
    for url in ("/admin/channels/mailbox/", f"/admin/channels/mailbox/{box.pk}/change/",
                "/admin/channels/mailbox/add/", "/admin/channels/inboundemail/",
                f"/admin/channels/inboundemail/{row.pk}/change/"):
        assert client.get(url).status_code == 200, url


def _mailbox_form(box, **changes) -> dict:
    data = {"name": box.name, "address": box.address, "service": box.service_id or "", "team": "",
            "unknown_senders": box.unknown_senders, "active": "on", "stops_work": box.stops_work,
            "imap_host": box.imap_host, "imap_port": box.imap_port, "imap_ssl": "on",
            "imap_username": box.imap_username, "imap_password": "", "imap_folder": box.imap_folder,
            "imap_done_folder": "", "inbound_secret": ""}
    return {**data, **changes}


@pytest.mark.django_db
def test_admin_never_shows_the_secrets_and_keeps_them_when_left_empty(client, world):
    box = Mailbox.objects.create(name="Desk", address="desk@example.test", service=world.other,
                                 imap_host="imap.example.test", imap_username="desk",
                                 imap_password="pa55-imap", inbound_secret="gateway-s3cret")
    client.force_login(world.admin)
    page = client.get(f"/admin/channels/mailbox/{box.pk}/change/").content.decode()
    assert "pa55-imap" not in page and "gateway-s3cret" not in page
    url = f"/admin/channels/mailbox/{box.pk}/change/"
    assert client.post(url, _mailbox_form(box, name="Desk 2")).status_code == 302
    box.refresh_from_db()
    assert (box.name, box.imap_password, box.inbound_secret) == ("Desk 2", "pa55-imap", "gateway-s3cret")
    assert client.post(url, _mailbox_form(box, imap_password="new-pass")).status_code == 302
    box.refresh_from_db()
    assert (box.imap_password, box.inbound_secret) == ("new-pass", "gateway-s3cret")


@pytest.mark.django_db
def test_admin_refuses_a_mailbox_without_a_service(client, world):
    box = Mailbox.objects.create(name="Desk", address="desk@example.test", service=world.other)
    client.force_login(world.admin)
    response = client.post(f"/admin/channels/mailbox/{box.pk}/change/", _mailbox_form(box, service=""))
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    box.refresh_from_db()
    assert box.service == world.other
