"""The outbox sender: send once, fail for good on a refusal, retry with backoff, never resend an unknown."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests import factories as f
from tests.smtp_recorder import SmtpServer, free_port
from vuoro.accounts.models import Role
from vuoro.notify.models import DeskNotification, OutboundEmail, OutboxStatus
from vuoro.notify.selectors import desk_notifications_for, outbox_counts
from vuoro.notify.sender import (
    SendResult,
    claim_next,
    recover_stuck_sends,
    retry_delay,
    send_one,
    send_outbox,
)


def queued(to="someone@example.test", subject="[VUO-2026-000001] Hello", **extra):
    now = timezone.now()
    fields = {"key": f"test-{to}-{subject}", "to": to, "subject": subject, "body": "Body",
              "next_attempt_at": now, "created_at": now, **extra}
    return OutboundEmail.objects.create(**fields)


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback; the sender is pointed at it."""
    server = SmtpServer(refusals={
        "gone@example.test": "550 5.1.1 No such user",
        "busy@example.test": "451 4.3.0 Try again later",
    }).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    yield server.recorder
    server.stop()


@pytest.mark.django_db
def test_a_due_email_is_sent_once_and_marked_sent():
    email = queued()

    assert send_outbox() == SendResult(sent=1)
    assert send_outbox() == SendResult()

    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboxStatus.SENT, 1)
    assert email.sent_at is not None
    assert [(m.to, m.subject) for m in mail.outbox] == [(["someone@example.test"], "[VUO-2026-000001] Hello")]
    assert mail.outbox[0].extra_headers["Message-ID"].startswith(f"<vuoro-outbox-{email.pk}@")


@pytest.mark.django_db
def test_an_email_not_yet_due_waits():
    queued(next_attempt_at=timezone.now() + timedelta(minutes=1))

    assert send_outbox() == SendResult()
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_real_smtp_server_receives_the_email(smtp):
    queued()

    assert send_outbox() == SendResult(sent=1)
    assert smtp.counts() == {("someone@example.test", "[VUO-2026-000001] Hello"): 1}


@pytest.mark.django_db
def test_a_refused_recipient_fails_for_good(smtp):
    email = queued(to="gone@example.test")

    assert send_outbox() == SendResult(failed=1)

    email.refresh_from_db()
    assert email.status == OutboxStatus.FAILED
    assert "550" in email.last_error
    assert smtp.counts() == {}


@pytest.mark.django_db
def test_a_temporary_refusal_is_retried_after_30_then_60_seconds(smtp):
    email = queued(to="busy@example.test")
    now = timezone.now()

    assert send_outbox(now=now) == SendResult(retried=1)
    email.refresh_from_db()
    assert (email.status, email.attempts, email.next_attempt_at) == (
        OutboxStatus.PENDING, 1, now + timedelta(seconds=30))
    assert "451" in email.last_error

    assert send_outbox(now=now + timedelta(seconds=29)) == SendResult()
    assert send_outbox(now=now + timedelta(seconds=30)) == SendResult(retried=1)
    email.refresh_from_db()
    assert (email.attempts, email.next_attempt_at) == (2, now + timedelta(seconds=90))


@pytest.mark.django_db
def test_an_unreachable_server_leaves_the_email_pending(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    email = queued()

    assert send_outbox() == SendResult(retried=1)

    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboxStatus.PENDING, 1)
    assert email.next_attempt_at > timezone.now()
    assert "ConnectionRefused" in email.last_error


@pytest.mark.django_db
def test_the_tenth_failed_attempt_gives_up(smtp):
    email = queued(to="busy@example.test", attempts=9)

    assert send_outbox() == SendResult(failed=1)

    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboxStatus.FAILED, 10)


def test_backoff_doubles_from_30_seconds_up_to_an_hour():
    assert [retry_delay(n).total_seconds() for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


@pytest.mark.django_db
def test_a_send_stuck_for_over_two_minutes_becomes_unknown_and_is_not_resent():
    now = timezone.now()
    stuck = queued(subject="stuck", status=OutboxStatus.SENDING, claimed_at=now - timedelta(minutes=3))
    busy = queued(subject="in flight", status=OutboxStatus.SENDING, claimed_at=now - timedelta(minutes=1))

    assert recover_stuck_sends(now=now) == 1
    assert send_outbox(now=now + timedelta(days=1)) == SendResult()

    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert (stuck.status, busy.status) == (OutboxStatus.UNKNOWN, OutboxStatus.SENDING)
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_send_that_finishes_after_the_watchdog_is_recorded_as_sent():
    queued()
    now = timezone.now()
    email = claim_next(now)
    recover_stuck_sends(now=now + timedelta(minutes=3))

    assert send_one(email, now) == OutboxStatus.SENT

    email.refresh_from_db()
    assert email.status == OutboxStatus.SENT
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_claimed_email_is_not_claimed_again():
    queued()
    now = timezone.now()

    assert claim_next(now) is not None
    assert claim_next(now) is None
    assert OutboundEmail.objects.get().status == OutboxStatus.SENDING


def admin_action(client, action, emails):
    return client.post("/admin/notify/outboundemail/", {
        "action": action, "_selected_action": [e.pk for e in emails]})


@pytest.mark.django_db
def test_an_operator_can_send_an_unknown_email_again(world, login):
    email = queued(status=OutboxStatus.UNKNOWN, claimed_at=timezone.now() - timedelta(minutes=5))

    response = admin_action(login(world.admin), "send_again", [email])

    assert response.status_code == 302
    email.refresh_from_db()
    assert (email.status, email.claimed_at) == (OutboxStatus.PENDING, None)
    assert send_outbox() == SendResult(sent=1)


@pytest.mark.django_db
def test_send_again_leaves_a_sent_email_alone(world, login):
    email = queued(status=OutboxStatus.SENT, sent_at=timezone.now())

    admin_action(login(world.admin), "send_again", [email])

    email.refresh_from_db()
    assert email.status == OutboxStatus.SENT


@pytest.mark.django_db
def test_an_operator_can_mark_a_waiting_email_failed(world, login):
    email = queued()

    admin_action(login(world.admin), "mark_failed", [email])

    email.refresh_from_db()
    assert email.status == OutboxStatus.FAILED
    assert "admin" in email.last_error
    assert send_outbox() == SendResult()


@pytest.mark.django_db
def test_the_outbox_admin_lists_by_status(world, login):
    queued(subject="waiting one")
    queued(subject="failed one", status=OutboxStatus.FAILED)

    page = login(world.admin).get("/admin/notify/outboundemail/?status__exact=failed")

    assert page.status_code == 200
    assert "failed one" in page.content.decode() and "waiting one" not in page.content.decode()


@pytest.mark.django_db
def test_outbox_counts_every_status():
    queued(subject="a")
    queued(subject="b", status=OutboxStatus.UNKNOWN)

    assert outbox_counts() == {"pending": 1, "sending": 0, "sent": 0, "failed": 0, "unknown": 1}


@pytest.mark.django_db
def test_a_person_sees_only_their_own_desk_notifications(world):
    other = f.user(Role.AGENT)
    now = timezone.now()
    DeskNotification.objects.create(user=world.agent, text="mine", key="k1", created_at=now)
    DeskNotification.objects.create(user=other, text="theirs", key="k2", created_at=now)

    assert [n.text for n in desk_notifications_for(user=world.agent)] == ["mine"]
