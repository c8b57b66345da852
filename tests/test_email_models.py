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
