"""Requester mail: received, desk reply, waiting and resolved, written once and sent threaded."""

import pytest
from django.db import transaction
from django.utils import timezone

from tests import factories as f
from tests.smtp_recorder import keeping_smtp  # noqa: F401  (fixture)
from vuoro.notify.models import OutboundEmail, OutboxStatus
from vuoro.notify.requester_mail import requester_mail_received, requester_mail_reply
from vuoro.notify.sender import message_id, send_outbox
from vuoro.tickets.models import Channel, Status
from vuoro.tickets.services import message_add, ticket_change


@pytest.fixture(autouse=True)
def requester_mail_on(settings):
    settings.VUORO_REQUESTER_MAIL = True
    settings.VUORO_X_LOOP = "vuoro"


def requester_rows(ticket):
    return list(OutboundEmail.objects.filter(key__startswith=f"requester-{ticket.pk}-").order_by("pk"))


def test_a_new_request_queues_one_received_mail_with_reference_and_expected_handling(world):
    world.requester_a.language = "en"
    world.requester_a.save()
    ticket = f.ticket(world.requester_a, world.other)

    [mail] = requester_rows(ticket)
    assert mail.to == world.requester_a.email and mail.status == OutboxStatus.PENDING
    assert mail.subject.startswith(f"[{ticket.reference}] Request received")
    assert ticket.reference in mail.body and "Your request" in mail.body
    assert "<html" in mail.html_body and ticket.reference in mail.html_body
    assert mail.headers["X-Loop"] == "vuoro" and mail.headers["Auto-Submitted"] == "auto-replied"
    assert "In-Reply-To" not in mail.headers  # the first message starts the thread


def test_mail_is_in_each_requesters_language(world):
    for language in ("fi", "sv", "en"):
        requester = f.user(organisation=world.requester_a.organisation, language=language)
        ticket = f.ticket(requester, world.other)
        [mail] = requester_rows(ticket)
        assert mail.to == requester.email and f'<html lang="{language}">' in mail.html_body


def test_a_repeat_writes_nothing_twice(world):
    ticket = f.ticket(world.requester_a, world.other)
    message = message_add(actor=world.agent, ticket=ticket, body="Try restarting.")
    with transaction.atomic():
        assert requester_mail_received(ticket=ticket, now=timezone.now()) == 0
        assert requester_mail_reply(ticket=ticket, message=message, now=timezone.now()) == 0
    assert len(requester_rows(ticket)) == 2


def test_desk_replies_and_status_changes_thread_to_the_first_mail(world):
    ticket = f.ticket(world.requester_a, world.other)
    message_add(actor=world.agent, ticket=ticket, body="Which model is it?")
    ticket_change(actor=world.agent, ticket=ticket, status=Status.WAITING)
    ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)

    first, reply, waiting, resolved = requester_rows(ticket)
    assert first.key.endswith("-received") and "Which model is it?" in reply.body
    assert "Which model is it?" in reply.html_body
    assert waiting.key != resolved.key
    for later in (reply, waiting, resolved):
        assert later.headers["In-Reply-To"] == later.headers["References"] == message_id(first)
        assert ticket.reference in later.subject


def test_no_mail_for_internal_notes_the_requesters_own_messages_or_other_statuses(world):
    ticket = f.ticket(world.requester_a, world.other)
    message_add(actor=world.agent, ticket=ticket, body="Checked the logs.", internal=True)
    message_add(actor=world.requester_a, ticket=ticket, body="Any news?")
    ticket_change(actor=world.agent, ticket=ticket, status=Status.ON_HOLD)
    assert [row.key for row in requester_rows(ticket)] == [f"requester-{ticket.pk}-received"]


def test_no_received_mail_after_a_phone_call_or_without_an_address(world):
    phoned = f.ticket(world.requester_a, world.other, channel=Channel.PHONE, actor=world.agent)
    silent = f.user(organisation=world.requester_a.organisation)
    silent.email = ""
    silent.save()
    unreachable = f.ticket(silent, world.other)
    message_add(actor=world.agent, ticket=unreachable, body="Done.")
    assert requester_rows(phoned) == [] and requester_rows(unreachable) == []


def test_off_unless_configured(world, settings):
    settings.VUORO_REQUESTER_MAIL = False
    ticket = f.ticket(world.requester_a, world.other)
    assert requester_rows(ticket) == []


def test_sent_over_smtp_with_html_alternative_and_threading_headers(world, keeping_smtp):  # noqa: F811
    world.requester_a.language = "en"
    world.requester_a.save()
    ticket = f.ticket(world.requester_a, world.other)
    message_add(actor=world.agent, ticket=ticket, body="Please restart it.")

    send_outbox()

    first, reply = [sent for sent in keeping_smtp.recorder.messages if sent["To"] == world.requester_a.email]
    first_row, reply_row = requester_rows(ticket)
    assert {row.status for row in requester_rows(ticket)} == {OutboxStatus.SENT}
    assert first["Message-ID"] == message_id(first_row) and reply["Message-ID"] == message_id(reply_row)
    assert reply["In-Reply-To"] == reply["References"] == first["Message-ID"]
    for sent in (first, reply):
        assert sent["X-Loop"] == "vuoro" and sent["Auto-Submitted"] == "auto-replied"
        assert f"[{ticket.reference}]" in sent["Subject"]
        assert sent.get_content_type() == "multipart/alternative"
        assert ticket.reference in sent.get_body(("plain",)).get_content()
    assert "Please restart it." in reply.get_body(("html",)).get_content()
    assert keeping_smtp.recorder.counts()[(world.requester_a.email, str(reply["Subject"]))] == 1


def test_the_text_part_of_a_reply_reads_as_text(world):
    ticket = f.ticket(world.requester_a, world.other)
    message_add(actor=world.agent, ticket=ticket, body="Line one\n\nLine <two> & more")
    reply = requester_rows(ticket)[1]
    assert "Line one\n\nLine <two> & more" in reply.body


@pytest.mark.parametrize(("language", "title", "phrase"), [
    ("fi", "Pyyntö vastaanotettu", "Olemme vastaanottaneet pyyntösi"),
    ("sv", "Ärendet har tagits emot", "Vi har tagit emot ditt ärende"),
])
def test_the_received_mail_is_translated_for_finnish_and_swedish_requesters(world, language, title, phrase):
    requester = f.user(organisation=world.requester_a.organisation, language=language)
    ticket = f.ticket(requester, world.other)

    [mail] = requester_rows(ticket)
    assert mail.subject.startswith(f"[{ticket.reference}] {title}: ")
    assert "Request received" not in mail.subject
    for body in (mail.body, mail.html_body):
        assert f"{phrase} {ticket.reference}." in body
        assert "We have received your request" not in body
        assert "Reply to this email" not in body and "See your request" not in body
