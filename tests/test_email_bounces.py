"""Delivery reports: the failed recipients are recorded on the contact and no ticket is made."""

import datetime as dt
from pathlib import Path

import pytest

from vuoro.channels.models import EmailBounce, InboundEmail, Mailbox, Outcome
from vuoro.channels.parse import parse
from vuoro.channels.services import email_receive
from vuoro.tickets.models import Ticket

EML = Path(__file__).parent / "eml"
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)

TWO_RECIPIENTS = b"""\
From: MAILER-DAEMON@mx.example.test
To: desk@vuoro.test
Subject: Delivery Status Notification
Message-ID: <dsn-two@mx.example.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Two of your recipients failed, one is delayed.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.test
Arrival-Date: Mon, 23 Nov 2026 09:00:00 +0200

Final-Recipient: rfc822; Gone@Customer.Example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@customer.example>: Recipient address
 rejected: User unknown

Final-Recipient: rfc822; full@customer.example
Action: failed
Status: 4.2.2
Diagnostic-Code: smtp; 452 mailbox full

Final-Recipient: rfc822; slow@customer.example
Action: delayed
Status: 4.4.1

--B--
"""


def test_the_delivery_status_part_names_each_failed_recipient():
    parsed = parse(TWO_RECIPIENTS)

    assert [(b.address, b.status) for b in parsed.bounces] == [
        ("gone@customer.example", "5.1.1"), ("full@customer.example", "4.2.2")]
    assert parsed.bounces[0].diagnostic.endswith("Recipient address rejected: User unknown")


def test_a_report_without_a_status_part_names_nobody():
    assert parse((EML / "23-bounce-postmaster-no-report.eml").read_bytes()).bounces == []


@pytest.mark.django_db
def test_a_bounce_is_recorded_on_the_contact_with_that_address(world):
    box = Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=world.other)
    world.requester_a.email = "GONE@customer.example"
    world.requester_a.save()

    row = email_receive(raw=TWO_RECIPIENTS, mailbox=box, now=NOW)

    assert row.outcome == Outcome.IGNORED_LOOP and Ticket.objects.count() == 0
    assert "gone@customer.example" in row.reason and "full@customer.example" in row.reason
    bounces = {b.address: b for b in EmailBounce.objects.all()}
    assert set(bounces) == {"gone@customer.example", "full@customer.example"}
    assert bounces["gone@customer.example"].user == world.requester_a
    assert bounces["gone@customer.example"].permanent and not bounces["full@customer.example"].permanent
    assert bounces["full@customer.example"].user is None
    assert list(world.requester_a.email_bounces.values_list("status", flat=True)) == ["5.1.1"]

    again = email_receive(raw=TWO_RECIPIENTS, mailbox=box, now=NOW)
    assert again.outcome == Outcome.DUPLICATE
    assert EmailBounce.objects.count() == 2 and InboundEmail.objects.count() == 1


@pytest.mark.django_db
def test_the_corpus_bounce_is_recorded_and_makes_no_ticket(world):
    box = Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=world.other)

    row = email_receive(raw=(EML / "22-bounce-dsn.eml").read_bytes(), mailbox=box, now=NOW)

    assert row.outcome == Outcome.IGNORED_LOOP and Ticket.objects.count() == 0
    bounce = EmailBounce.objects.get()
    assert (bounce.address, bounce.status, bounce.inbound) == ("nobody@corp.test", "5.1.1", row)
