"""The paging sender against a loopback provider: send once, retry, stop, never resend an unknown."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests import factories as f
from tests.fake_provider import FakeProvider
from vuoro.accounts.models import Role
from vuoro.notify.models import AttemptOutcome, DeliveryAttempt, MessageStatus, OutboundMessage
from vuoro.notify.selectors import message_counts
from vuoro.notify.sender import (
    SendResult,
    claim_message,
    message_retry_delay,
    recover_stuck_messages,
    send_message,
    send_messages,
)
from vuoro.notify.services import (
    contact_method_add,
    contact_notify,
    messages_cancel,
    notification_rule_add,
)
from vuoro.ops.management.commands.worker import pager_steps, scheduled_work


@pytest.fixture
def provider(settings):
    settings.VUORO_NOTIFY_TIMEOUT = 1
    server = FakeProvider().start()
    yield server
    server.stop()


def queued(provider, key="page-1:rule-1", **extra):
    now = timezone.now()
    fields = {"key": key, "kind": "webhook", "address": provider.url("/hook"), "title": "Mail is down",
              "body": "Look now", "next_attempt_at": now, "created_at": now, **extra}
    return OutboundMessage.objects.create(**fields)


def attempts(message):
    return list(message.delivery_attempts.values_list("outcome", "http_status"))


@pytest.mark.django_db
def test_an_accepted_message_is_sent_once(provider):
    message = queued(provider)

    assert send_messages() == SendResult(sent=1)
    assert send_messages() == SendResult()

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 1, "")
    assert message.sent_at is not None
    assert attempts(message) == [(AttemptOutcome.SENT, 200)]
    assert provider.count("/hook") == 1


@pytest.mark.django_db
def test_a_server_error_is_retried_with_backoff_then_sent_once(provider):
    provider.set_mode("status", status=500, times=2)
    message = queued(provider)
    now = timezone.now()

    assert send_messages(now=now) == SendResult(retried=1)
    message.refresh_from_db()
    assert (message.status, message.next_attempt_at) == (MessageStatus.PENDING, now + timedelta(seconds=15))

    assert send_messages(now=now + timedelta(seconds=14)) == SendResult()
    assert send_messages(now=now + timedelta(seconds=15)) == SendResult(retried=1)
    message.refresh_from_db()
    assert message.next_attempt_at == now + timedelta(seconds=45)
    assert send_messages(now=now + timedelta(seconds=45)) == SendResult(sent=1)
    assert send_messages(now=now + timedelta(hours=1)) == SendResult()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 3)
    assert attempts(message) == [(AttemptOutcome.TRANSIENT, 500), (AttemptOutcome.TRANSIENT, 500),
                                 (AttemptOutcome.SENT, 200)]
    assert provider.count("/hook") == 3  # two refused, one accepted: delivered once


@pytest.mark.django_db
def test_a_refused_message_fails_for_good_after_one_attempt(provider):
    provider.set_mode("status", status=400)
    message = queued(provider)

    assert send_messages() == SendResult(failed=1)
    assert send_messages(now=timezone.now() + timedelta(days=1)) == SendResult()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)
    assert "400" in message.last_error
    assert attempts(message) == [(AttemptOutcome.PERMANENT, 400)]
    assert provider.count("/hook") == 1


@pytest.mark.django_db
def test_a_provider_that_does_not_answer_in_time_leaves_the_outcome_unknown_and_is_not_resent(provider):
    provider.set_mode("delay", delay=3)
    message = queued(provider)

    assert send_messages() == SendResult(unknown=1)
    later = timezone.now() + timedelta(days=1)
    assert recover_stuck_messages(now=later) == 0
    assert send_messages(now=later) == SendResult()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.UNKNOWN, 1)
    assert "ReadTimeout" in message.last_error
    assert attempts(message) == [(AttemptOutcome.UNKNOWN, None)]
    assert provider.count("/hook") == 1


@pytest.mark.django_db
def test_the_last_allowed_attempt_gives_up(provider):
    provider.set_mode("status", status=503)
    message = queued(provider, attempts=7)

    assert send_messages() == SendResult(failed=1)

    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 8)


def test_message_backoff_doubles_from_15_seconds_up_to_ten_minutes():
    assert [message_retry_delay(n).total_seconds() for n in range(1, 8)] == [15, 30, 60, 120, 240, 480, 600]


@pytest.mark.django_db
def test_a_send_stuck_for_over_two_minutes_becomes_unknown_and_is_not_resent(provider):
    now = timezone.now()
    stuck = queued(provider, key="stuck", status=MessageStatus.SENDING, claimed_at=now - timedelta(minutes=3))
    busy = queued(provider, key="busy", status=MessageStatus.SENDING, claimed_at=now - timedelta(minutes=1))

    assert recover_stuck_messages(now=now) == 1
    assert send_messages(now=now + timedelta(days=1)) == SendResult()

    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert (stuck.status, busy.status) == (MessageStatus.UNKNOWN, MessageStatus.SENDING)
    assert provider.count() == 0


@pytest.mark.django_db
def test_a_send_that_finishes_after_the_watchdog_is_recorded_as_sent(provider):
    queued(provider)
    now = timezone.now()
    message = claim_message(now)
    recover_stuck_messages(now=now + timedelta(minutes=3))

    assert send_message(message, now) == MessageStatus.SENT

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert provider.count("/hook") == 1


@pytest.mark.django_db
def test_a_cancelled_message_is_never_sent(provider):
    queued(provider, status=MessageStatus.CANCELLED)

    assert send_messages() == SendResult()
    assert provider.count() == 0


@pytest.mark.django_db
def test_a_page_reaches_the_webhook_at_once_and_the_acknowledgement_stops_the_later_sms(provider, settings):
    settings.VUORO_SMS_URL = f"smseagle://token@{provider.host}/{{number}}"
    person = f.user(Role.AGENT)
    hook = contact_method_add(user=person, kind="webhook", address=provider.url("/hook"))
    sms = contact_method_add(user=person, kind="sms", address="+358401234567")
    notification_rule_add(user=person, contact_method_id=hook.pk, delay_minutes=0)
    notification_rule_add(user=person, contact_method_id=sms.pk, delay_minutes=5)
    now = timezone.now()
    contact_notify(user=person, key="page-42", title="VUO-2026-000042", body="Mail is down", now=now)

    assert send_messages(now=now) == SendResult(sent=1)
    assert messages_cancel(key_prefix="page-42:", reason="Acknowledged") == 1
    assert send_messages(now=now + timedelta(minutes=5)) == SendResult()

    [request] = provider.received()
    assert request.path == "/hook"
    assert request.header("Idempotency-Key").startswith("page-42:rule-")
    assert message_counts() == {"pending": 0, "sending": 0, "sent": 1, "failed": 0, "unknown": 0,
                                "cancelled": 1}


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_message_exactly_once(provider):
    """Two threads, each with its own database connection, drain one queue."""
    provider.set_mode("delay", delay=0.02)  # long enough that the senders interleave
    count = 24
    for n in range(count):
        queued(provider, key=f"page-{n}:rule-1")
    start = threading.Barrier(2)
    results: list[SendResult] = []

    def sender() -> None:
        try:
            start.wait()
            results.append(send_messages(batch=count))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    keys = Counter(r.header("Idempotency-Key") for r in provider.received("/hook"))
    assert keys == Counter({f"page-{n}:rule-1": 1 for n in range(count)})
    assert sum(r.sent for r in results) == count
    assert all(r.sent > 0 for r in results), results  # both senders took part
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert DeliveryAttempt.objects.count() == count


def test_the_worker_runs_the_watchdog_and_the_sender():
    """The scheduler runs the watchdog; paging messages go from the sender thread alone, so a
    killed worker leaves at most one send in flight."""
    assert recover_stuck_messages in scheduled_work() and send_messages not in scheduled_work()
    assert send_messages in pager_steps()


def admin_action(client, action, messages):
    return client.post("/admin/notify/outboundmessage/", {
        "action": action, "_selected_action": [m.pk for m in messages]})


@pytest.mark.django_db
def test_an_operator_can_send_an_unknown_message_again(world, login, provider):
    message = queued(provider, status=MessageStatus.UNKNOWN, claimed_at=timezone.now() - timedelta(minutes=5))
    sent = queued(provider, key="done", status=MessageStatus.SENT)

    response = admin_action(login(world.admin), "send_again", [message, sent])

    assert response.status_code == 302
    message.refresh_from_db()
    sent.refresh_from_db()
    assert (message.status, message.claimed_at, sent.status) == (MessageStatus.PENDING, None, MessageStatus.SENT)
    assert send_messages() == SendResult(sent=1)


@pytest.mark.django_db
def test_the_message_admin_shows_each_attempt(world, login, provider):
    provider.set_mode("status", status=502, times=1)
    message = queued(provider)
    send_messages()

    page = login(world.admin).get(f"/admin/notify/outboundmessage/{message.pk}/change/")

    assert page.status_code == 200
    assert "HTTP 502" in page.content.decode()
