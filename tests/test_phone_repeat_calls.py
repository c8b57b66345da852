"""Repeated missed calls: a number that rings again while the ticket its missed call opened is
still active and recent gets a note on that ticket, not another ticket; races between calls
from one number, and repeated deliveries of one call, still end in one ticket."""

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client

from tests.conftest import TELEPHONY_SECRET as SECRET
from tests.test_paging_concurrency import in_threads
from vuoro.accounts.models import User
from vuoro.telephony.models import Call
from vuoro.telephony.services import webhook_receive
from vuoro.telephony.signing import sign
from vuoro.tickets.models import EventKind, Message, Status, Ticket, TicketEvent

NOW = dt.datetime(2026, 11, 23, 22, 0, tzinfo=dt.UTC)
KNOWN = "+358401234567"
UNKNOWN = "+358509998888"




def event(call_id: str, *, number: str = KNOWN, at: dt.datetime = NOW, **changes) -> bytes:
    data = {"id": call_id, "from": number, "to": "+35891234567", "duration": 0, "outcome": "missed",
            "started_at": (at - dt.timedelta(minutes=1)).isoformat()}
    data.update(changes)
    return json.dumps(data).encode()


def ring(call_id: str, *, at: dt.datetime = NOW, **changes):
    """The telephony system reports a call that ended at ``at``."""
    return deliver(event(call_id, at=at, **changes), at=at)


def deliver(body: bytes, *, at: dt.datetime):
    """Post a signed body at ``at``; the desk reads English so the notes can be read here."""
    stamp = str(int(at.timestamp()))
    with time_machine.travel(at, tick=False):
        return Client().post("/phone/webhook/", body, content_type="application/json",
                             HTTP_ACCEPT_LANGUAGE="en", HTTP_X_VUORO_TIMESTAMP=stamp,
                             HTTP_X_VUORO_SIGNATURE=sign(secret=SECRET, timestamp=stamp, body=body))


def notes(ticket: Ticket) -> list[Message]:
    return list(Message.objects.filter(ticket=ticket).order_by("pk"))


def test_three_missed_calls_from_one_number_are_one_ticket_with_two_notes(phone_world):
    first = ring("night-1", at=NOW)
    second = ring("night-2", at=NOW + dt.timedelta(minutes=20))
    third = ring("night-3", at=NOW + dt.timedelta(hours=3))

    assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
    ticket = Ticket.objects.get()
    assert {first.json()["ticket"], second.json()["ticket"], third.json()["ticket"]} == {ticket.reference}
    assert list(Call.objects.values_list("ticket", flat=True)) == [ticket.pk] * 3
    written = notes(ticket)
    assert [(n.internal, n.channel) for n in written] == [(True, "phone")] * 2
    # 22:19 and 00:59 UTC are 00:19 and 02:59 in Helsinki, the service's zone; the notes read in
    # the desk's language (Finnish), whatever language the telephony system's request asked for.
    assert "Uusi vastaamaton puhelu numerosta +358401234567 24.11.2026 0.19" in written[0].body
    assert "24.11.2026 2.59" in written[1].body
    events = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CALL_LOGGED)
    assert list(events.values_list("new_value", "actor", "internal")) == [(KNOWN, None, True)] * 2


def test_a_repeated_voicemail_notes_its_recording(phone_world):
    ring("vm-1")
    ring("vm-2", at=NOW + dt.timedelta(minutes=5), outcome="voicemail",
         voicemail_url="https://pbx.example.test/vm/2.wav")
    ticket = Ticket.objects.get()
    assert "https://pbx.example.test/vm/2.wav" in notes(ticket)[0].body
    assert Call.objects.get(external_id="vm-2").ticket == ticket


def test_a_missed_call_after_the_ticket_is_resolved_opens_a_new_ticket(phone_world):
    first = ring("before")
    Ticket.objects.filter(reference=first.json()["ticket"]).update(status=Status.RESOLVED)
    after = ring("after", at=NOW + dt.timedelta(minutes=30))
    assert after.json()["ticket"] != first.json()["ticket"]
    assert Ticket.objects.count() == 2 and not Message.objects.exists()


def test_a_missed_call_after_the_window_opens_a_new_ticket(phone_world, settings):
    settings.VUORO_MISSED_CALL_WINDOW_HOURS = 2
    first = ring("early")
    within = ring("within", at=NOW + dt.timedelta(hours=1, minutes=59))
    later = ring("later", at=NOW + dt.timedelta(hours=2, minutes=1))
    assert within.json()["ticket"] == first.json()["ticket"] != later.json()["ticket"]
    assert Ticket.objects.count() == 2


def test_the_default_window_is_twelve_hours(phone_world):
    first = ring("early")
    within = ring("within", at=NOW + dt.timedelta(hours=11, minutes=59))
    later = ring("later", at=NOW + dt.timedelta(hours=12, minutes=1))
    assert within.json()["ticket"] == first.json()["ticket"] != later.json()["ticket"]


def test_a_window_of_zero_gives_every_missed_call_its_own_ticket(phone_world, settings):
    settings.VUORO_MISSED_CALL_WINDOW_HOURS = 0
    ring("one")
    ring("two", at=NOW + dt.timedelta(minutes=1))
    assert Ticket.objects.count() == 2


def test_another_number_gets_its_own_ticket(phone_world):
    mine = ring("a-1")
    theirs = ring("b-1", number="050 999 8888", at=NOW + dt.timedelta(minutes=1))
    again = ring("b-2", number=UNKNOWN, at=NOW + dt.timedelta(minutes=2))
    assert mine.json()["ticket"] != theirs.json()["ticket"] == again.json()["ticket"]
    assert Ticket.objects.get(reference=theirs.json()["ticket"]).requester.phone == UNKNOWN
    assert User.objects.filter(phone=UNKNOWN).count() == 1


def test_an_answered_call_does_not_join_or_open_a_ticket(phone_world):
    ring("missed")
    answered = ring("answered", at=NOW + dt.timedelta(minutes=1), outcome="answered", duration=60)
    assert answered.json()["ticket"] is None and not Message.objects.exists()


def test_a_ticket_logged_at_the_desk_is_not_joined(phone_world):
    from vuoro.telephony.services import call_log

    logged = call_log(actor=phone_world.agent, raw_number=KNOWN, reason="Printer", duration_seconds=60,
                      outcome="missed", create_ticket=True, service=phone_world.other)
    reported = ring("after-desk", at=NOW + dt.timedelta(minutes=1))
    assert reported.json()["ticket"] != logged.ticket.reference


def test_the_same_repeated_call_delivered_twice_notes_once(phone_world):
    ring("first")
    body = event("second", at=NOW + dt.timedelta(minutes=1))
    assert deliver(body, at=NOW + dt.timedelta(minutes=1)).status_code == 201
    assert deliver(body, at=NOW + dt.timedelta(minutes=2)).status_code == 200
    assert (Call.objects.count(), Ticket.objects.count(), Message.objects.count()) == (2, 1, 1)


def test_without_an_admin_to_write_the_note_a_repeated_call_opens_its_own_ticket(phone_world):
    User.objects.filter(role="admin").update(is_active=False)
    User.objects.filter(is_superuser=True).update(is_active=False)
    ring("one")
    ring("two", at=NOW + dt.timedelta(minutes=1))
    assert Ticket.objects.count() == 2 and not Message.objects.exists()


def receiver(body: bytes, *, at: dt.datetime):
    stamp = str(int(at.timestamp()))
    signature = sign(secret=SECRET, timestamp=stamp, body=body)
    return lambda: webhook_receive(body=body, timestamp=stamp, signature=signature, now=at).created


@pytest.mark.django_db(transaction=True)
def test_two_calls_from_one_caller_at_once_are_one_ticket(phone_world):
    at = dt.datetime.now(dt.UTC)
    created = in_threads(receiver(event("race-a", at=at), at=at), receiver(event("race-b", at=at), at=at))
    assert created == [True, True]
    ticket = Ticket.objects.get()
    assert set(Call.objects.values_list("ticket", flat=True)) == {ticket.pk}
    assert Message.objects.filter(ticket=ticket).count() == 1


@pytest.mark.django_db(transaction=True)
def test_three_calls_from_an_unknown_number_each_delivered_twice_at_once(phone_world):
    at = dt.datetime.now(dt.UTC)
    works = [receiver(event(f"storm-{i}", number=UNKNOWN, at=at), at=at) for i in range(3)]
    created = in_threads(*works, *works)
    assert sorted(created) == [False] * 3 + [True] * 3
    ticket = Ticket.objects.get()
    assert Call.objects.filter(ticket=ticket).count() == 3
    assert Message.objects.filter(ticket=ticket).count() == 2
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CALL_LOGGED).count() == 2
    assert User.objects.filter(phone=UNKNOWN).count() == 1
