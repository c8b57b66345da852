"""A page notification of unknown outcome is never silent: it moves on at once, is counted,
and shows on /healthz and the desk ticket page.

Sends go to the loopback fake provider in this process; a provider answering after the
transport's timeout (1 s here) makes the outcome unknown, as a real one would. The watchdog
cases use rows claimed by holders described in ``claimed_by``: this process (alive), a
process id that exists on no host's process table here (gone), and another host.
"""

import socket
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories as f
from tests.test_notify_sender import provider as loopback_provider
from vuoro.accounts.models import Role
from vuoro.notify.models import ContactKind, MessageStatus, OutboundMessage
from vuoro.notify.sender import (
    LEASE,
    SendResult,
    claim_message,
    claimant,
    holder_alive,
    recover_stuck_messages,
    send_messages,
)
from vuoro.notify.services import contact_method_add, notification_rule_add
from vuoro.ops.management.commands.worker import beat
from vuoro.paging.models import (
    AckVia,
    EscalationPolicy,
    EscalationStep,
    FollowUp,
    PageEvent,
    PageEventKind,
    TargetKind,
    UnknownOutcome,
)
from vuoro.paging.selectors import unknown_outcomes_unresolved
from vuoro.paging.services import escalate_due, page_acknowledge, page_open

GONE_PID = 2**22 + 7  # above Linux's largest process id: never a live process
provider = loopback_provider  # the paging sender tests' fixture: 1 s transport timeout


def paged(world, provider, *, second_method: bool = True):
    """A page on a critical ticket whose step 0 pages one person; step 1 pages another."""
    first, second = f.user(Role.AGENT, language="en"), f.user(Role.AGENT, language="en")
    for person in (first, second):
        for delay, name in ((0, "a"), (5, "b"))[: 2 if second_method else 1]:
            method = contact_method_add(user=person, kind=ContactKind.WEBHOOK, label=name,
                                        address=provider.url(f"/hook/{name}/u{person.pk}"))
            notification_rule_add(user=person, contact_method_id=method.pk, delay_minutes=delay)
    policy = EscalationPolicy.objects.create(name="On call")
    for order, person in enumerate((first, second)):
        EscalationStep.objects.create(policy=policy, order=order, wait_minutes=30,
                                      target_kind=TargetKind.USER, target_user=person)
    ticket = f.ticket(world.requester_a, world.critical, world.cat_critical, subject="Mail is down")
    page = page_open(ticket=ticket, policy=policy, reason="Mail is down")
    assert escalate_due() == 1
    return page, first, second


def rows(person):
    return list(OutboundMessage.objects.filter(user=person).order_by("id"))


@pytest.mark.django_db
def test_a_timeout_after_sending_moves_on_to_the_next_contact_method_at_once(world, provider, client):
    page, first, _second = paged(world, provider)
    provider.set_mode("delay", delay=3, path="/hook/a/")
    beat("worker-1", timezone.now())

    assert send_messages() == SendResult(unknown=1)
    late, following = rows(first)
    outcome = UnknownOutcome.objects.get()
    assert (late.status, following.status) == (MessageStatus.UNKNOWN, MessageStatus.PENDING)
    assert following.next_attempt_at <= timezone.now()  # due at once, not in five minutes
    assert (outcome.page, outcome.message, outcome.follow_up, outcome.moved_to) == (
        page, late, FollowUp.NEXT_METHOD, following)
    assert "ReadTimeout" in outcome.reason
    event = PageEvent.objects.get(kind=PageEventKind.UNKNOWN_OUTCOME)
    assert "/hook/b/" in event.detail and event.user == first
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["pages_unknown_unresolved"] == 1 and health.json()["status"] == "attention"

    assert send_messages() == SendResult(sent=1)  # the next method goes out
    assert [r.path for r in provider.received()] == [f"/hook/a/u{first.pk}", f"/hook/b/u{first.pk}"]
    assert unknown_outcomes_unresolved() == 0
    assert client.get("/healthz").json()["status"] == "ok"


@pytest.mark.django_db
def test_a_person_with_no_other_method_brings_the_next_step_forward(world, provider):
    page, first, second = paged(world, provider, second_method=False)
    provider.set_mode("delay", delay=3, path="/hook/a/")

    assert send_messages() == SendResult(unknown=1)
    assert UnknownOutcome.objects.get().follow_up == FollowUp.STEP_FORWARD
    page.refresh_from_db()
    assert page.next_escalation_at <= timezone.now()  # was 30 minutes away
    assert escalate_due() == 1
    provider.set_mode("ok")
    assert send_messages() == SendResult(sent=1)
    assert [m.status for m in rows(second)] == [MessageStatus.SENT]
    assert unknown_outcomes_unresolved() == 1  # still nobody confirmed for this page's unknown

    page_acknowledge(page=page, user=second, via=AckVia.LINK)
    assert unknown_outcomes_unresolved() == 0


@pytest.mark.django_db
def test_the_desk_ticket_page_shows_the_unknown_outcome_and_where_it_moved_on(world, provider, login_en):
    page, first, _second = paged(world, provider)
    provider.set_mode("delay", delay=3, path="/hook/a/")
    send_messages()

    response = login_en(world.agent).get(reverse("desk:ticket", args=[page.ticket.reference]))
    text = response.content.decode()
    assert response.status_code == 200
    assert f"Outcome unknown: Webhook to {first.display_name()}" in text
    assert "moved on to the next contact method" in text and "Next: Webhook, Waiting to be sent" in text


def held(provider, person, claimed_by: str, *, lease_left: timedelta) -> OutboundMessage:
    message = claim_message(timezone.now())
    assert message is not None and message.user == person
    OutboundMessage.objects.filter(pk=message.pk).update(
        claimed_by=claimed_by, lease_until=timezone.now() + lease_left)
    return message


@pytest.mark.django_db
def test_the_watchdog_takes_a_dead_holders_send_at_once_and_never_a_live_one(world, provider):
    page, first, second = paged(world, provider)
    host = socket.gethostname()
    assert holder_alive(claimant()) is True
    assert holder_alive(f"{host}:{GONE_PID}:123") is False
    assert holder_alive(f"elsewhere.example:{GONE_PID}:123") is None

    dead = held(provider, first, f"{host}:{GONE_PID}:123", lease_left=LEASE)  # lease still good
    assert recover_stuck_messages() == 1
    dead.refresh_from_db()
    assert dead.status == MessageStatus.UNKNOWN
    assert UnknownOutcome.objects.get(message=dead).follow_up == FollowUp.NEXT_METHOD

    live = held(provider, first, claimant(), lease_left=-timedelta(minutes=5))  # renewals stuck
    assert live.key.endswith(f":rule-{first.notification_rules.order_by('id').last().pk}")
    later = timezone.now() + timedelta(hours=1)
    assert recover_stuck_messages(now=later) == 0  # alive on this host: never marked unknown
    OutboundMessage.objects.filter(pk=live.pk).update(status=MessageStatus.SENT)

    # The page's next step pages the second person; that send is held on another host.
    page.__class__.objects.filter(pk=page.pk).update(next_escalation_at=timezone.now())
    assert escalate_due() == 1
    away = held(provider, second, f"elsewhere.example:{GONE_PID}:1", lease_left=LEASE)
    assert recover_stuck_messages() == 0  # lease not lapsed yet
    assert recover_stuck_messages(now=timezone.now() + LEASE + timedelta(seconds=1)) == 1
    away.refresh_from_db()
    assert away.status == MessageStatus.UNKNOWN
    assert provider.count() == 0  # the watchdog never sends
