"""A failure half-way through intake leaves nothing behind: no ticket, no history, no number."""

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories as f
from vuoro.tickets.attachments import check_uploads
from vuoro.tickets.models import ReferenceCounter, Ticket, TicketEvent
from vuoro.tickets.services import ticket_create


def test_storage_failure_rolls_back_the_whole_intake(world):
    upload = check_uploads([SimpleUploadedFile("log.txt", b"boot log", content_type="text/plain")])
    # The disk filling up cannot be produced on demand here, so the storage call is made to fail.
    with mock.patch("django.core.files.storage.FileSystemStorage._save", side_effect=OSError("disk full")):
        with pytest.raises(OSError):
            ticket_create(actor=None, requester=world.requester_a, service=world.other,
                          category=world.cat_other, subject="With a file", stops_work="no",
                          affected="me", channel="portal", form_answers={"device": "laptop"},
                          attachments=upload)
    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0
    assert ReferenceCounter.objects.filter(last__gt=0).count() == 0
    assert f.ticket(world.requester_a, world.other, world.cat_other).reference.endswith("-000001")


def test_attachment_is_stored_outside_web_root_with_checksum(world, settings):
    upload = check_uploads([SimpleUploadedFile("log.txt", b"boot log", content_type="text/plain")])
    ticket = ticket_create(actor=None, requester=world.requester_a, service=world.other,
                           category=world.cat_other, subject="With a file", stops_work="no",
                           affected="me", channel="portal", form_answers={"device": "laptop"},
                           attachments=upload).ticket
    attachment = ticket.attachments.get()
    assert attachment.filename == "log.txt" and attachment.size == 8
    assert str(settings.MEDIA_ROOT) in attachment.file.path
    assert not attachment.file.path.endswith("log.txt")
    assert len(attachment.sha256) == 64
