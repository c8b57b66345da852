"""Outbound webhooks and hand-off against a loopback receiver (tests/fake_provider.py)."""

import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests import factories as f
from tests.fake_provider import FakeProvider
from vuoro.notify.models import DeskNotification, OutboundEmail
from vuoro.webhooks import events, sender, services
from vuoro.webhooks.models import (
    ExternalReference,
    HandOff,
    WebhookDelivery,
    WebhookSubscription,
)
from vuoro.webhooks.signing import sign


@pytest.fixture
def provider():
    with FakeProvider() as fake:
        yield fake


def _subscribe(provider, events=("ticket.created",), secret="s3cret"):
    return WebhookSubscription.objects.create(name="ops", url=provider.url("/hook"), secret=secret,
                                              events=list(events))


def test_signed_payload_is_verifiable_and_has_no_description(world, provider):
    sub = _subscribe(provider)
    ticket = f.ticket(world.requester_a, world.other, description="secret internal detail")
    assert WebhookDelivery.objects.count() == 1  # written by ticket_create itself
    counts = sender.send_webhooks()
    assert counts["delivered"] == 1
    [hit] = provider.received("/hook")
    assert hit.header("X-Vuoro-Signature") == sign(sub.secret, hit.header("X-Vuoro-Timestamp"), hit.body)
    assert hit.header("X-Vuoro-Event") == "ticket.created"
    assert hit.header("X-Vuoro-Delivery") == WebhookDelivery.objects.get().key
    assert hit.json["ticket"]["reference"] == ticket.reference
    assert b"secret internal detail" not in hit.body


def test_not_subscribed_or_inactive_gets_nothing(world, provider):
    _subscribe(provider, events=["page.opened"])
    WebhookSubscription.objects.create(name="off", url=provider.url("/x"), secret="x",
                                       events=["ticket.created"], active=False)
    ticket = f.ticket(world.requester_a, world.other)
    assert events.webhook_event(event="ticket.created", ticket=ticket, now=timezone.now()) == 0
    assert not WebhookDelivery.objects.exists()


@time_machine.travel("2026-01-05 12:00:00+00:00", tick=False)
def test_retries_with_backoff_then_delivered_once(world, provider):
    _subscribe(provider)
    provider.set_mode("status", status=503, times=2)
    now = timezone.now()
    f.ticket(world.requester_a, world.other)
    assert sender.send_webhooks(now=now)["pending"] == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.next_attempt_at == now + timedelta(seconds=30)
    assert sender.send_webhooks(now=now + timedelta(seconds=29))["pending"] == 0  # not due yet
    assert sender.send_webhooks(now=now + timedelta(seconds=30))["pending"] == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == now + timedelta(seconds=30) + timedelta(seconds=60)
    assert sender.send_webhooks(now=now + timedelta(seconds=90))["delivered"] == 1
    assert not sender.send_webhooks(now=now + timedelta(days=1))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.log.count()) == ("delivered", 3, 3)
    assert provider.count("/hook") == 3


def test_4xx_fails_once_and_408_429_retry(world, provider):
    _subscribe(provider)
    provider.set_mode("status", status=410, times=1)
    f.ticket(world.requester_a, world.other)
    assert sender.send_webhooks()["failed"] == 1
    assert sender.send_webhooks(now=timezone.now() + timedelta(days=1))["failed"] == 0
    assert provider.count("/hook") == 1
    assert WebhookDelivery.objects.get().last_status == 410
    provider.set_mode("status", status=429, times=1)
    f.ticket(world.requester_a, world.other)
    assert sender.send_webhooks()["pending"] == 1


def test_refused_connection_is_retried(world):
    WebhookSubscription.objects.create(name="gone", url="http://127.0.0.1:9/hook", secret="x",
                                       events=["ticket.created"])
    f.ticket(world.requester_a, world.other)
    assert sender.send_webhooks()["pending"] == 1


def test_auto_disable_after_failures_in_a_row_tells_admins(world, provider):
    sub = _subscribe(provider)
    provider.set_mode("status", status=400)
    start = timezone.now()
    for _i in range(sender.DISABLE_AFTER):
        f.ticket(world.requester_a, world.other)
    sender.send_webhooks(now=start + timedelta(minutes=1))
    sub.refresh_from_db()
    assert not sub.active and sub.disabled_at is not None and sub.failures_in_row == 10
    assert DeskNotification.objects.filter(user=world.admin).count() == 1
    assert OutboundEmail.objects.filter(to=world.admin.email).count() == 1
    f.ticket(world.requester_a, world.other)
    assert WebhookDelivery.objects.count() == 10  # nothing more queued for a disabled subscription


def test_success_resets_failures_in_a_row(world, provider):
    sub = _subscribe(provider)
    provider.set_mode("status", status=400, times=3)
    for _i in range(4):
        f.ticket(world.requester_a, world.other)
    sender.send_webhooks(now=timezone.now() + timedelta(seconds=1))
    sub.refresh_from_db()
    assert sub.failures_in_row == 0 and sub.active


def test_read_timeout_is_unknown_and_send_again(world, provider, settings):
    settings.VUORO_NOTIFY_TIMEOUT = "0.5"
    _subscribe(provider)
    provider.set_mode("delay", delay=2.0, times=1)
    f.ticket(world.requester_a, world.other)
    assert sender.send_webhooks()["unknown"] == 1
    delivery = WebhookDelivery.objects.get()
    assert services.delivery_resend(delivery=delivery, now=timezone.now())
    assert sender.send_webhooks()["delivered"] == 1


def test_rest_handoff_stores_external_reference(world):
    with FakeProvider(replies={"/jira": json.dumps({"key": "OPS-42"}).encode()}) as fake:
        HandOff.objects.create(service=world.other, kind="rest", url=fake.url("/jira/issue"),
                               secret="hs", reference_key="key",
                               payload_template='{"summary": "{subject}", "ref": "{reference}"}')
        ticket = f.ticket(world.requester_a, world.other, subject='Quote " and {brace}')
        events.handoff_send(ticket=ticket, now=timezone.now())  # a repeat adds nothing
        assert sender.send_webhooks()["delivered"] == 1
        [hit] = fake.received("/jira")
    assert hit.json == {"summary": 'Quote " and {brace}', "ref": ticket.reference}
    assert hit.header("X-Vuoro-Signature") == sign("hs", hit.header("X-Vuoro-Timestamp"), hit.body)
    assert ExternalReference.objects.get(ticket=ticket).reference == "OPS-42"


def test_email_handoff_goes_to_the_email_outbox_once(world):
    HandOff.objects.create(service=world.other, kind="email", email="desk@customer.test", secret="x")
    ticket = f.ticket(world.requester_a, world.other)
    now = timezone.now()
    events.webhook_event(event="ticket.created", ticket=ticket, now=now)
    events.handoff_send(ticket=ticket, now=now)
    mail = OutboundEmail.objects.get(to="desk@customer.test")
    assert ticket.reference in mail.subject and ticket.reference in mail.body


def _signed_post(client, slug, data, secret="hs", stamp=None):
    body = json.dumps(data).encode()
    stamp = stamp or int(time.time())
    return client.post(f"/webhooks/handoff/{slug}/", data=body, content_type="application/json",
                       HTTP_X_VUORO_TIMESTAMP=str(stamp), HTTP_X_VUORO_SIGNATURE=sign(secret, stamp, body))


def test_inbound_update_good_and_bad_signature(world, client):
    handoff = HandOff.objects.create(service=world.other, kind="rest", url="http://127.0.0.1:9/",
                                     secret="hs")
    ticket = f.ticket(world.requester_a, world.other)
    ExternalReference.objects.create(ticket=ticket, system=f"handoff-{handoff.pk}", reference="OPS-1")
    slug = world.other.slug
    assert _signed_post(client, slug, {"reference": "OPS-1", "status": "resolved"}, secret="wrong").status_code == 401
    stale = int(time.time()) - 600
    assert _signed_post(client, slug, {"reference": "OPS-1"}, stamp=stale).status_code == 401
    assert _signed_post(client, slug, {"reference": "NOPE", "status": "resolved"}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == "new"
    response = _signed_post(client, slug, {"reference": "OPS-1", "status": "open", "comment": "Taken"})
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == "open"
    [(internal, body)] = ticket.messages.values_list("internal", "body")
    assert internal and "Taken" in body


def test_page_opened_and_acknowledged_are_delivered(world, provider):
    from vuoro.paging.services import page_acknowledge, page_open

    _subscribe(provider, events=["page.opened", "page.acknowledged"])
    ticket = f.ticket(world.requester_a, world.critical)
    page = page_open(ticket=ticket, user=world.agent, opened_by=world.agent)
    page_acknowledge(page=page, user=world.agent, via="desk")
    assert sender.send_webhooks()["delivered"] == 2
    bodies = [hit.json for hit in provider.received("/hook")]
    assert [(b["event"], b["page"]["status"]) for b in bodies] == [
        ("page.opened", "triggered"), ("page.acknowledged", "acknowledged")]
    assert {b["page"]["id"] for b in bodies} == {page.pk}


def test_admin_lists_subscriptions_and_sends_a_failed_delivery_again(world, client, provider):
    sub = _subscribe(provider)
    provider.set_mode("status", status=400, times=1)
    f.ticket(world.requester_a, world.other)
    sender.send_webhooks()
    delivery = WebhookDelivery.objects.get()
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client.force_login(world.admin)
    assert client.get(f"/admin/webhooks/webhooksubscription/{sub.pk}/change/").status_code == 200
    assert client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/").status_code == 200
    assert client.get("/admin/webhooks/handoff/add/").status_code == 200
    response = client.post("/admin/webhooks/webhookdelivery/", {
        "action": "send_again", "_selected_action": [delivery.pk]})
    assert response.status_code == 302
    assert sender.send_webhooks()["delivered"] == 1


def test_ticket_services_write_events_in_their_transaction(world, provider):
    from vuoro.tickets.services import ticket_change

    _subscribe(provider, events=["ticket.created", "ticket.updated", "ticket.resolved"])
    ticket = f.ticket(world.requester_a, world.other)
    ticket_change(actor=world.agent, ticket=ticket, status="open")
    ticket_change(actor=world.agent, ticket=ticket, status="resolved")
    assert sorted(WebhookDelivery.objects.values_list("event", flat=True)) == [
        "ticket.created", "ticket.resolved", "ticket.updated", "ticket.updated"]
    assert sender.send_webhooks()["delivered"] == 4


def test_new_ticket_of_a_handoff_service_is_handed_off(world):
    with FakeProvider() as fake:
        HandOff.objects.create(service=world.other, kind="rest", url=fake.url("/its"), secret="hs")
        ticket = f.ticket(world.requester_a, world.other)
        f.ticket(world.requester_a, world.critical)  # no hand-off for this service
        assert sender.send_webhooks()["delivered"] == 1
        assert fake.received("/its")[0].json["ticket"]["reference"] == ticket.reference
    # The fake answers {"result": ...} with no "id": no reference is invented.
    assert not ExternalReference.objects.exists()


def test_the_worker_sends_webhooks_and_runs_their_watchdog():
    from vuoro.ops.management.commands.worker import scheduled_work

    assert {sender.send_webhooks, sender.recover_stuck_deliveries} <= scheduled_work()


def test_a_delivery_stuck_in_sending_becomes_unknown(world, provider):
    _subscribe(provider)
    f.ticket(world.requester_a, world.other)
    claimed = sender.claim_delivery(timezone.now())
    assert sender.recover_stuck_deliveries(now=timezone.now() + timedelta(minutes=3)) == 1
    claimed.refresh_from_db()
    assert claimed.status == "unknown" and provider.count() == 0
    assert not sender.send_webhooks(now=timezone.now() + timedelta(days=1))


def test_a_switched_off_subscription_keeps_its_deliveries_until_it_is_back_on(world, client, provider):
    sub = _subscribe(provider)
    f.ticket(world.requester_a, world.other)
    WebhookSubscription.objects.filter(pk=sub.pk).update(active=False, failures_in_row=10,
                                                         disabled_at=timezone.now(), disabled_reason="10 failed")
    assert not sender.send_webhooks() and provider.count() == 0
    assert WebhookDelivery.objects.get().status == "pending"
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client.force_login(world.admin)
    response = client.post(f"/admin/webhooks/webhooksubscription/{sub.pk}/change/", {
        "name": sub.name, "url": sub.url, "secret": sub.secret, "events": json.dumps(sub.events),
        "active": "on", "deliveries-TOTAL_FORMS": "1", "deliveries-INITIAL_FORMS": "1",
        "deliveries-0-id": WebhookDelivery.objects.get().pk, "deliveries-0-subscription": sub.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    sub.refresh_from_db()
    assert (sub.active, sub.failures_in_row, sub.disabled_at, sub.disabled_reason) == (True, 0, None, "")
    assert sender.send_webhooks()["delivered"] == 1 and provider.count() == 1


@pytest.mark.parametrize(("template", "problem"), [
    ('{"summary": "{subject}"', "Not valid JSON"),
    ('{"summary": {subject}}', "Not valid JSON"),
    ('{"summary": "{title}"}', "Unknown placeholders: title"),
])
def test_a_payload_template_that_cannot_render_is_refused_in_the_admin(world, template, problem):
    from django.core.exceptions import ValidationError

    handoff = HandOff(service=world.other, kind="rest", url="https://its.customer.test/api",
                      secret="hs", payload_template=template)
    with pytest.raises(ValidationError) as refused:
        handoff.full_clean()
    assert problem in " ".join(refused.value.message_dict["payload_template"])


def test_a_hand_off_needs_its_address_and_valid_statuses(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        HandOff(service=world.other, kind="rest", secret="hs", status_map={"Done": "finished"}).full_clean()
    assert set(refused.value.message_dict) == {"url", "status_map"}
    with pytest.raises(ValidationError) as refused:
        HandOff(service=world.other, kind="email", secret="hs").full_clean()
    assert set(refused.value.message_dict) == {"email"}


def test_a_broken_template_does_not_stop_intake_and_is_sent_once_mended(world):
    with FakeProvider(replies={"/its": json.dumps({"id": "ITS-7"}).encode()}) as fake:
        handoff = HandOff.objects.create(service=world.other, kind="rest", url=fake.url("/its"),
                                         secret="hs", payload_template='{"summary": "{subject}"')
        ticket = f.ticket(world.requester_a, world.other)  # the intake goes through
        delivery = WebhookDelivery.objects.get(handoff=handoff)
        assert delivery.status == "failed" and "Payload template" in delivery.last_error
        assert not sender.send_webhooks() and fake.count() == 0
        HandOff.objects.filter(pk=handoff.pk).update(payload_template='{"summary": "{subject}"}')
        assert services.delivery_resend(delivery=delivery, now=timezone.now())
        assert sender.send_webhooks()["delivered"] == 1
        assert fake.received("/its")[0].json == {"summary": ticket.subject}
    assert ExternalReference.objects.get(ticket=ticket).reference == "ITS-7"


def test_external_statuses_are_mapped_to_ours(world, client):
    handoff = HandOff.objects.create(service=world.other, kind="rest", url="http://127.0.0.1:9/",
                                     secret="hs", status_map={"Done": "resolved", "In Progress": "open"})
    ticket = f.ticket(world.requester_a, world.other)
    ExternalReference.objects.create(ticket=ticket, system=f"handoff-{handoff.pk}", reference="OPS-9")
    assert _signed_post(client, world.other.slug, {"reference": "OPS-9", "status": "In Progress"}).json() == {
        "reference": ticket.reference, "status": "open"}
    assert _signed_post(client, world.other.slug, {"reference": "OPS-9", "status": "Done"}).json()["status"] == "resolved"
    assert ExternalReference.objects.get(ticket=ticket).external_status == "Done"


def test_an_update_with_nobody_to_act_for_it_is_refused_with_a_reason(world, client):
    from vuoro.accounts.models import User

    handoff = HandOff.objects.create(service=world.other, kind="rest", url="http://127.0.0.1:9/", secret="hs")
    ticket = f.ticket(world.requester_a, world.other)
    ExternalReference.objects.create(ticket=ticket, system=f"handoff-{handoff.pk}", reference="OPS-3")
    User.objects.filter(role="admin").update(is_active=False)
    User.objects.filter(is_superuser=True).update(is_active=False)
    response = _signed_post(client, world.other.slug, {"reference": "OPS-3", "status": "open"})
    assert response.status_code == 503 and "administrator" in response.json()["error"]
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_a_subscription_limited_to_a_service_hears_only_of_its_tickets(world, provider):
    everything = _subscribe(provider)
    workstations_only = WebhookSubscription.objects.create(
        name="workstations", url=provider.url("/workstations"), secret="w", events=["ticket.created"])
    workstations_only.services.set([world.other])
    mine = f.ticket(world.requester_a, world.other)
    theirs = f.ticket(world.requester_b, world.critical)
    assert sorted(WebhookDelivery.objects.filter(subscription=everything).values_list("ticket", flat=True)) == [
        mine.pk, theirs.pk]
    assert list(WebhookDelivery.objects.filter(subscription=workstations_only)
                .values_list("ticket", flat=True)) == [mine.pk]
    assert sender.send_webhooks()["delivered"] == 3
    assert [hit.json["ticket"]["reference"] for hit in provider.received("/workstations")] == [mine.reference]


def test_page_events_are_limited_by_the_page_s_ticket(world, provider):
    from vuoro.paging.services import page_open

    limited = _subscribe(provider, events=["page.opened"])
    limited.services.set([world.other])
    ticket = f.ticket(world.requester_a, world.critical)
    page_open(ticket=ticket, user=world.agent, opened_by=world.agent)
    assert not WebhookDelivery.objects.exists()


def test_finding_the_subscriptions_is_one_query_however_many_are_limited(world, provider,
                                                                         django_assert_num_queries):
    scopes = [[], [world.other], [world.other, world.critical], [world.critical]]
    for n in range(6):
        _subscribe(provider, events=["ticket.updated"]).services.set(scopes[n % 4])
    ticket = f.ticket(world.requester_a, world.other)
    with django_assert_num_queries(2):  # the subscriptions, then one insert of the deliveries
        assert events.webhook_event(event="ticket.updated", ticket=ticket, now=timezone.now()) == 5


def test_the_admin_limits_a_subscription_to_services(world, client, provider):
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client.force_login(world.admin)
    page = client.get("/admin/webhooks/webhooksubscription/add/").content.decode()
    assert 'name="services"' in page and "selectfilter" in page.lower()
    response = client.post("/admin/webhooks/webhooksubscription/add/", {
        "name": "workstations", "url": provider.url("/hook"), "secret": "w",
        "events": json.dumps(["ticket.created"]), "services": [world.other.pk], "active": "on",
        "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    sub = WebhookSubscription.objects.get(name="workstations")
    assert list(sub.services.all()) == [world.other]
