"""The contact-methods page: each desk user keeps their own; nobody sees or edits another's."""

import pytest
from django.utils import translation

from vuoro.notify.models import ContactMethod, NotificationRule
from vuoro.notify.services import contact_method_add, notification_rule_add

URL = "/notify/contacts/"


def add_method(client, kind, address, label=""):
    return client.post(URL, {"action": "add_method", "method-kind": kind, "method-address": address,
                             "method-label": label})


@pytest.fixture
def english(world):
    for person in (world.agent, world.agent2, world.partner, world.owner, world.admin):
        person.language = "en"
        person.save(update_fields=["language"])
    with translation.override("en"):
        yield world


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["agent", "partner", "owner", "admin"])
def test_every_desk_role_keeps_contact_methods_and_rules(english, login, role):
    person = getattr(english, role)
    client = login(person)

    assert client.get(URL).status_code == 200
    assert add_method(client, "sms", "+358 40 123 4567", "Work phone").status_code == 302
    method = ContactMethod.objects.get(user=person)
    response = client.post(URL, {"action": "add_rule", "rule-contact_method": method.pk,
                                 "rule-delay_minutes": "5"})

    assert response.status_code == 302
    assert method.address == "+358401234567"
    assert NotificationRule.objects.get(user=person).delay_minutes == 5
    page = client.get(URL).content.decode()
    assert "+358401234567" in page and "5 minutes" in page


@pytest.mark.django_db
def test_a_bad_address_is_shown_next_to_the_address_field_and_nothing_is_saved(english, login):
    response = add_method(login(english.agent), "sms", "040 123 4567")

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_method-address-error"' in page
    assert 'aria-describedby="id_method-address-error id_method-address-help"' in page
    assert 'aria-invalid="true"' in page
    assert "international form" in page
    assert not ContactMethod.objects.exists()


@pytest.mark.django_db
def test_a_negative_delay_is_shown_next_to_its_field(english, login):
    method = contact_method_add(user=english.agent, kind="email", address="a@example.test")

    response = login(english.agent).post(URL, {"action": "add_rule", "rule-contact_method": method.pk,
                                               "rule-delay_minutes": "-1"})

    assert response.status_code == 400
    assert 'id="id_rule-delay_minutes-error"' in response.content.decode()
    assert not NotificationRule.objects.exists()


@pytest.mark.django_db
def test_nobody_sees_or_changes_another_persons_contact_methods(english, login):
    theirs = contact_method_add(user=english.agent, kind="sms", address="+358401111111")
    rule = notification_rule_add(user=english.agent, contact_method_id=theirs.pk, delay_minutes=0)
    client = login(english.agent2)

    page = client.get(URL).content.decode()
    removed = client.post(URL, {"action": "remove_method", "id": theirs.pk})
    unruled = client.post(URL, {"action": "remove_rule", "id": rule.pk})
    borrowed = client.post(URL, {"action": "add_rule", "rule-contact_method": theirs.pk,
                                 "rule-delay_minutes": "0"})

    assert "+358401111111" not in page
    assert (removed.status_code, unruled.status_code, borrowed.status_code) == (404, 404, 400)
    assert ContactMethod.objects.filter(pk=theirs.pk).exists()
    assert list(NotificationRule.objects.values_list("user", flat=True)) == [english.agent.pk]


@pytest.mark.django_db
def test_one_removes_ones_own_method_and_its_rules(english, login):
    mine = contact_method_add(user=english.agent, kind="sms", address="+358401111111")
    notification_rule_add(user=english.agent, contact_method_id=mine.pk, delay_minutes=0)

    response = login(english.agent).post(URL, {"action": "remove_method", "id": mine.pk})

    assert response.status_code == 302
    assert not ContactMethod.objects.exists() and not NotificationRule.objects.exists()


@pytest.mark.django_db
def test_requesters_and_strangers_get_no_contacts_page(world, client, login):
    assert client.get(URL).status_code == 302
    assert login(world.requester_a).get(URL).status_code == 403
    assert add_method(login(world.requester_b), "email", "b@example.test").status_code == 403
    assert not ContactMethod.objects.exists()


@pytest.mark.django_db
def test_the_desk_navigation_links_to_the_page(english, login):
    page = login(english.agent).get("/desk/").content.decode()
    assert f'href="{URL}"' in page


@pytest.mark.django_db
def test_the_admin_checks_an_address_like_the_page_does(english, login):
    client = login(english.admin)
    form = {"user": english.agent.pk, "kind": "sms", "label": "", "rules-TOTAL_FORMS": "0",
            "rules-INITIAL_FORMS": "0"}

    refused = client.post("/admin/notify/contactmethod/add/", {**form, "address": "040 123"})
    added = client.post("/admin/notify/contactmethod/add/", {**form, "address": "+358 40 123 4567"})

    assert refused.status_code == 200 and "international form" in refused.content.decode()
    assert added.status_code == 302
    assert ContactMethod.objects.get().address == "+358401234567"
