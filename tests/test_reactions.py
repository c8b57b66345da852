"""Domain events and their deferred reactions: the worker path (VUORO_REACT_INLINE off).

Intake writes the ticket and one outbox event in its transaction; mail and webhooks are written
later by ``react_due`` (the worker's reactor thread), once per event and subscriber, in order
per ticket, retried when a subscriber fails, and surfaced when it fails for good.
"""

import threading

import pytest
from django.db import connection

from tests import factories as f
from tests.worker_harness import start_worker, stop, wait_for
from vuoro.core import events
from vuoro.core.models import DomainEvent, EventState, Reaction
from vuoro.notify.models import OutboundEmail
from vuoro.tickets.models import Status
from vuoro.tickets.services import message_add, ticket_change


@pytest.fixture
def deferred(settings):
    settings.VUORO_REACT_INLINE = False
    settings.VUORO_REQUESTER_MAIL = True
    settings.VUORO_AGENT_MAIL = True


def test_intake_writes_one_event_and_no_mail_until_the_worker_reacts(world, deferred):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    event = DomainEvent.objects.get(ticket_id=ticket.pk)
    assert (event.name, event.state) == ("ticket.created", EventState.PENDING)
    assert not OutboundEmail.objects.exists()
    # What the answer needs was done inline: clocks and the out-of-hours decision.
    assert ticket.sla_clocks.exists() or ticket.out_of_hours_decision is not None

    assert events.react_due() == 1
    event.refresh_from_db()
    assert event.state == EventState.DONE
    keys = set(OutboundEmail.objects.values_list("key", flat=True))
    assert f"requester-{ticket.pk}-received" in keys
    assert set(Reaction.objects.filter(event=event).values_list("subscriber", flat=True)) == {
        s.name for s in events.subscribers("ticket.created", deferred=True)}
    assert events.react_due() == 0
    assert OutboundEmail.objects.count() == len(keys)


def test_a_reaction_claimed_again_after_a_crash_does_not_repeat(world, deferred):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    event = DomainEvent.objects.get(ticket_id=ticket.pk)
    events.react(event)
    mails = OutboundEmail.objects.count()
    assert mails > 0
    # As if the worker died after its reactions committed but before marking the event done.
    DomainEvent.objects.filter(pk=event.pk).update(state=EventState.PENDING, claimed_until=None)
    assert events.react_due() == 1
    assert OutboundEmail.objects.count() == mails


def test_reactions_to_one_ticket_keep_their_order(world, deferred):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    ticket_change(actor=world.agent, ticket=ticket, status=Status.OPEN)
    first, second = DomainEvent.objects.filter(ticket_id=ticket.pk).order_by("id")
    # The first is held by another worker: the second must wait for it.
    DomainEvent.objects.filter(pk=first.pk).update(
        claimed_until=first.created_at.replace(year=first.created_at.year + 1), claimed_by="other")
    assert events.claim_due() == []
    DomainEvent.objects.filter(pk=first.pk).update(claimed_until=None)
    DomainEvent.objects.filter(pk=first.pk).update(next_attempt_at=first.created_at.replace(
        year=first.created_at.year + 1))  # the first waits for a retry: the second waits too
    assert events.claim_due() == []
    DomainEvent.objects.filter(pk=first.pk).update(next_attempt_at=first.created_at)
    assert [e.pk for e in events.claim_due()] == [first.pk, second.pk]


def test_a_failing_subscriber_is_retried_then_failed_for_good_and_counted(world, deferred):
    calls = []

    def broken(event):
        calls.append(event.id)
        raise RuntimeError("provider template broken")

    events.subscribe("ticket.created", "test.broken", broken, deferred=True)
    try:
        ticket = f.ticket(world.requester_a, world.other, world.cat_other)
        event = DomainEvent.objects.get(ticket_id=ticket.pk)
        assert events.react(event) is False
        event.refresh_from_db()
        assert event.state == EventState.PENDING and event.attempts == 1
        assert "provider template broken" in event.last_error
        mails = OutboundEmail.objects.count()
        assert mails > 0  # the working subscribers' reactions are kept
        for _ in range(events.MAX_ATTEMPTS - 1):
            event.refresh_from_db()
            events.react(event)
        event.refresh_from_db()
        assert event.state == EventState.FAILED
        assert events.events_failed() == 1
        assert OutboundEmail.objects.count() == mails  # never written twice
        assert len(calls) == events.MAX_ATTEMPTS
    finally:
        events._subscribers["ticket.created"] = [
            s for s in events._subscribers["ticket.created"] if s.name != "test.broken"]


def test_message_and_status_reactions_tell_what_happened_then(world, deferred, settings):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    message_add(actor=world.agent, ticket=ticket, body="Try restarting it.")
    ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)
    # The ticket is reopened before the worker gets to the resolution mail.
    message_add(actor=world.requester_a, ticket=ticket, body="Still broken")
    assert events.react_due() == 5  # created, reply, changed, resolved, requester's message
    subjects = list(OutboundEmail.objects.filter(to=world.requester_a.email)
                    .order_by("id").values_list("key", flat=True))
    assert any(k.endswith("-received") for k in subjects)
    assert any("-reply-" in k for k in subjects)
    assert any("-status-" in k for k in subjects), subjects


@pytest.mark.django_db(transaction=True)
def test_two_reactors_at_once_react_once(world, deferred):
    for n in range(20):
        f.ticket(world.requester_a, world.other, world.cat_other, subject=f"Load {n}")
    errors = []

    def run():
        try:
            while events.react_due(limit=5):
                pass
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert DomainEvent.objects.filter(state=EventState.DONE).count() == 20
    received = OutboundEmail.objects.filter(key__endswith="-received")
    assert received.count() == 20
    assert Reaction.objects.count() == 20 * len(events.subscribers("ticket.created", deferred=True))


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_reacts_within_seconds(world, deferred, tmp_path):
    worker = start_worker("reactor", tmp_path, VUORO_PAGE_INTERVAL="0.1")
    try:
        ticket = f.ticket(world.requester_a, world.other, world.cat_other)
        wait_for(lambda: DomainEvent.objects.filter(ticket_id=ticket.pk, state=EventState.DONE).exists(),
                 [worker], tmp_path, 15)
        assert OutboundEmail.objects.filter(key=f"requester-{ticket.pk}-received").count() == 1
    finally:
        stop(worker)


def test_a_failed_event_can_be_reacted_to_again_from_the_admin(world, deferred, admin_client):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    event = DomainEvent.objects.get(ticket_id=ticket.pk)
    DomainEvent.objects.filter(pk=event.pk).update(state=EventState.FAILED, attempts=8)
    response = admin_client.post("/admin/core/domainevent/", {
        "action": "try_again", "_selected_action": [event.pk]}, follow=True)
    assert response.status_code == 200
    event.refresh_from_db()
    assert (event.state, event.attempts) == (EventState.PENDING, 0)
    assert events.react_due() == 1
    assert OutboundEmail.objects.filter(key=f"requester-{ticket.pk}-received").count() == 1


def test_reactions_step_aside_while_paging_work_is_due(world, deferred):
    for n in range(3):
        f.ticket(world.requester_a, world.other, world.cat_other, subject=f"Bulk {n}")
    asked = []

    def paging_due() -> bool:
        asked.append(True)
        return len(asked) > 1  # a page falls due after the first event

    assert events.react_due(pause=paging_due) == 1
    assert DomainEvent.objects.filter(state=EventState.DONE).count() == 1
    # The rest are let go at once, not held under a lease: the next cycle takes them.
    assert not DomainEvent.objects.filter(state=EventState.PENDING, claimed_until__isnull=False).exists()
    assert events.react_due() == 2


def test_the_subscribers_of_one_event_read_its_ticket_once(world, deferred):
    from django.test.utils import CaptureQueriesContext

    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    event = DomainEvent.objects.get(ticket_id=ticket.pk)
    with CaptureQueriesContext(connection) as queries:
        assert events.react(event)
    reads = [q["sql"] for q in queries.captured_queries
             if q["sql"].startswith('SELECT "tickets_ticket"."id"') and 'FROM "tickets_ticket"' in q["sql"]]
    assert len(reads) == 1, reads
    # Both mails and the webhook reaction ran on that one read.
    keys = set(OutboundEmail.objects.values_list("key", flat=True))
    assert f"requester-{ticket.pk}-received" in keys
    assert any(key.startswith(f"agent-{ticket.pk}-new") for key in keys)


def test_a_subscriber_changing_its_copy_leaves_the_shared_ticket_alone(world, deferred):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    events.react_due()
    ticket_change(actor=world.agent, ticket=ticket, status=Status.WAITING)
    event = DomainEvent.objects.filter(ticket_id=ticket.pk, name="ticket.changed").latest("id")
    DomainEvent.objects.filter(pk=event.pk).update(payload={**event.payload, "status": Status.RESOLVED})
    event.refresh_from_db()
    shared = events._as_event(event)
    for subscriber in events.subscribers("ticket.changed", deferred=True):
        subscriber.handler(shared)
    assert shared.memo["ticket"].status == Status.WAITING
