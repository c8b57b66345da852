"""API tokens are kept per process for a moment, and never past a revocation, a deactivation or
a change of what the person may see; strangers' guesses are not kept at all."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from vuoro.accounts.models import ApiToken
from vuoro.accounts.services import api_token_authenticate, api_token_revoke
from vuoro.core import config_cache
from vuoro.core.models import ConfigVersion


def test_a_token_is_read_once_and_then_kept(world):
    plain = f.api_token(world.agent)
    assert api_token_authenticate(plain) == world.agent  # its first use is recorded: read anew
    with CaptureQueriesContext(connection) as first:
        assert api_token_authenticate(plain) == world.agent
    with CaptureQueriesContext(connection) as second:
        assert api_token_authenticate(plain) == world.agent
    assert any("accounts_apitoken" in q["sql"] for q in first.captured_queries)
    assert not any("accounts_apitoken" in q["sql"] for q in second.captured_queries)


def test_a_wrong_secret_is_refused_even_with_the_token_kept(world):
    plain = f.api_token(world.agent)
    assert api_token_authenticate(plain) == world.agent
    assert api_token_authenticate(plain[:-2] + ("aa" if not plain.endswith("aa") else "bb")) is None


def test_revoking_stops_a_kept_token_at_once(world):
    plain = f.api_token(world.agent)
    assert api_token_authenticate(plain) == world.agent
    assert api_token_revoke(user=world.agent, token_id=ApiToken.objects.get(user=world.agent).pk)
    assert api_token_authenticate(plain) is None


def test_a_revocation_by_another_process_is_seen_after_the_config_check(world, settings):
    settings.VUORO_CONFIG_CHECK_SECONDS = 0
    plain = f.api_token(world.agent)
    assert api_token_authenticate(plain) == world.agent
    # As another process revokes: the row and the version, nothing of this process's cache.
    ApiToken.objects.filter(user=world.agent).update(revoked_at="2026-01-01T00:00Z")
    ConfigVersion.objects.update_or_create(pk=1, defaults={"version": 10**6})
    assert api_token_authenticate(plain) is None


def test_deactivating_or_moving_the_person_drops_the_kept_token(world):
    plain = f.api_token(world.requester_a)
    assert api_token_authenticate(plain).organisation_id == world.requester_a.organisation_id
    world.requester_a.organisation = world.org_b
    world.requester_a.save()
    assert api_token_authenticate(plain).organisation_id == world.org_b.pk
    world.requester_a.is_active = False
    world.requester_a.save()
    assert api_token_authenticate(plain) is None


def test_each_caller_gets_its_own_copy_of_the_user(world):
    plain = f.api_token(world.agent)
    first = api_token_authenticate(plain)
    first.first_name = "Changed by one request"
    assert api_token_authenticate(plain).first_name == world.agent.first_name


def test_unknown_tokens_are_not_kept(world):
    for n in range(50):
        assert api_token_authenticate(f"vuo_{n:012x}_secret") is None
    assert not config_cache._brief
