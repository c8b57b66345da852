"""Shared fixtures: a small world with every role, two organisations and two services."""

from types import SimpleNamespace

import pytest

from tests import factories as f
from vuoro.accounts.models import AssignmentStrategy, Role


def pytest_collection_modifyitems(config, items):
    """Deselect (not skip) ``postgres_only`` tests when the tests do not run on PostgreSQL."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
        return
    deselected = [item for item in items if item.get_closest_marker("postgres_only")]
    if not deselected:
        return
    items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]
    config.hook.pytest_deselected(items=deselected)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    message = (f"deselected {len(deselected)} postgres_only test(s): the database is {engine}, "
               "not PostgreSQL (set DATABASE_URL=postgres://... to run them)")
    if reporter is not None:
        reporter.write_line(message)
    else:
        print(message)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Tests make many users; PBKDF2's deliberate slowness is not what they measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_counters(request, django_db_blocker):
    """PostgreSQL counters are sequences (vuoro.core.counters) that a committed test leaves
    behind and flushing the tables does not reset: drop them after such a test."""
    yield
    committed = request.node.get_closest_marker("django_db")
    if not (committed and committed.kwargs.get("transaction")) and "transactional_db" not in request.fixturenames \
            and "live_server" not in request.fixturenames:
        return
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE 'vuoro\\_%'")
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP SEQUENCE IF EXISTS "{name}"')


@pytest.fixture(autouse=True)
def reactions_inline(settings):
    """Deferred reactions to domain events (mail, webhooks) run inside the change's transaction,
    through the same reaction code the worker runs, so a test sees a change's whole effect.
    The worker path is tested with this off (tests/test_reactions.py) and by every test that
    runs a real ``vuoro worker``."""
    settings.VUORO_REACT_INLINE = True


@pytest.fixture(autouse=True)
def fresh_compiled_calendars():
    """Compiled calendars are cached by row id and version, and configuration per process;
    test rollbacks reuse ids and versions without the saves that would clear them."""
    from vuoro.calendars import selectors
    from vuoro.core import config_cache

    selectors._compiled.cache_clear()
    config_cache.clear()
    yield
    selectors._compiled.cache_clear()
    config_cache.clear()


@pytest.fixture
def world(db):
    """Organisations A and B; one user per role; a partner team; an owned critical service."""
    org_a = f.organisation("Organisation A")
    org_b = f.organisation("Organisation B")
    agent = f.user(Role.AGENT, username="agent")
    agent2 = f.user(Role.AGENT, username="agent2")
    partner = f.user(Role.PARTNER, username="partner")
    owner = f.user(Role.SERVICE_OWNER, username="owner")
    admin = f.user(Role.ADMIN, username="admin")
    requester_a = f.user(Role.REQUESTER, organisation=org_a, username="req_a")
    colleague_a = f.user(Role.REQUESTER, organisation=org_a, username="colleague_a",
                         can_see_organisation_tickets=True)
    requester_b = f.user(Role.REQUESTER, organisation=org_b, username="req_b", language="en")
    desk_team = f.team("Desk", members=[agent, agent2], lead=agent,
                       assignment_strategy=AssignmentStrategy.MANUAL)
    partner_team = f.team("Night partner", members=[partner])
    critical = f.service("email", critical=True, owner=owner, default_team=desk_team)
    other = f.service("workstations", default_team=desk_team)
    cat_critical = f.category(critical, "not-working")
    cat_other = f.category(other, "new-device")
    return SimpleNamespace(
        org_a=org_a, org_b=org_b, agent=agent, agent2=agent2, partner=partner, owner=owner,
        admin=admin, requester_a=requester_a, colleague_a=colleague_a, requester_b=requester_b,
        desk_team=desk_team, partner_team=partner_team, critical=critical, other=other,
        cat_critical=cat_critical, cat_other=cat_other,
    )


@pytest.fixture
def login_en(client):
    """Sign a user in, reading English so that assertions can quote the page."""

    def _login(user):
        user.language = "en"
        user.save(update_fields=["language"])
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def login(client):
    """Sign a user in on the Django test client."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


TELEPHONY_SECRET = "telephony-test-secret"


@pytest.fixture
def phone_world(world, settings):
    """The telephony webhook configured (its secret, missed calls filed under ``other``) and
    requester A reachable by number."""
    settings.VUORO_TELEPHONY_SECRET = TELEPHONY_SECRET
    settings.VUORO_TELEPHONY_SERVICE = world.other.slug
    world.requester_a.phone = "+358 40 123 4567"
    world.requester_a.save()
    return world
