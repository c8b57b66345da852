"""Outbound URLs may not reach cloud metadata or link-local addresses: refused when entered, and
again right before each send (what a name resolves to can change in between)."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from tests import factories as f
from tests.fake_provider import FakeProvider
from vuoro.core.outbound import check_outbound_url
from vuoro.notify.models import AttemptOutcome, ContactMethod, MessageStatus, OutboundMessage
from vuoro.notify.sender import SendResult, send_messages
from vuoro.webhooks import sender
from vuoro.webhooks.models import (
    HandOff,
    HandOffKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

METADATA = "http://169.254.169.254/latest/meta-data/"


@pytest.fixture
def provider(settings):
    settings.VUORO_NOTIFY_TIMEOUT = 1
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
def english(world):
    for person in (world.agent, world.admin):
        person.language = "en"
        person.save(update_fields=["language"])
    with translation.override("en"):
        yield world


def by_name(url):
    """The provider's URL with a host name instead of its loopback address."""
    return url.replace("127.0.0.1", "localhost")


@pytest.mark.parametrize("url", [
    METADATA,
    "https://169.254.170.2/v2/credentials",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://0.0.0.0:8080/",
    "http://100.100.100.200/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://2852039166/",  # 169.254.169.254 written as one number
    "ftp://example.test/file",
    "file:///etc/passwd",
    "http:///no-host",
])
def test_metadata_link_local_and_other_schemes_are_refused(url):
    with pytest.raises(ValidationError):
        check_outbound_url(url)


def test_loopback_is_allowed_by_default():
    check_outbound_url("http://127.0.0.1:8025/hook")
    check_outbound_url("http://localhost/hook")
    check_outbound_url("https://[::1]:8443/")


def test_operators_add_networks_through_the_environment(monkeypatch):
    check_outbound_url("http://10.1.2.3/hook")
    monkeypatch.setenv("VUORO_OUTBOUND_DENY", "10.0.0.0/8, 192.168.0.0/16")
    with pytest.raises(ValidationError):
        check_outbound_url("http://10.1.2.3/hook")
    with pytest.raises(ValidationError):
        check_outbound_url("http://192.168.1.1/")
    with pytest.raises(ValidationError):  # the defaults still apply
        check_outbound_url(METADATA)
    check_outbound_url("http://172.16.0.1/")


@pytest.mark.django_db
def test_a_metadata_contact_method_is_a_form_error_and_nothing_is_saved(english, login):
    response = login(english.agent).post("/notify/contacts/", {
        "action": "add_method", "method-kind": "webhook", "method-address": METADATA, "method-label": ""})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_method-address-error"' in page
    assert "169.254.169.254" in page and "may not send to" in page
    assert not ContactMethod.objects.exists()


@pytest.mark.django_db
def test_the_admin_refuses_metadata_webhook_subscriptions_and_hand_offs(english, login):
    client = login(english.admin)
    response = client.post("/admin/webhooks/webhooksubscription/add/", {
        "name": "ops", "url": METADATA, "secret": "s3cret", "events": '["ticket.created"]', "active": "on",
        "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"})

    assert response.status_code == 200
    assert "may not send to" in response.content.decode()
    assert not WebhookSubscription.objects.exists()
    handoff = HandOff(service=english.other, kind=HandOffKind.REST, url="http://[fe80::1]/tickets", secret="x")
    with pytest.raises(ValidationError) as refused:
        handoff.full_clean()
    assert list(refused.value.message_dict) == ["url"]


@pytest.mark.django_db
def test_a_webhook_whose_name_resolves_into_a_denied_network_fails_at_send(world, provider, settings):
    WebhookSubscription.objects.create(name="ops", url=by_name(provider.url("/hook")), secret="s3cret",
                                       events=["ticket.created"])
    settings.VUORO_OUTBOUND_DENY = ["127.0.0.0/8"]
    f.ticket(world.requester_a, world.other)

    assert sender.send_webhooks()["failed"] == 1
    assert provider.received() == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 1
    assert "localhost points to 127.0.0.1" in delivery.last_error
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.outcome == "permanent" and attempt.detail == delivery.last_error


@pytest.mark.django_db
def test_a_loopback_webhook_is_delivered_by_default(world, provider):
    WebhookSubscription.objects.create(name="ops", url=by_name(provider.url("/hook")), secret="s3cret",
                                       events=["ticket.created"])
    f.ticket(world.requester_a, world.other)

    assert sender.send_webhooks()["delivered"] == 1
    assert provider.count("/hook") == 1


@pytest.mark.django_db
def test_a_paging_message_into_a_denied_network_fails_for_good_with_the_reason(provider, settings):
    settings.VUORO_OUTBOUND_DENY = "127.0.0.0/8"
    now = timezone.now()
    message = OutboundMessage.objects.create(key="page-1:rule-1", kind="webhook",
                                             address=by_name(provider.url("/hook")), title="Mail is down",
                                             body="Look now", next_attempt_at=now, created_at=now)

    assert send_messages(now=now) == SendResult(failed=1)
    assert provider.received() == []
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "localhost points to 127.0.0.1" in message.last_error
    [attempt] = message.delivery_attempts.all()
    assert attempt.outcome == AttemptOutcome.PERMANENT and "127.0.0.1" in attempt.detail


@pytest.mark.django_db
def test_an_sms_gateway_in_a_denied_network_is_not_contacted(provider, settings):
    settings.VUORO_SMS_URL = by_name(provider.url("/{number}")).replace("http://", "smseagle://token@")
    settings.VUORO_OUTBOUND_DENY = "127.0.0.0/8"
    now = timezone.now()
    message = OutboundMessage.objects.create(key="page-1:rule-2", kind="sms", address="+358401234567",
                                             title="Mail is down", body="Look now", next_attempt_at=now,
                                             created_at=now)

    assert send_messages(now=now) == SendResult(failed=1)
    assert provider.received() == []
    message.refresh_from_db()
    assert "localhost points to 127.0.0.1" in message.last_error
