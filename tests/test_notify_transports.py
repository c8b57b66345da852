"""Transports: each kind's apprise URL, a real send to the loopback provider, and what answers mean."""

from types import SimpleNamespace

import pytest
from apprise.plugins.slack import NotifySlack
from django.core import mail
from hypothesis import given
from hypothesis import strategies as st

from tests.fake_provider import FakeProvider
from tests.smtp_recorder import SmtpServer, free_port
from vuoro.notify.transports import (
    PERMANENT,
    SENT,
    TRANSIENT,
    UNKNOWN,
    SlackTransport,
    SmsTransport,
    TeamsTransport,
    WebhookTransport,
    deliver_message,
    outcome_for_status,
)

TEAMS_PATH = "/workflows/643e69f83c8944438d68119179a10a64/triggers/manual/paths/invoke"
TEAMS_QUERY = "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=KODuebWbDGYFr0z0eu"


def message(kind, address, key="page-1:rule-1", title="VUO-2026-000001 Mail is down", body="Please look"):
    """An unsaved message is enough: transports read only these fields."""
    return SimpleNamespace(pk=1, kind=kind, address=address, key=key, title=title, body=body)


@pytest.fixture
def provider(settings):
    settings.VUORO_NOTIFY_TIMEOUT = 1
    server = FakeProvider().start()
    yield server
    server.stop()


@given(st.integers(min_value=100, max_value=599))
def test_http_statuses_split_into_sent_retry_and_stop(status):
    outcome = outcome_for_status(status)
    if 200 <= status < 300:
        assert outcome == SENT
    elif status >= 500 or status in (408, 429):
        assert outcome == TRANSIENT
    else:
        assert outcome == PERMANENT


def test_webhook_url_becomes_apprise_json_with_the_idempotency_key(settings):
    settings.VUORO_NOTIFY_TIMEOUT = 3
    url = WebhookTransport().apprise_url(message("webhook", "https://hooks.example.com/in/x?team=ops"))
    assert url.startswith("jsons://hooks.example.com/in/x?-team=ops&%2BIdempotency-Key=page-1%3Arule-1")
    assert url.endswith("&cto=3.0&rto=3.0")


def test_sms_url_comes_from_the_configured_template(settings):
    settings.VUORO_SMS_URL = "smseagles://token@sms.example.fi/{number}"
    url = SmsTransport().apprise_url(message("sms", "+358401234567"))
    assert url.startswith("smseagles://token@sms.example.fi/%2B358401234567?cto=")


def test_slack_and_teams_urls_are_built_from_their_webhooks():
    slack = SlackTransport().apprise_url(message("slack", "https://hooks.slack.com/services/T0001/B0002/abc123"))
    teams = TeamsTransport().apprise_url(message("teams", f"https://prod-1.westeurope.logic.azure.com:443{TEAMS_PATH}{TEAMS_QUERY}"))
    assert slack.startswith("slack://T0001/B0002/abc123/?cto=")
    assert teams.startswith("workflows://prod-1.westeurope.logic.azure.com:443/643e69f83c8944438d68119179a10a64/"
                            "KODuebWbDGYFr0z0eu/?ver=2016-06-01&pa=no&cto=")


def test_webhook_posts_json_with_the_idempotency_key(provider):
    delivery = deliver_message(message("webhook", provider.url("/hook?team=ops")))

    assert (delivery.outcome, delivery.http_status) == (SENT, 200)
    [request] = provider.received("/hook")
    assert request.header("Idempotency-Key") == "page-1:rule-1"
    assert request.query == {"team": "ops"}
    assert request.json["title"] == "VUO-2026-000001 Mail is down"
    assert request.json["message"] == "Please look"


def test_sms_goes_to_the_gateway_with_the_number(provider, settings):
    settings.VUORO_SMS_URL = f"smseagle://secret-token@{provider.host}/{{number}}"

    delivery = deliver_message(message("sms", "+358401234567"))

    assert delivery.outcome == SENT
    [request] = provider.received("/jsonrpc/sms")
    assert request.json["params"]["to"] == "+358401234567"
    assert "Mail is down" in request.json["params"]["message"]


def test_sms_without_a_gateway_fails_for_good(settings):
    settings.VUORO_SMS_URL = ""
    assert deliver_message(message("sms", "+358401234567")).outcome == PERMANENT


def test_sms_gateway_that_answers_not_ok_is_a_refusal(settings):
    with FakeProvider(replies={"/jsonrpc/": b'{"result": {"status": "error"}}'}) as gateway:
        settings.VUORO_SMS_URL = f"smseagle://token@{gateway.host}/{{number}}"
        delivery = deliver_message(message("sms", "+358401234567"))
    assert (delivery.outcome, delivery.http_status) == (PERMANENT, 200)


def test_slack_posts_to_its_webhook(provider, monkeypatch):
    # Slack's webhook host is fixed in apprise (no real Slack can run here): point apprise's
    # webhook base at the loopback provider; the request itself is real HTTP.
    monkeypatch.setattr(NotifySlack, "webhook_url", provider.url("/services"))

    delivery = deliver_message(message("slack", "https://hooks.slack.com/services/T0001/B0002/abc123"))

    assert delivery.outcome == SENT
    [request] = provider.received("/services/T0001/B0002/abc123")
    assert "Mail is down" in str(request.json)


def test_teams_posts_to_its_workflow_over_https(settings, monkeypatch):
    settings.VUORO_NOTIFY_TIMEOUT = 2
    with FakeProvider(tls=True) as teams:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", teams.cert_path)
        delivery = deliver_message(message("teams", f"https://{teams.host}{TEAMS_PATH}{TEAMS_QUERY}"))
        [request] = teams.received(TEAMS_PATH)
    assert delivery.outcome == SENT
    assert request.query["sig"] == "KODuebWbDGYFr0z0eu"
    assert "Mail is down" in str(request.json)


def test_email_goes_through_the_configured_mail_backend(settings):
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    try:
        delivery = deliver_message(message("email", "oncall@example.test"))
    finally:
        server.stop()
    assert delivery.outcome == SENT
    assert server.recorder.counts() == {("oncall@example.test", "VUO-2026-000001 Mail is down"): 1}
    assert mail.outbox == []


@pytest.mark.parametrize(("status", "outcome"), [(500, TRANSIENT), (503, TRANSIENT), (429, TRANSIENT),
                                                 (408, TRANSIENT), (400, PERMANENT), (404, PERMANENT),
                                                 (401, PERMANENT)])
def test_an_http_refusal_is_classified_by_its_status(provider, status, outcome):
    provider.set_mode("status", status=status)

    delivery = deliver_message(message("webhook", provider.url("/hook")))

    assert (delivery.outcome, delivery.http_status) == (outcome, status)
    assert provider.count("/hook") == 1


def test_an_answer_that_never_comes_is_unknown(provider):
    provider.set_mode("delay", delay=3)

    delivery = deliver_message(message("webhook", provider.url("/hook")))

    assert delivery.outcome == UNKNOWN
    assert "ReadTimeout" in delivery.detail
    assert provider.count("/hook") == 1


def test_a_connection_dropped_after_the_request_is_unknown(provider):
    provider.set_mode("close")

    assert deliver_message(message("webhook", provider.url("/hook"))).outcome == UNKNOWN


def test_a_refused_connection_is_transient(settings):
    settings.VUORO_NOTIFY_TIMEOUT = 1
    delivery = deliver_message(message("webhook", f"http://127.0.0.1:{free_port()}/hook"))
    assert delivery.outcome == TRANSIENT
    assert "ConnectionError" in delivery.detail


@pytest.mark.parametrize(("address", "outcome"), [("gone@example.test", PERMANENT),
                                                  ("busy@example.test", TRANSIENT)])
def test_an_smtp_refusal_is_classified_by_its_code(settings, address, outcome):
    server = SmtpServer(refusals={"gone@example.test": "550 5.1.1 No such user",
                                  "busy@example.test": "451 4.3.0 Try again later"}).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    try:
        delivery = deliver_message(message("email", address))
    finally:
        server.stop()
    assert delivery.outcome == outcome
    assert server.recorder.counts() == {}


def test_the_sms_gateway_and_timeout_can_come_from_the_environment(settings, monkeypatch):
    settings.VUORO_SMS_URL = settings.VUORO_NOTIFY_TIMEOUT = None
    monkeypatch.setenv("VUORO_SMS_URL", "smseagles://token@sms.example.fi/{number}")
    monkeypatch.setenv("VUORO_NOTIFY_TIMEOUT", "7")

    url = SmsTransport().apprise_url(message("sms", "+358401234567"))

    assert url == "smseagles://token@sms.example.fi/%2B358401234567?cto=7.0&rto=7.0"
