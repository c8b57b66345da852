"""Every hop and every connection is checked: a redirect into a denied network, a name that
resolves into one at connect time, and internal networks in production are all refused,
recorded with the reason, and the denied server is never contacted.

Real servers on loopback: the fake provider (the denied target) on 127.0.0.1 and a redirector on
127.0.0.3, which the rule allows while 127.0.0.1 is denied.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.fake_provider import FakeProvider
from vuoro.core.outbound import check_outbound_url, refused_reason
from vuoro.notify.models import AttemptOutcome, MessageStatus, OutboundMessage
from vuoro.notify.sender import SendResult, send_messages


@pytest.fixture
def provider(settings):
    settings.VUORO_NOTIFY_TIMEOUT = 2
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
def redirector(provider):
    """An allowed server on 127.0.0.3 answering every request with 302 to the provider."""
    target = provider.url("/hook")
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _redirect(self) -> None:
            hits.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _redirect

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.3", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.3:{server.server_address[1]}/start", hits
    server.shutdown()
    server.server_close()


def test_a_page_notification_redirected_into_a_denied_network_is_refused_with_the_reason(
        db, provider, redirector, settings):
    settings.VUORO_OUTBOUND_DENY = "127.0.0.1/32"
    url, hits = redirector
    now = timezone.now()
    message = OutboundMessage.objects.create(key="page-1:rule-1", kind="webhook", address=url,
                                             title="Mail is down", body="Look now", next_attempt_at=now,
                                             created_at=now)
    assert send_messages(now=now) == SendResult(failed=1)
    assert hits == ["/start"]  # the first hop was made
    assert provider.received() == []  # the redirect's target never was
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "Refused: 127.0.0.1 points to 127.0.0.1" in message.last_error
    [attempt] = message.delivery_attempts.all()
    assert attempt.outcome == AttemptOutcome.PERMANENT and "Refused" in attempt.detail


def test_the_same_redirect_is_followed_when_its_target_is_allowed(db, provider, redirector):
    url, hits = redirector
    now = timezone.now()
    OutboundMessage.objects.create(key="page-1:rule-1", kind="webhook", address=url, title="Mail is down",
                                   body="Look now", next_attempt_at=now, created_at=now)
    assert send_messages(now=now) == SendResult(sent=1)
    assert hits and provider.count("/hook") == 1


def test_every_connection_is_checked_at_connect_time_not_only_before_the_send(provider, settings):
    # Straight through requests, past every check made before a send: the connection itself.
    settings.VUORO_OUTBOUND_DENY = "127.0.0.0/8,::1/128"
    with pytest.raises(requests.ConnectionError) as refused:
        requests.get(provider.url("/hook").replace("127.0.0.1", "localhost"), timeout=2)
    assert "localhost points to" in refused_reason(refused.value)
    assert provider.received() == []


def test_production_denies_loopback_and_private_networks_unless_allow_listed(provider, settings):
    settings.PRODUCTION = True
    for url in ("http://127.0.0.1:8080/", "http://10.1.2.3/", "http://192.168.0.10/", "http://[::1]/",
                "http://172.16.5.5/"):
        with pytest.raises(ValidationError):
            check_outbound_url(url)
    with pytest.raises(requests.ConnectionError) as refused:
        requests.get(provider.url("/hook"), timeout=2)
    assert refused_reason(refused.value)
    settings.VUORO_OUTBOUND_ALLOW = "127.0.0.1/32"
    check_outbound_url(provider.url("/hook"))
    assert requests.get(provider.url("/hook"), timeout=2).status_code == 200
    settings.VUORO_OUTBOUND_ALLOW = "169.254.0.0/16"  # the metadata networks stay denied
    with pytest.raises(ValidationError):
        check_outbound_url("http://169.254.169.254/latest/meta-data/")
