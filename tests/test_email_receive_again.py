"""A refused message is kept, and is filed once its cause is mended: nothing sent is lost."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from tests import factories as f
from vuoro.accounts.models import Role
from vuoro.channels.models import InboundEmail, Mailbox, Outcome, UnknownSenders
from vuoro.channels.services import email_receive, email_receive_again
from vuoro.tickets.models import Ticket

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
RAW = (b"From: Uusi Ihminen <uusi@org-a.test>\r\nTo: desk@vuoro.test\r\nSubject: Kone ei kaynnisty\r\n"
       b"Message-ID: <refused@org-a.test>\r\n\r\nKone ei kaynnisty aamulla.")


@pytest.fixture
def strict_box(world):
    return Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=world.other,
                                  unknown_senders=UnknownSenders.REFUSE)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_refused_unknown_sender_is_filed_once_the_contact_exists(world, strict_box):
    refused = email_receive(raw=RAW, mailbox=strict_box)
    assert refused.outcome == Outcome.REJECTED and not Ticket.objects.exists()
    assert email_receive_again(row=refused).outcome == Outcome.REJECTED  # nothing mended yet
    person = f.user(Role.REQUESTER, organisation=world.org_a, username="uusi")
    person.email = "uusi@org-a.test"
    person.save()
    again = email_receive_again(row=refused)
    assert again.outcome == Outcome.TICKET_CREATED and again.ticket.requester == person
    assert "Kone ei kaynnisty aamulla." in again.ticket.description
    assert email_receive_again(row=refused).ticket == again.ticket  # a second press files nothing more
    assert Ticket.objects.count() == 1 and InboundEmail.objects.count() == 1


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_mail_to_a_mailbox_without_a_service_is_filed_once_it_has_one(world):
    box = Mailbox.objects.create(name="Loose", address="loose@vuoro.test")
    refused = email_receive(raw=RAW.replace(b"uusi@org-a.test", world.requester_a.email.encode()), mailbox=box)
    assert refused.outcome == Outcome.REJECTED
    box.service = world.other
    box.save()
    assert email_receive_again(row=refused).ticket.service == world.other


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_message_too_large_to_keep_cannot_be_filed_again_and_says_why(world, strict_box):
    refused = email_receive(raw=RAW, mailbox=strict_box)
    InboundEmail.objects.filter(pk=refused.pk).update(raw=b"")
    with pytest.raises(ValidationError):
        email_receive_again(row=refused)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_admin_files_refused_messages_again(world, strict_box, client):
    refused = email_receive(raw=RAW, mailbox=strict_box)
    person = f.user(Role.REQUESTER, username="uusi")
    person.email = "uusi@org-a.test"
    person.save()
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client.force_login(world.admin)
    response = client.post("/admin/channels/inboundemail/", {
        "action": "receive_again", "_selected_action": [refused.pk]}, follow=True)
    assert response.status_code == 200
    refused.refresh_from_db()
    assert refused.outcome == Outcome.TICKET_CREATED and refused.ticket is not None
