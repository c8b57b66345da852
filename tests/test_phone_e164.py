"""``User.phone_e164`` follows ``phone`` on every save, and the migration fills it for old rows."""

import importlib

from django.apps import apps
from django.db import connection

from tests import factories as f
from vuoro.accounts.models import Role, User
from vuoro.telephony.selectors import caller_find

fill = importlib.import_module("vuoro.accounts.migrations.0002_user_phone_e164").fill_phone_e164


def test_save_keeps_the_normalised_phone(db):
    user = f.user(Role.REQUESTER, username="caller", phone="040-123 4567")
    assert User.objects.get(pk=user.pk).phone_e164 == "+358401234567"
    user.phone = "(050) 765.4321"
    user.save(update_fields=["phone"])
    assert User.objects.get(pk=user.pk).phone_e164 == "+358507654321"
    user.phone = "ask reception"
    user.save()
    assert User.objects.get(pk=user.pk).phone_e164 == ""


def test_caller_find_is_one_indexed_query(db, django_assert_num_queries):
    first = f.user(Role.REQUESTER, username="first", phone="+358 40 123 4567")
    f.user(Role.REQUESTER, username="second", phone="00358401234567")
    f.user(Role.REQUESTER, username="gone", phone="0401234567", is_active=False)
    with django_assert_num_queries(1) as captured:
        assert caller_find(number="+358401234567") == first
    assert "phone_e164" in captured.captured_queries[0]["sql"]
    assert caller_find(number="+358409999999") is None


def test_the_index_is_there(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, User._meta.db_table)
    assert constraints["user_phone_e164"]["columns"] == ["phone_e164"]
    assert constraints["user_phone_e164"]["index"]


def test_the_migration_fills_existing_rows(db):
    typed = f.user(Role.REQUESTER, username="typed", phone="(040) 123.4567")
    nothing = f.user(Role.REQUESTER, username="nothing", phone="")
    User.objects.update(phone_e164="")  # as before the column existed
    fill(apps, None)
    assert User.objects.get(pk=typed.pk).phone_e164 == "+358401234567"
    assert User.objects.get(pk=nothing.pk).phone_e164 == ""
