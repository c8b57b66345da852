"""Property-based fuzzing of the whole API from its own OpenAPI document.

Schemathesis generates valid and invalid requests for every operation and sends them to the
WSGI application in-process, as a desk agent with a few tickets in the database. Junk may be
refused with any 4xx; the API must never answer with a server error, and every documented
answer must match its documented shape.
"""

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.openapi import from_wsgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests import factories as f
from vuoro.wsgi import application

MIN_REQUESTS = 500
sent: dict[str, int] = {}

schema = from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def keep_test_connection():
    """The test runs in one transaction; the WSGI handler must not close it between requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def agent(keep_test_connection, world, settings, tmp_path):
    """An agent in a world with tickets in both organisations and an attachment."""
    settings.MEDIA_ROOT = tmp_path
    for requester, service, category in [
        (world.requester_a, world.other, world.cat_other),
        (world.requester_b, world.critical, world.cat_critical),
        (world.colleague_a, world.other, None),
    ]:
        f.ticket(requester, service, category)
    return world.agent


@schema.parametrize()
@settings(max_examples=40, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_never_answers_with_a_server_error(case, agent):
    # A generated DELETE /tokens/{id} may revoke the caller's token, so each request has its own.
    token = f.api_token(agent)
    response = case.call(headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    sent[case.operation.label] = sent.get(case.operation.label, 0) + 1
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


def test_fuzzing_sent_enough_requests():
    """Runs after the fuzzing above (same module, file order) and reports its volume."""
    total = sum(sent.values())
    print(f"\nschemathesis: {total} requests over {len(sent)} operations")
    for label, count in sorted(sent.items()):
        print(f"  {count:4d}  {label}")
    assert total >= MIN_REQUESTS
