"""Contact methods and rules as people set them, and the messages a notification writes."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import assume, given
from hypothesis import strategies as st

from tests import factories as f
from vuoro.accounts.models import Role
from vuoro.notify.models import ContactMethod, MessageStatus, NotificationRule, OutboundMessage
from vuoro.notify.services import (
    contact_method_add,
    contact_method_remove,
    contact_notify,
    messages_cancel,
    notification_rule_add,
    notification_rule_remove,
)
from vuoro.notify.transports import SmsTransport

SLACK = "https://hooks.slack.com/services/T0001/B0002/abc123"
TEAMS = ("https://prod-1.westeurope.logic.azure.com:443/workflows/643e69f8/triggers/manual/paths/invoke"
         "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=KODuebWb")


def agent(email="oncall@example.test", **extra):
    user = f.user(Role.AGENT, **extra)
    user.email = email
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def person(db):
    return agent(username="oncall")


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "address", "stored"), [
    ("email", " oncall@example.test ", "oncall@example.test"),
    ("sms", "+358 40 123 4567", "+358401234567"),
    ("sms", "00358401234567", "+358401234567"),
    ("slack", SLACK, SLACK),
    ("teams", TEAMS, TEAMS),
    ("webhook", "https://alerts.example.com/in?team=ops", "https://alerts.example.com/in?team=ops"),
    ("webhook", "http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook"),
])
def test_a_good_address_is_stored_normalised(person, kind, address, stored):
    method = contact_method_add(user=person, kind=kind, address=address, label="Mine")

    assert ContactMethod.objects.get(pk=method.pk).address == stored


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "address"), [
    ("email", "not-an-address"),
    ("email", ""),
    ("sms", "040 123 4567"),
    ("sms", "+0401234567"),
    ("sms", "+3584012345678901234"),
    ("sms", "call me"),
    ("slack", "http://hooks.slack.com/services/T0001/B0002/abc123"),
    ("slack", "https://example.com/services/T0001/B0002/abc123"),
    ("slack", "https://hooks.slack.com/services/T0001"),
    ("teams", "http://prod-1.westeurope.logic.azure.com/workflows/6/triggers/manual/paths/invoke?sig=x"),
    ("teams", "https://prod-1.westeurope.logic.azure.com/workflows/6/triggers/manual/paths/invoke?sv=1.0"),
    ("teams", "https://outlook.office.com/webhook/abc"),
    ("webhook", "ftp://files.example.com/in"),
    ("webhook", "javascript:alert(1)"),
    ("webhook", "https://"),
])
def test_a_bad_address_is_refused_on_the_address_and_nothing_is_saved(person, kind, address):
    with pytest.raises(ValidationError) as refused:
        contact_method_add(user=person, kind=kind, address=address)

    assert list(refused.value.message_dict) == ["address"]
    assert refused.value.message_dict["address"][0]
    assert not ContactMethod.objects.exists()


@pytest.mark.django_db
def test_an_unknown_kind_is_refused(person):
    with pytest.raises(ValidationError) as refused:
        contact_method_add(user=person, kind="pigeon", address="roof")
    assert "kind" in refused.value.message_dict
    assert not ContactMethod.objects.exists()


@pytest.mark.django_db
def test_the_same_address_twice_is_refused(person):
    contact_method_add(user=person, kind="sms", address="+358401234567")
    with pytest.raises(ValidationError):
        contact_method_add(user=person, kind="sms", address="+358 40 1234567")
    assert ContactMethod.objects.count() == 1


@pytest.mark.django_db
def test_a_rule_needs_a_delay_of_zero_or_more_and_ones_own_method(person):
    mine = contact_method_add(user=person, kind="sms", address="+358401234567")
    theirs = contact_method_add(user=f.user(Role.AGENT), kind="sms", address="+358401234568")

    with pytest.raises(ValidationError) as negative:
        notification_rule_add(user=person, contact_method_id=mine.pk, delay_minutes=-5)
    with pytest.raises(ValidationError) as foreign:
        notification_rule_add(user=person, contact_method_id=theirs.pk, delay_minutes=0)

    assert "delay_minutes" in negative.value.message_dict
    assert "contact_method" in foreign.value.message_dict
    assert not NotificationRule.objects.exists()


def rows(person):
    return list(OutboundMessage.objects.filter(user=person).order_by("next_attempt_at", "id")
                .values_list("key", "kind", "address", "next_attempt_at", "status"))


@pytest.mark.django_db
def test_rules_write_one_message_each_due_after_its_delay(person):
    now = timezone.now()
    sms = contact_method_add(user=person, kind="sms", address="+358401234567")
    email = contact_method_add(user=person, kind="email", address="me@example.test")
    at_once = notification_rule_add(user=person, contact_method_id=sms.pk, delay_minutes=0)
    later = notification_rule_add(user=person, contact_method_id=email.pk, delay_minutes=5)

    with transaction.atomic():
        written = contact_notify(user=person, key="page-7", title="Mail is down", body="Look", now=now)

    assert written == 2
    assert rows(person) == [
        (f"page-7:rule-{at_once.pk}", "sms", "+358401234567", now, MessageStatus.PENDING),
        (f"page-7:rule-{later.pk}", "email", "me@example.test", now + timedelta(minutes=5), MessageStatus.PENDING),
    ]


@pytest.mark.django_db
def test_notifying_twice_with_the_same_key_writes_nothing_more(person):
    now = timezone.now()
    contact_method_add(user=person, kind="sms", address="+358401234567")

    assert contact_notify(user=person, key="page-7", title="T", body="B", now=now) == 1
    assert contact_notify(user=person, key="page-7", title="T", body="B", now=now + timedelta(minutes=1)) == 0
    assert OutboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_without_rules_every_contact_method_is_used_at_once(person):
    now = timezone.now()
    sms = contact_method_add(user=person, kind="sms", address="+358401234567")
    hook = contact_method_add(user=person, kind="webhook", address="https://alerts.example.com/in")

    assert contact_notify(user=person, key="page-8", title="T", body="B", now=now) == 2

    assert {r[0] for r in rows(person)} == {f"page-8:method-{sms.pk}", f"page-8:method-{hook.pk}"}
    assert {r[3] for r in rows(person)} == {now}


@pytest.mark.django_db
def test_without_contact_methods_the_account_email_is_used(person):
    now = timezone.now()

    assert contact_notify(user=person, key="page-9", title="T", body="B", now=now) == 1

    assert rows(person) == [("page-9:email", "email", "oncall@example.test", now, MessageStatus.PENDING)]


@pytest.mark.django_db
def test_nobody_to_reach_writes_nothing():
    silent = agent(email="")
    retired = agent(email="gone@example.test", is_active=False)
    now = timezone.now()

    assert contact_notify(user=silent, key="page-1", title="T", body="B", now=now) == 0
    assert contact_notify(user=retired, key="page-1", title="T", body="B", now=now) == 0
    assert not OutboundMessage.objects.exists()


@pytest.mark.django_db
def test_the_message_keeps_its_address_when_the_method_changes_later(person):
    method = contact_method_add(user=person, kind="sms", address="+358401234567")
    contact_notify(user=person, key="page-1", title="T", body="B", now=timezone.now())

    ContactMethod.objects.filter(pk=method.pk).update(address="+358409999999")

    assert OutboundMessage.objects.get().address == "+358401234567"


@pytest.mark.django_db
def test_acknowledging_cancels_only_the_waiting_messages_of_that_page(person):
    now = timezone.now()
    sms = contact_method_add(user=person, kind="sms", address="+358401234567")
    email = contact_method_add(user=person, kind="email", address="me@example.test")
    notification_rule_add(user=person, contact_method_id=sms.pk, delay_minutes=0)
    notification_rule_add(user=person, contact_method_id=email.pk, delay_minutes=5)
    contact_notify(user=person, key="page-1", title="T", body="B", now=now)
    contact_notify(user=person, key="page-10", title="T", body="B", now=now)
    OutboundMessage.objects.filter(key__startswith="page-1:", kind="sms").update(status=MessageStatus.SENT)

    assert messages_cancel(key_prefix="page-1:", reason="Acknowledged") == 1
    assert messages_cancel(key_prefix="page-1:", reason="Acknowledged") == 0

    statuses = dict(OutboundMessage.objects.values_list("key", "status"))
    page_1 = {k: v for k, v in statuses.items() if k.startswith("page-1:")}
    page_10 = {k: v for k, v in statuses.items() if k.startswith("page-10:")}
    assert sorted(page_1.values()) == [MessageStatus.CANCELLED, MessageStatus.SENT]
    assert set(page_10.values()) == {MessageStatus.PENDING}
    assert OutboundMessage.objects.get(status=MessageStatus.CANCELLED).last_error == "Acknowledged"


def test_cancelling_everything_by_an_empty_prefix_is_refused():
    with pytest.raises(ValueError):
        messages_cancel(key_prefix="", reason="oops")


@pytest.mark.django_db
def test_removing_a_method_cancels_its_waiting_messages_and_its_rules(person):
    method = contact_method_add(user=person, kind="sms", address="+358401234567")
    notification_rule_add(user=person, contact_method_id=method.pk, delay_minutes=3)
    contact_notify(user=person, key="page-1", title="T", body="B", now=timezone.now())

    assert contact_method_remove(user=person, contact_method_id=method.pk) is True

    message = OutboundMessage.objects.get()
    assert (message.status, message.contact_method, message.address) == (
        MessageStatus.CANCELLED, None, "+358401234567")
    assert not NotificationRule.objects.exists()


@pytest.mark.django_db
def test_nobody_removes_another_persons_method_or_rule(person):
    method = contact_method_add(user=person, kind="sms", address="+358401234567")
    rule = notification_rule_add(user=person, contact_method_id=method.pk, delay_minutes=0)
    stranger = f.user(Role.AGENT)

    assert contact_method_remove(user=stranger, contact_method_id=method.pk) is False
    assert notification_rule_remove(user=stranger, rule_id=rule.pk) is False
    assert ContactMethod.objects.count() == NotificationRule.objects.count() == 1


@given(country=st.integers(min_value=1, max_value=999), rest=st.text("0123456789", min_size=6, max_size=11),
       separators=st.lists(st.sampled_from([" ", "-", ".", "(", ")"]), max_size=4))
def test_a_phone_number_in_international_form_survives_any_spacing(country, rest, separators):
    number = f"+{country}{rest}"
    assume(len(number) <= 16)
    spaced = number[:3] + "".join(separators) + number[3:]
    assert SmsTransport().check(spaced) == number
    assert SmsTransport().check("00" + spaced[1:]) == number
