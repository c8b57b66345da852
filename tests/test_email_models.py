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
