"""Sign-in throttling: guessing a password is stopped, the right one waits out the lockout or
an admin's unlock, and every sign-in and failure is logged."""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories as f

GUESSES = 20


def _sign_in(client: Client, url: str, username: str, password: str):
    return client.post(url, {"username": username, "password": password})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_twenty_wrong_passwords_then_the_right_one_is_refused(world, url):
    client = Client()
    person = world.admin
    answers = [_sign_in(client, url, person.username, "wrong-guess").status_code for _ in range(GUESSES)]
    assert 429 in answers  # the guessing itself was stopped
    right = _sign_in(client, url, person.username, f.PASSWORD)
    assert right.status_code == 429 and not _signed_in(client)
    assert 'id="locked-out"' in right.content.decode()  # the page that says why and for how long
    assert AccessFailureLog.objects.filter(username=person.username.lower()).count() >= 10


def test_the_lockout_ends_by_itself_after_the_lockout_time(world, settings):
    client = Client()
    for _ in range(GUESSES):
        _sign_in(client, "/login/", world.agent.username, "wrong-guess")
    assert _sign_in(client, "/login/", world.agent.username, f.PASSWORD).status_code == 429
    later = timezone.now() + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        response = _sign_in(Client(), "/login/", world.agent.username, f.PASSWORD)
    assert response.status_code == 302


def test_an_admin_lifts_the_lockout_in_the_admin(world):
    client = Client()
    for _ in range(GUESSES):
        _sign_in(client, "/login/", world.agent.username, "wrong-guess")
    assert _sign_in(client, "/login/", world.agent.username, f.PASSWORD).status_code == 429
    admin = Client()
    admin.force_login(world.admin)
    changelist = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200 and world.agent.username in changelist.content.decode()
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    admin.post(reverse("admin:axes_accessattempt_changelist"),
               {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert not AccessAttempt.objects.exists()
    assert _sign_in(Client(), "/login/", world.agent.username, f.PASSWORD).status_code == 302


def test_a_different_case_of_the_username_counts_as_the_same_account(world):
    for n in range(GUESSES):
        _sign_in(Client(REMOTE_ADDR=f"192.0.2.{n + 1}"), "/login/",
                 world.agent.username.upper() if n % 2 else world.agent.username, "wrong-guess")
    assert _sign_in(Client(REMOTE_ADDR="198.51.100.7"), "/login/", world.agent.username,
                    f.PASSWORD).status_code == 429


def test_a_successful_sign_in_is_logged_and_clears_earlier_failures(world):
    client = Client()
    for _ in range(3):
        _sign_in(client, "/login/", world.requester_a.username, "wrong-guess")
    assert _sign_in(client, "/login/", world.requester_a.username, f.PASSWORD).status_code == 302
    assert AccessLog.objects.filter(username=world.requester_a.username.lower()).exists()
    assert not AccessAttempt.objects.filter(username=world.requester_a.username.lower()).exists()


def test_only_admins_see_the_sign_in_log(world):
    for role in ("agent", "partner", "owner"):
        client = Client()
        client.force_login(getattr(world, role))
        assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 302, role
