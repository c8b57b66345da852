"""Mail as a full intake: forwarded content kept, every thread found, closed tickets followed up,
contacts in their organisation, the mailbox's team and triage, answers addressed to the mailbox."""

import base64
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils.translation import gettext

from tests import factories as f
from tests.test_coverage_intake import cover, office_hours
from vuoro.accounts.models import User
from vuoro.channels.models import InboundEmail, Mailbox, Outcome
from vuoro.channels.parse import marked_urgent, parse
from vuoro.channels.services import email_receive
from vuoro.coverage.models import OutOfHoursDecision
from vuoro.notify.models import OutboundEmail
from vuoro.tickets.models import Status, Ticket
from vuoro.tickets.services import ticket_change

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
SATURDAY_NIGHT = dt.datetime(2026, 11, 21, 2, 0, tzinfo=ZoneInfo("Europe/Helsinki"))
FORWARD = (
    "From: {sender}\r\nTo: desk@vuoro.test\r\nSubject: Fwd: Account locked\r\nMessage-ID: <fw@x>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\nPlease see below.\r\n\r\n"
    "---------- Forwarded message ---------\r\nFrom: IT <it@corp.test>\r\nSubject: Account locked\r\n\r\n"
    "Your account is locked.\r\n"
)


def mail(sender: str, *, subject: str = "Printer broken", body: str = "It jams.", mid: str = "<m@x.test>",
         extra: str = "") -> bytes:
    return (f"From: {sender}\r\nTo: desk@vuoro.test\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n{extra}"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}").encode()


@pytest.fixture
def box(world, settings):
    settings.VUORO_REQUESTER_MAIL = True
    settings.DEFAULT_FROM_EMAIL = "tuki@vuoro.example"
    return Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=world.other)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_forwarded_message_is_the_request_and_is_kept_whole(world, box):
    row = email_receive(raw=FORWARD.format(sender=world.requester_a.email).encode(), mailbox=box)
    assert row.outcome == Outcome.TICKET_CREATED
    assert "Please see below." in row.ticket.description
    assert "Your account is locked." in row.ticket.description


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_reply_all_to_the_request_itself_threads_onto_its_ticket(world, box):
    first = email_receive(raw=mail(world.requester_a.email, mid="<orig@corp.test>"), mailbox=box)
    follow_up = mail(world.colleague_a.email, subject="Re: Printer broken", body="Same here on floor 3.",
                     mid="<re1@corp.test>", extra="In-Reply-To: <orig@corp.test>\r\nReferences: <orig@corp.test>\r\n")
    row = email_receive(raw=follow_up, mailbox=box)
    assert row.outcome == Outcome.REPLY_ADDED and row.ticket == first.ticket
    assert "Same here on floor 3." in first.ticket.messages.get().body
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_reply_all_by_someone_of_another_organisation_does_not_join_the_ticket(world, box):
    first = email_receive(raw=mail(world.requester_a.email, mid="<orig@corp.test>"), mailbox=box)
    row = email_receive(raw=mail(world.requester_b.email, subject="Re: Printer broken", mid="<b@x>",
                                 extra="In-Reply-To: <orig@corp.test>\r\n"), mailbox=box)
    assert row.outcome == Outcome.TICKET_CREATED and row.ticket != first.ticket
    assert row.ticket.requester == world.requester_b and first.ticket.messages.count() == 0


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_reply_to_a_closed_ticket_becomes_a_new_request_that_names_it(world, box):
    closed = f.ticket(world.requester_a, world.other)
    ticket_change(actor=world.agent, ticket=closed, status=Status.RESOLVED)
    ticket_change(actor=world.agent, ticket=closed, status=Status.CLOSED)
    row = email_receive(raw=mail(world.requester_a.email, subject=f"Re: [{closed.reference}] Laptop broken",
                                 body="It broke again."), mailbox=box)
    assert row.outcome == Outcome.TICKET_CREATED and row.ticket != closed
    assert closed.reference in row.ticket.description and "It broke again." in row.ticket.description
    assert row.reason == gettext("The referenced ticket is closed; a new request was made.")
    assert closed.messages.count() == 0


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_an_unknown_sender_becomes_a_contact_of_the_organisation_of_its_domain(world, box):
    world.org_a.email_domain = "org-a.test"
    world.org_a.save()
    row = email_receive(raw=mail("New.Person@ORG-A.test"), mailbox=box)
    contact = User.objects.get(email="new.person@org-a.test")
    assert row.ticket.requester == contact
    assert contact.organisation == world.org_a and row.ticket.organisation == world.org_a
    outsider = email_receive(raw=mail("someone@elsewhere.test", mid="<o@x>"), mailbox=box)
    assert outsider.ticket.requester.organisation is None


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_mailbox_team_takes_its_new_requests(world, box):
    box.team = f.team("Printers")
    box.save()
    row = email_receive(raw=mail(world.requester_a.email), mailbox=box)
    assert row.ticket.team == box.team and row.ticket.service == world.other


@pytest.mark.django_db
def test_an_outage_address_out_of_hours_goes_to_the_partner_now(world, box):
    world.critical.calendar = office_hours()
    world.critical.save()
    cover(world.critical, world.partner_team)
    box.service, box.stops_work = world.critical, "yes"
    box.save()
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        row = email_receive(raw=mail(world.requester_a.email, subject="Mail is down"), mailbox=box)
    decision = OutOfHoursDecision.objects.get(ticket=row.ticket)
    assert (decision.action, decision.reason, decision.handled_by) == ("handle_now", "urgent_covered", "partner")
    assert Ticket.objects.get(pk=row.ticket.pk).team == world.partner_team


@pytest.mark.django_db
def test_ordinary_mail_out_of_hours_waits_and_the_requester_is_told_when(world, box):
    world.other.calendar = office_hours()
    world.other.save()
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        row = email_receive(raw=mail(world.requester_a.email), mailbox=box)
    decision = OutOfHoursDecision.objects.get(ticket=row.ticket)
    assert (decision.action, decision.reason) == ("defer", "not_urgent")
    ack = OutboundEmail.objects.get(key=f"requester-{row.ticket.pk}-received")
    assert "23.11." in ack.body and "8.00" in ack.body


@pytest.mark.django_db
@pytest.mark.parametrize(("trusted", "header", "answer"), [
    (True, "Importance: high", "yes"),
    (True, "X-Priority: 1 (Highest)", "yes"),
    (True, "X-Priority: 3 (Normal)", "no"),
    (False, "Importance: high", "no"),
])
@time_machine.travel(NOW, tick=False)
def test_urgent_mail_stops_work_only_where_the_mailbox_trusts_it(world, box, trusted, header, answer):
    box.trust_importance = trusted
    box.save()
    row = email_receive(raw=mail(world.requester_a.email, extra=header + "\r\n"), mailbox=box)
    assert row.ticket.stops_work == answer


def test_marked_urgent_reads_the_common_clients_headers():
    def urgent(header: str) -> bool:
        return marked_urgent(parse(f"From: a@b.test\r\nMessage-ID: <u@x>\r\n{header}\r\n\r\nx".encode()))

    assert urgent("Importance: High") and urgent("X-Priority: 2") and urgent("Priority: urgent")
    assert urgent("X-MSMail-Priority: High")
    assert not urgent("Importance: normal") and not urgent("X-Priority: 3") and not urgent("Subject: URGENT")


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_mail_about_a_ticket_asks_for_answers_to_the_mailbox_it_came_to(world, box):
    Mailbox.objects.create(name="Other", address="other@vuoro.test", service=world.other)
    second = Mailbox.objects.create(name="Printers", address="printers@vuoro.test", service=world.other)
    row = email_receive(raw=mail(world.requester_a.email), mailbox=second)
    ack = OutboundEmail.objects.get(key=f"requester-{row.ticket.pk}-received")
    assert ack.headers["Reply-To"] == "printers@vuoro.test"
    portal = f.ticket(world.requester_a, world.other)  # no mail of its own: the service's first mailbox
    assert OutboundEmail.objects.get(key=f"requester-{portal.pk}-received").headers["Reply-To"] == "desk@vuoro.test"
    plain = f.ticket(world.requester_a, world.critical)  # no mailbox at all: no Reply-To
    assert "Reply-To" not in OutboundEmail.objects.get(key=f"requester-{plain.pk}-received").headers
    assert InboundEmail.objects.count() == 1


HTML_MAIL = (
    "From: {sender}\r\nTo: desk@vuoro.test\r\nSubject: Printers\r\nMessage-ID: <h@x>\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPrinters: P1 broken, P2 jams\r\n"
    "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    "<html><head><title>Secret title</title><style>p {{color: red}}</style></head><body>"
    "<p>These <b>printers</b>:</p><table><tr><td>P1</td><td>broken</td></tr><tr><td>P2</td><td>jams</td></tr>"
    '</table><ul><li>since Monday</li></ul><img src="https://track.example/pixel.gif">'
    "<script>steal()</script><p onclick=\"x()\">Thanks</p></body></html>\r\n--b--\r\n"
)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_an_html_request_keeps_its_tables_and_lists_and_nothing_unsafe(world, box):
    row = email_receive(raw=HTML_MAIL.format(sender=world.requester_a.email).encode(), mailbox=box)
    description = row.ticket.description
    assert "<table>" in description and "<td>P2</td>" in description and "<li>since Monday</li>" in description
    assert "<b>printers</b>" in description and "Thanks" in description
    for unsafe in ("<script", "steal", "onclick", "<img", "track.example", "Secret title", "color: red"):
        assert unsafe not in description, unsafe


GMAIL_LIKE = (
    "From: {sender}\r\nTo: desk@vuoro.test\r\nSubject: VPN\r\nMessage-ID: <g@x>\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=utf-8\r\n\r\n"
    '<div dir="ltr">Hi,<div><br></div><div>VPN &amp; Wi-Fi drop.</div><ul><li>Laptop</li></ul></div>\r\n'
)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_html_wrapped_in_divs_is_stored_as_html_not_as_escaped_markup(world, box):
    row = email_receive(raw=GMAIL_LIKE.format(sender=world.requester_a.email).encode(), mailbox=box)
    description = row.ticket.description
    assert description.startswith("<p>") and "<li>Laptop</li>" in description
    assert "VPN &amp; Wi-Fi drop." in description
    assert "&lt;" not in description and "&amp;amp;" not in description


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_strangers_urgent_mail_does_not_count_as_stopping_work(world, box):
    box.trust_importance = True
    box.save()
    row = email_receive(raw=mail("stranger@nowhere.test", extra="Importance: high\r\n"), mailbox=box)
    assert row.outcome == Outcome.TICKET_CREATED and row.ticket.stops_work == "no"


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_answers_to_a_portal_ticket_go_to_the_ordinary_mailbox_not_the_outage_address(world, settings):
    settings.VUORO_REQUESTER_MAIL = True
    settings.DEFAULT_FROM_EMAIL = "tuki@vuoro.example"
    Mailbox.objects.create(name="Outage", address="outage@vuoro.test", service=world.other, stops_work="yes")
    Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=world.other)
    ticket = f.ticket(world.requester_a, world.other)
    ack = OutboundEmail.objects.get(key=f"requester-{ticket.pk}-received")
    assert ack.headers["Reply-To"] == "desk@vuoro.test"


def with_file(sender: str, *, mid: str, extra: str = "", size: int = 3000) -> bytes:
    payload = base64.b64encode(b"%PDF-1.4 " + b"x" * size).decode()
    return (f"From: {sender}\r\nTo: desk@vuoro.test\r\nSubject: Re: Printer broken\r\nMessage-ID: {mid}\r\n{extra}"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nThe log is attached.\r\n--b\r\n"
            "Content-Type: application/pdf; name=log.pdf\r\nContent-Disposition: attachment; filename=log.pdf\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{payload}\r\n--b--\r\n").encode()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_reply_past_the_tickets_file_quota_keeps_its_text_and_names_the_file(world, box, settings):
    settings.VUORO_ATTACHMENTS_TICKET_BYTES = 5000
    first = email_receive(raw=with_file(world.requester_a.email, mid="<q1@corp.test>"), mailbox=box)
    assert first.ticket.attachments.count() == 1
    thread = "In-Reply-To: <q1@corp.test>\r\nReferences: <q1@corp.test>\r\n"
    again = email_receive(raw=with_file(world.requester_a.email, mid="<q2@corp.test>", extra=thread), mailbox=box)
    assert again.outcome == Outcome.REPLY_ADDED and again.ticket == first.ticket
    assert "The log is attached." in again.ticket_message.body
    assert first.ticket.attachments.count() == 1
    assert "log.pdf" in again.reason
