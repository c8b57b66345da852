"""Mail that used to lose text, and delivery reports from several mailer daemons, through a real
dovecot: a multipart without its boundary keeps its text, a reused Message-ID with other content
is filed and flagged, and no bounce is answered with an acknowledgement."""

from datetime import UTC, datetime

import pytest

from tests.dovecot import dovecot  # noqa: F401  (fixture)
from tests.test_imap_flow import _quiet_poll_logs, mailbox  # noqa: F401  (fixtures: the desk mailbox)
from vuoro.channels.imap import mailbox_poll
from vuoro.channels.models import InboundEmail, Outcome
from vuoro.notify.models import OutboundEmail
from vuoro.tickets.models import Ticket

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HEAD = "From: {sender}\r\nTo: desk@example.test\r\nSubject: {subject}\r\nMessage-ID: <{mid}@outside.test>\r\n" \
       "Date: Mon, 02 Mar 2026 10:00:00 +0200\r\nMIME-Version: 1.0\r\n"


def message(mid: str, sender: str, subject: str, rest: str) -> bytes:
    return (HEAD.format(sender=sender, subject=subject, mid=mid) + rest).encode()


@pytest.fixture(autouse=True)
def acknowledgements_on(settings):
    settings.VUORO_REQUESTER_MAIL = True  # a bounce must not get one


def test_multiparts_without_their_boundary_keep_their_text(world, dovecot, mailbox):  # noqa: F811
    # As in CPython's email test corpus: msg_41 (no boundary), msg_31 (wrong boundary), msg_17 (no parts).
    dovecot.append(
        message("none", "a@outside.test", "No boundary", "Content-Type: multipart/alternative;\r\n\r\n"
                "Blah blah blah, the VPN is down.\r\n"),
        message("wrong", "b@outside.test", "Wrong boundary", "Content-Type: multipart/mixed; boundary=B_\r\n\r\n"
                "--B\r\nContent-Type: text/plain\r\n\r\nmessage 1: the printer\r\n\r\n--B\r\n"
                "Content-Type: text/plain\r\n\r\nmessage 2\r\n\r\n--B--\r\n"),
        message("parts", "c@outside.test", "No parts", 'Content-Type: multipart/mixed; boundary="BOUNDARY"\r\n\r\n'
                "Hi there,\r\n\r\nThis is the dingus fish.\r\n"),
    )

    assert mailbox_poll(mailbox=mailbox, now=NOW).received == 3

    texts = {"<none@outside.test>": "the VPN is down", "<wrong@outside.test>": "message 1: the printer",
             "<parts@outside.test>": "This is the dingus fish."}
    for mid, text in texts.items():
        row = InboundEmail.objects.get(message_id=mid)
        assert row.outcome == Outcome.TICKET_CREATED, (mid, row.reason)
        assert text in row.ticket.description and not row.ticket.attachments.exists(), mid
    assert "--B" not in InboundEmail.objects.get(message_id="<wrong@outside.test>").ticket.description


def test_a_reused_message_id_with_other_content_is_filed_and_flagged_and_a_redelivery_is_not(
    world, dovecot, mailbox,  # noqa: F811
):
    first = message("same", "a@outside.test", "Laptop", "Content-Type: text/plain\r\n\r\nMy laptop is broken.\r\n")
    other = message("same", "b@outside.test", "Phone", "Content-Type: text/plain\r\n\r\nMy phone is broken.\r\n")
    dovecot.append(first, other)
    assert mailbox_poll(mailbox=mailbox, now=NOW).received == 2
    dovecot.append(first.replace(b"From:", b"Received: from relay2.example\r\nFrom:", 1))  # redelivered
    assert mailbox_poll(mailbox=mailbox, now=NOW).received == 1

    rows = list(InboundEmail.objects.filter(message_id="<same@outside.test>").order_by("pk"))
    assert [(r.outcome, r.message_id_reused) for r in rows] == [
        (Outcome.TICKET_CREATED, False), (Outcome.TICKET_CREATED, True)]
    assert "Message-ID" in rows[1].reason
    assert "My phone is broken." in rows[1].ticket.description and rows[0].ticket != rows[1].ticket
    assert Ticket.objects.count() == 2 and dovecot.unseen_count() == 0


DSN = ("Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n{extra}\r\n"
       "--r\r\nContent-Type: text/plain\r\n\r\n{human}\r\n"
       "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; {mta}\r\n\r\n"
       "Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
       "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
       "--r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: desk@example.test\r\nSubject: Re: VUO\r\n\r\n--r--\r\n")
BOUNCES = {
    "gmail": ("Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Failure)",
              DSN.format(extra="X-Failed-Recipients: gone1@customer.example\r\n", human="Address not found",
                         mta="googlemail.com", failed="gone1@customer.example")),
    "exchange": ("Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example>",
                 "Undeliverable: Your request VUO-2026-000001",
                 DSN.format(extra="Auto-Submitted: auto-replied\r\n", human="Delivery has failed",
                            mta="mail.contoso.example", failed="gone2@customer.example")),
    "postfix": ("MAILER-DAEMON@mail.example.org (Mail Delivery System)", "Undelivered Mail Returned to Sender",
                DSN.format(extra="Auto-Submitted: auto-replied\r\n", human="I'm sorry to have to inform you",
                           mta="mail.example.org", failed="gone3@customer.example")),
    "exim": ("Mail Delivery System <Mailer-Daemon@exim.example>", "Mail delivery failed: returning message to sender",
             "X-Failed-Recipients: gone4@customer.example\r\nAuto-Submitted: auto-replied\r\n"
             "Content-Type: text/plain\r\n\r\nThis message was created automatically by mail delivery software.\r\n"),
    "qmail": ("MAILER-DAEMON@qmail.example", "failure notice",
              "Content-Type: text/plain\r\n\r\nHi. This is the qmail-send program at qmail.example.\r\n"
              "<gone5@customer.example>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n"),
    "daemon-name-only": ("Mail Delivery Subsystem <bounces@relay.example>", "Returned mail: see transcript",
                         "Content-Type: text/plain\r\n\r\n----- The following addresses had permanent errors -----\r\n"),
}


def test_delivery_reports_from_several_mailer_daemons_are_recognised_and_not_acknowledged(
    world, dovecot, mailbox,  # noqa: F811
):
    dovecot.append(*(message(name, sender, subject, rest) for name, (sender, subject, rest) in BOUNCES.items()))

    assert mailbox_poll(mailbox=mailbox, now=NOW).received == len(BOUNCES)

    rows = {row.message_id: row for row in InboundEmail.objects.all()}
    for name in BOUNCES:
        row = rows[f"<{name}@outside.test>"]
        assert row.outcome == Outcome.IGNORED_LOOP and "bounce" in row.reason, (name, row.reason)
    assert Ticket.objects.count() == 0 and OutboundEmail.objects.count() == 0
    failed = {address for row in rows.values() for address in row.bounces.values_list("address", flat=True)}
    assert failed == {"gone1@customer.example", "gone2@customer.example", "gone3@customer.example",
                      "gone4@customer.example"}
