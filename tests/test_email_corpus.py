"""Every message of the .eml corpus is accounted for, safely, and only once.

The corpus (tests/eml/) holds real-world shapes: Outlook, Gmail, Apple Mail and phones, replies
in three languages, legacy charsets, auto-replies, bounces, list mail, invites, odd attachments,
broken MIME, missing and repeated Message-IDs, hostile HTML and a forged reply. Placeholders
%%OWN_REF%%, %%VICTIM_REF%% and %%VICTIM_OUTBOX%% are filled with this test's tickets.
"""

import base64
import datetime as dt
from pathlib import Path

import pytest
import time_machine

from tests import factories as f
from vuoro.channels.models import RAW_STORE_LIMIT, InboundEmail, Mailbox, Outcome
from vuoro.channels.services import email_receive
from vuoro.notify.models import OutboundEmail
from vuoro.tickets.models import Message, Ticket

CORPUS = sorted((Path(__file__).parent / "eml").glob("*.eml"))
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def scene(world, settings):
    settings.VUORO_REQUESTER_MAIL = True
    settings.DEFAULT_FROM_EMAIL = "tuki@vuoro.example"
    for user, address in ((world.requester_a, "anna@org-a.test"), (world.requester_b, "bob@org-b.test")):
        user.email = address
        user.save()
    box = Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=world.other)
    own = f.ticket(world.requester_a, world.other)
    victim = f.ticket(world.requester_b, world.other, subject="Salary data")
    outbox = OutboundEmail.objects.filter(key__startswith=f"requester-{victim.pk}-").values_list("pk", flat=True)
    values = {"%%OWN_REF%%": own.reference, "%%VICTIM_REF%%": victim.reference,
              "%%VICTIM_OUTBOX%%": str(outbox.first())}
    return box, own, victim, values


def raw_of(path: Path, values: dict[str, str]) -> bytes:
    data = path.read_bytes()
    for key, value in values.items():
        data = data.replace(key.encode(), value.encode())
    return data


def receive_all(box, values) -> dict[str, InboundEmail]:
    return {path.name: email_receive(raw=raw_of(path, values), mailbox=box) for path in CORPUS}


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_corpus_every_message_accounted_for_safely(scene):
    box, own, victim, values = scene
    assert len(CORPUS) >= 40
    victim_messages = victim.messages.count()
    rows = receive_all(box, values)
    assert all(row.outcome in Outcome.values and row.pk for row in rows.values())
    # 36 and 37 share a Message-ID but not their content: both kept, the second flagged.
    assert InboundEmail.objects.count() == len(CORPUS) == len({row.message_id for row in rows.values()}) + 1
    reused = rows["37-duplicate-message-id-b.eml"]
    assert reused.outcome == Outcome.TICKET_CREATED and reused.message_id_reused
    assert reused.ticket != rows["36-duplicate-message-id-a.eml"].ticket
    assert "Second copy, same id." in reused.ticket.description and "Message-ID" in reused.reason
    assert not rows["36-duplicate-message-id-a.eml"].message_id_reused
    # A multipart never closed or without a boundary keeps its text as the request.
    for name, text in (("38-malformed-boundary.eml", "The boundary is never closed."),
                       ("39-missing-boundary.eml", "Some text without any parts.")):
        assert rows[name].outcome == Outcome.TICKET_CREATED, name
        assert text in rows[name].ticket.description and not rows[name].ticket.attachments.exists(), name
    for name in ("19", "20", "21", "22", "23", "24", "25", "26"):
        row = next(r for n, r in rows.items() if n.startswith(name + "-"))
        assert row.outcome == Outcome.IGNORED_LOOP, name
    assert "bounce" in rows["22-bounce-dsn.eml"].reason
    for name in ("07-reply-english-own.eml", "08-reply-finnish-own.eml", "10-outlook-reply-block.eml",
                 "11-original-message.eml"):
        assert rows[name].outcome == Outcome.REPLY_ADDED and rows[name].ticket == own, name
    bodies = [body.partition("<details>") for body in own.messages.values_list("body", flat=True)]
    shown = " ".join(body[0] for body in bodies)
    assert "We are looking into it" not in shown and "What is the serial" not in shown
    folded = " ".join(body[2] for body in bodies)  # the quoted history is kept, folded away
    assert "We are looking into it" in folded or "What is the serial" in folded
    # An unknown address naming someone else's ticket gets its own request.
    assert rows["09-reply-swedish.eml"].outcome == Outcome.TICKET_CREATED
    assert rows["09-reply-swedish.eml"].ticket != own
    forged = rows["44-forged-reply-other-org.eml"]
    assert forged.outcome == Outcome.TICKET_CREATED and forged.ticket not in (victim, own)
    assert forged.ticket.requester.email == "anna@org-a.test"
    assert rows["45-reply-by-outbox-id.eml"].outcome == Outcome.REPLY_ADDED
    assert rows["45-reply-by-outbox-id.eml"].ticket == victim
    victim.refresh_from_db()
    assert victim.messages.count() == victim_messages + 1  # only Bob's own reply
    assert "fix.exe" in rows["29-exe-attachment.eml"].reason
    assert rows["42-no-from.eml"].outcome == Outcome.REJECTED
    assert rows["35-missing-message-id.eml"].message_id.startswith("<synthetic-sha256-")
    stored = list(Ticket.objects.values_list("description", flat=True))
    stored += list(Message.objects.values_list("body", flat=True))
    assert stored and not any("<script" in text.lower() for text in stored)
    assert not any("onerror" in text.lower() or "javascript:" in text.lower() for text in stored)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_corpus_twice_adds_only_duplicates(scene):
    box, _own, _victim, values = scene
    receive_all(box, values)
    counts = (InboundEmail.objects.count(), Ticket.objects.count(), Message.objects.count())
    again = receive_all(box, values)
    assert {row.outcome for row in again.values()} == {Outcome.DUPLICATE}
    assert (InboundEmail.objects.count(), Ticket.objects.count(), Message.objects.count()) == counts


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_huge_message_generated_not_stored_raw(scene, settings):
    box, _own, _victim, _values = scene
    settings.VUORO_ATTACHMENT_MAX_BYTES = 1024 * 1024
    payload = base64.encodebytes(b"\0" * (3 * 1024 * 1024)).decode()
    raw = ("From: big@outside.test\r\nTo: desk@vuoro.test\r\nSubject: Big\r\nMessage-ID: <big@x>\r\n"
           'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
           "--b\r\nContent-Type: text/plain\r\n\r\nA large dump.\r\n"
           '--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="dump.bin"\r\n'
           f"Content-Transfer-Encoding: base64\r\n\r\n{payload}--b--\r\n").encode()
    assert len(raw) > RAW_STORE_LIMIT
    row = email_receive(raw=raw, mailbox=box)
    assert row.outcome == Outcome.TICKET_CREATED and "dump.bin" in row.reason
    stored = InboundEmail.objects.get(pk=row.pk)
    assert bytes(stored.raw) == b"" and stored.size == len(raw)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_forwarded_messages_and_invites_reach_the_ticket_as_attachments(scene):
    box, _own, _victim, values = scene
    rows = receive_all(box, values)
    nested = rows["46-nested-message-rfc822.eml"].ticket
    assert list(nested.attachments.values_list("filename", "content_type")) == [
        ("Verify your account.eml", "message/rfc822")]
    invite = rows["27-calendar-invite.eml"].ticket
    assert list(invite.attachments.values_list("filename", flat=True)) == ["invite.ics"]
