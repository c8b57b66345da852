"""The telephony webhook: signed and fresh requests only; missed calls and voicemails become
phone tickets once, however often they are delivered; refused requests write nothing."""

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
from vuoro.tickets.models import Ticket

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def event(**changes) -> bytes:
    data = {"id": "call-1", "from": "+358401234567", "to": "+35891234567", "started_at": "2026-11-23T11:58:00Z",
            "duration": 0, "outcome": "missed"}
    data.update(changes)
    return json.dumps(data).encode()


def deliver(body: bytes, *, at: dt.datetime = NOW, secret: str = SECRET, timestamp: str | None = None):
    stamp = timestamp if timestamp is not None else str(int(at.timestamp()))
    with time_machine.travel(NOW, tick=False):
        return Client().post("/phone/webhook/", body, content_type="application/json",
                             HTTP_X_VUORO_TIMESTAMP=stamp,
                             HTTP_X_VUORO_SIGNATURE=sign(secret=secret, timestamp=stamp, body=body))


def written() -> tuple[int, int, int]:
    return Call.objects.count(), Ticket.objects.count(), User.objects.count()


def test_a_signed_missed_call_becomes_a_phone_ticket_for_the_caller(phone_world):
    response = deliver(event())
    assert response.status_code == 201
    call = Call.objects.get(external_id="call-1")
    ticket = Ticket.objects.get(reference=response.json()["ticket"])
    assert call.ticket == ticket and call.caller == phone_world.requester_a
    assert (ticket.channel, ticket.requester, ticket.service) == ("phone", phone_world.requester_a,
                                                                   phone_world.other)


def test_the_same_call_twice_is_one_call_and_one_ticket(phone_world):
    first = deliver(event())
    again = deliver(event(), at=NOW + dt.timedelta(seconds=30))
    replay = deliver(event())  # the very same signed request
    assert first.status_code == 201 and again.status_code == 200 and replay.status_code == 200
    assert again.json()["ticket"] == first.json()["ticket"]
    assert (Call.objects.count(), Ticket.objects.count()) == (1, 1)


def test_an_unknown_voicemail_caller_gets_a_contact_that_cannot_sign_in(phone_world):
    response = deliver(event(id="vm-1", **{"from": "050 999 8888"}, outcome="voicemail",
                             voicemail_url="https://pbx.example.test/vm/1.wav"))
    assert response.status_code == 201
    ticket = Ticket.objects.get(reference=response.json()["ticket"])
    assert ticket.requester.phone == "+358509998888" and not ticket.requester.has_usable_password()
    assert Call.objects.get().voicemail_url == "https://pbx.example.test/vm/1.wav"
    deliver(event(id="vm-2", **{"from": "+358509998888"}, outcome="missed"))
    assert User.objects.filter(phone="+358509998888").count() == 1


def test_answered_calls_are_recorded_without_a_ticket(phone_world):
    response = deliver(event(id="ans-1", outcome="answered", duration=125))
    assert response.status_code == 201 and response.json()["ticket"] is None
    assert Call.objects.get().duration_seconds == 125 and Ticket.objects.count() == 0


def test_without_a_default_service_missed_calls_are_only_recorded(phone_world, settings):
    settings.VUORO_TELEPHONY_SERVICE = ""
    assert deliver(event()).status_code == 201
    assert (Call.objects.count(), Ticket.objects.count()) == (1, 0)


def test_bad_signature_is_refused_with_nothing_written(phone_world):
    before = written()
    assert deliver(event(), secret="guessed").status_code == 401
    unsigned = Client().post("/phone/webhook/", event(), content_type="application/json",
                             HTTP_X_VUORO_TIMESTAMP=str(int(NOW.timestamp())))
    assert unsigned.status_code == 401
    assert written() == before


def test_a_tampered_body_is_refused(phone_world):
    stamp = str(int(NOW.timestamp()))
    signature = sign(secret=SECRET, timestamp=stamp, body=event())
    with time_machine.travel(NOW, tick=False):
        response = Client().post("/phone/webhook/", event(id="other"), content_type="application/json",
                                 HTTP_X_VUORO_TIMESTAMP=stamp, HTTP_X_VUORO_SIGNATURE=signature)
    assert response.status_code == 401 and Call.objects.count() == 0


@pytest.mark.parametrize("skew", [dt.timedelta(minutes=-6), dt.timedelta(minutes=6), dt.timedelta(days=-1)])
def test_stale_or_future_timestamps_are_refused_as_replays(phone_world, skew):
    before = written()
    response = deliver(event(), at=NOW + skew)
    assert response.status_code == 401 and "timestamp" in response.json()["detail"]
    assert written() == before


def test_a_captured_request_replayed_later_is_refused(phone_world):
    stamp = str(int(NOW.timestamp()))
    body = event(id="captured")
    with time_machine.travel(NOW + dt.timedelta(minutes=10), tick=False):
        response = Client().post("/phone/webhook/", body, content_type="application/json",
                                 HTTP_X_VUORO_TIMESTAMP=stamp,
                                 HTTP_X_VUORO_SIGNATURE=sign(secret=SECRET, timestamp=stamp, body=body))
    assert response.status_code == 401 and Call.objects.count() == 0


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe", event(outcome="hung-up"),
                                  event(**{"from": "nobody"}), event(id=""), event(started_at="yesterday"),
                                  event(started_at="2026-11-23T11:58:00"), event(duration=-5)])
def test_malformed_bodies_are_400_with_nothing_written(phone_world, body):
    before = written()
    assert deliver(body).status_code == 400
    assert written() == before


def test_without_a_configured_secret_everything_is_refused(phone_world, settings, monkeypatch):
    settings.VUORO_TELEPHONY_SECRET = ""
    monkeypatch.delenv("VUORO_TELEPHONY_SECRET", raising=False)
    assert deliver(event(), secret="").status_code == 401
    assert Call.objects.count() == 0


def test_only_post(phone_world):
    assert Client().get("/phone/webhook/").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_the_same_call_delivered_four_times_at_once_is_one_call_and_one_ticket(phone_world):
    body = event(id="race-1")
    stamp = str(int(NOW.timestamp()))
    signature = sign(secret=SECRET, timestamp=stamp, body=body)

    def receive():
        return webhook_receive(body=body, timestamp=stamp, signature=signature, now=NOW).created

    created = in_threads(*[receive] * 4)
    assert sorted(created) == [False, False, False, True]
    assert (Call.objects.count(), Ticket.objects.count()) == (1, 1)


def test_tickets_read_in_the_desks_language_while_refusals_are_in_english(phone_world, settings):
    settings.LANGUAGE_CODE = "fi"
    ticket = Ticket.objects.get(reference=deliver(event()).json()["ticket"])
    assert ticket.subject == "Vastaamaton puhelu numerosta +358401234567"
    refused = deliver(event(id="call-2"), secret="wrong")
    assert (refused.status_code, refused.json()["detail"]) == (401, "Bad signature.")
