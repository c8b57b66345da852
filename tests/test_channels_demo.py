"""The demo's channels: mailboxes that poll nothing, phones and calls, webhooks that send nothing."""

from django.core.management import call_command
from django.urls import reverse

from vuoro.accounts.models import User
from vuoro.channels.demo import load_channels_demo
from vuoro.channels.models import Mailbox
from vuoro.notify.models import OutboundEmail
from vuoro.ops.demo import load_demo
from vuoro.telephony.demo import load_telephony_demo
from vuoro.telephony.models import Call
from vuoro.telephony.selectors import lookup
from vuoro.webhooks.demo import load_webhooks_demo
from vuoro.webhooks.models import HandOff, WebhookDelivery, WebhookSubscription


def _counts() -> tuple[int, ...]:
    return (Mailbox.objects.count(), Call.objects.count(), WebhookSubscription.objects.count(),
            HandOff.objects.count(), User.objects.exclude(phone="").count())


def test_demo_mailboxes_take_email_without_polling(db):
    load_demo()
    general = Mailbox.objects.get(address="tuki@vuoro.example")
    assert general.service.slug == "workstations" and general.team.name == "Lähituki"
    mailboxes = list(Mailbox.objects.all())
    assert {m.service.slug for m in mailboxes} == {"workstations", "email", "access", "erp"}
    assert all(m.imap_host == "" and m.active for m in mailboxes)
    secrets = [m.inbound_secret for m in mailboxes]
    assert all(len(s) >= 32 for s in secrets) and len(set(secrets)) == len(secrets)


def test_demo_requesters_have_numbers_and_a_call_history(db):
    load_demo()
    maija = User.objects.get(username="maija")
    assert (maija.phone, maija.phone_e164) == ("+358 40 555 0101", "+358405550101")
    assert set(User.objects.exclude(phone="").values_list("username", flat=True)) == {"maija", "emma", "sven"}
    assert set(Call.objects.values_list("outcome", flat=True)) == {"answered", "missed", "voicemail"}
    found = lookup(user=User.objects.get(username="antti"), raw_number="040 555 0101")
    assert found.caller == maija and len(found.calls) == 2
    assert all(call.logged_by.username == "antti" and call.caller == maija for call in found.calls)
    assert lookup(user=User.objects.get(username="antti"), raw_number="044 555 0909").caller is None


def test_the_lookup_page_shows_the_demo_history(db, client):
    load_demo()
    client.force_login(User.objects.get(username="antti"))
    response = client.get(reverse("telephony:lookup"), {"number": "+358 40 555 0101"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Maija" in page and "Salasana vanhenee huomenna" in page


def test_demo_webhooks_send_nothing(db):
    load_demo()
    sub = WebhookSubscription.objects.get()
    assert (sub.active, sub.url) == (False, "http://127.0.0.1:9/") and len(sub.secret) >= 32
    handoff = HandOff.objects.select_related("service").get()
    assert (handoff.service.slug, handoff.kind, handoff.email) == ("erp", "email", "tiketit@erp-toimittaja.example")
    assert not WebhookDelivery.objects.exists() and not OutboundEmail.objects.exists()


def test_the_demo_twice_creates_nothing_twice(db):
    call_command("demo")
    counts = _counts()
    secrets = sorted(Mailbox.objects.values_list("inbound_secret", flat=True))
    call_command("demo")
    load_channels_demo()
    load_telephony_demo()
    load_webhooks_demo()
    assert _counts() == counts
    assert sorted(Mailbox.objects.values_list("inbound_secret", flat=True)) == secrets


def test_the_demo_command_prints_no_secret(db, capsys):
    call_command("demo")
    out = capsys.readouterr().out
    for secret in [*Mailbox.objects.values_list("inbound_secret", flat=True),
                   *WebhookSubscription.objects.values_list("secret", flat=True),
                   *HandOff.objects.values_list("secret", flat=True)]:
        assert secret not in out


def test_demo_outage_address_at_night_reaches_the_partner_at_once(db):
    import datetime as dt
    from zoneinfo import ZoneInfo

    import time_machine

    from vuoro.channels.services import email_receive
    from vuoro.coverage.models import OutOfHoursDecision

    load_demo()
    raw = (b"From: Maija <maija@kaupunki.example>\r\nTo: hairio@vuoro.example\r\nSubject: Posti ei kulje\r\n"
           b"Message-ID: <demo-outage@kaupunki.example>\r\n\r\nKukaan ei saa postia.")
    with time_machine.travel(dt.datetime(2026, 11, 28, 2, 0, tzinfo=ZoneInfo("Europe/Helsinki")), tick=False):
        row = email_receive(raw=raw, mailbox=Mailbox.objects.get(address="hairio@vuoro.example"))
    assert row.ticket.requester.username == "maija" and row.ticket.stops_work == "yes"
    decision = OutOfHoursDecision.objects.get(ticket=row.ticket)
    assert (decision.action, decision.handled_by) == ("handle_now", "partner")
