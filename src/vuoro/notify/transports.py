"""Transports: how a message reaches a contact method, and what the provider's answer means.

One small class per contact kind checks an address (``check``) and sends a message (``send``).
Every send ends in one of four outcomes, and the sender acts on them:

- ``sent``: the provider accepted the message.
- ``permanent``: the address or the message is refused for good (a bad address, HTTP 4xx other
  than 408/429, a provider that answers "not ok"): stop.
- ``transient``: nothing reached the provider, or it asked us to come back (connection refused,
  a connect timeout, HTTP 5xx, 408, 429): retry with backoff.
- ``unknown``: the request left but no answer came (a read timeout, a connection dropped after
  the request was sent): the provider may have acted, so it is never resent automatically.

Chat, SMS and webhook messages go through apprise. ``Apprise.notify()`` tells only success or
failure, and its log lines say "error=NNN" for an HTTP refusal but word a refused connection and
a read timeout alike, and ``apprise.LogCapture`` changes the process-wide logger level, which is
unsafe with several senders in one process. So a send observes the HTTP exchange itself: a thin
wrapper around requests' ``HTTPAdapter.send`` records the last response status or transport
error into a context variable that only the current send has set (other threads and other code
are untouched). The outcome is decided from that record plus apprise's own verdict.
"""

import os
import re
import smtplib
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import apprise
import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter

from vuoro.core.outbound import check_outbound_url, outbound_refusal, refused_reason


class Outgoing(Protocol):
    """What a transport reads of a message to send: a ``notify.models.OutboundMessage`` row.
    A protocol, so the models use the transports' address checks without an import circle."""

    pk: Any
    key: str
    kind: str
    address: str
    title: str
    body: str


SENT, TRANSIENT, PERMANENT, UNKNOWN = "sent", "transient", "permanent", "unknown"
DEFAULT_TIMEOUT_SECONDS = 10.0
RETRYABLE_HTTP = frozenset({408, 429})


@dataclass(frozen=True)
class Delivery:
    """What one try at sending came to; ``detail`` is for the attempt log and operators."""

    outcome: str
    detail: str = ""
    http_status: int | None = None


class PermanentFailure(Exception):
    """The server refused for good (5xx, every recipient refused): do not try again."""


# --- the pure rules ---------------------------------------------------------------------------


def error_detail(error: BaseException) -> str:
    """What the delivery log says about a transport error: the guard's reason when it refused."""
    return (refused_reason(error) or f"{type(error).__name__}: {error}")[:2000]


def outcome_for_status(status: int) -> str:
    """The outcome an HTTP status means (2xx alone is not enough: see ``outcome_for``)."""
    if 200 <= status < 300:
        return SENT
    if status in RETRYABLE_HTTP or status >= 500:
        return TRANSIENT
    return PERMANENT


def outcome_for_error(error: BaseException) -> str:
    """A transport error: ``unknown`` when the request may have reached the provider; a
    connection the outbound guard refused (a redirect or a name into a denied network) is
    permanent, never retried."""
    if refused_reason(error):
        return PERMANENT
    if isinstance(error, requests.ConnectTimeout):
        return TRANSIENT
    if isinstance(error, requests.Timeout):  # read timeout: the request was sent
        return UNKNOWN
    if isinstance(error, requests.ConnectionError) and "aborted" in str(error).lower():
        return UNKNOWN  # the connection dropped while waiting for the answer
    return TRANSIENT


# --- observing the HTTP exchange apprise makes ------------------------------------------------


@dataclass
class _Exchange:
    status: int | None = None
    error: BaseException | None = None


_current: ContextVar[_Exchange | None] = ContextVar("vuoro_notify_exchange", default=None)


def _observe_http() -> None:
    """Wrap ``HTTPAdapter.send`` once so the current send can see its last HTTP exchange."""
    original = HTTPAdapter.send
    if getattr(original, "vuoro_observed", False):
        return

    def send(self: HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        exchange = _current.get()
        try:
            response = original(self, request, *args, **kwargs)
        except Exception as exc:
            if exchange is not None:
                exchange.status, exchange.error = None, exc
            raise
        if exchange is not None:
            exchange.status, exchange.error = response.status_code, None
        return response

    send.vuoro_observed = True  # type: ignore[attr-defined]
    HTTPAdapter.send = send  # type: ignore[method-assign]


_observe_http()


def setting(name: str, default: str = "") -> str:
    """A notify setting: Django's settings first, then the environment variable of that name."""
    return str(getattr(settings, name, None) or os.environ.get(name, default))


def timeout_seconds() -> float:
    """Connect and read timeout for every provider, from ``VUORO_NOTIFY_TIMEOUT`` (seconds)."""
    try:
        return float(setting("VUORO_NOTIFY_TIMEOUT")) or DEFAULT_TIMEOUT_SECONDS
    except ValueError:
        return DEFAULT_TIMEOUT_SECONDS


def with_timeouts(url: str) -> str:
    """Apprise's own URL arguments for the connect (cto) and read (rto) timeouts."""
    seconds = timeout_seconds()
    return f"{url}{'&' if '?' in url else '?'}cto={seconds}&rto={seconds}"


def notify_via_apprise(url: str, *, title: str, body: str) -> Delivery:
    """Send through one apprise URL and classify the result; never raises for the provider."""
    notifier = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode="memory"))
    if not notifier.add(url):
        return Delivery(PERMANENT, "The address cannot be used by the provider (bad URL).")
    exchange = _Exchange()
    token = _current.set(exchange)
    try:
        accepted = bool(notifier.notify(body=body, title=title))
    finally:
        _current.reset(token)
    if accepted:
        return Delivery(SENT, f"HTTP {exchange.status}" if exchange.status else "", exchange.status)
    if exchange.error is not None:
        error = exchange.error
        return Delivery(outcome_for_error(error), error_detail(error))
    if exchange.status is not None:
        outcome = outcome_for_status(exchange.status)
        # A 2xx the provider itself calls a failure (e.g. SMS gateway "status": "error").
        outcome = PERMANENT if outcome == SENT else outcome
        return Delivery(outcome, f"HTTP {exchange.status}", exchange.status)
    return Delivery(PERMANENT, "The provider refused the message before sending it.")


# --- email through Django's mail backend ------------------------------------------------------


def smtp_send(*, to: str, subject: str, body: str, message_id: str, html_body: str = "",
              headers: dict[str, str] | None = None) -> None:
    """Hand one email to the configured backend; raises on any refusal or network error.

    ``html_body`` adds an HTML alternative; ``headers`` (threading, loop guard) are added to
    ``Auto-Submitted``; the Message-ID is always ours. ``PermanentFailure`` for a 5xx answer or
    when every recipient is refused; other exceptions (4xx, network, timeouts) are the
    caller's to classify.
    """
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or DEFAULT_TIMEOUT_SECONDS
    mail = EmailMultiAlternatives(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to],
        connection=get_connection(fail_silently=False, timeout=timeout),
        headers={"Auto-Submitted": "auto-generated", **(headers or {}), "Message-ID": message_id},
    )
    if html_body:
        mail.attach_alternative(html_body, "text/html")
    try:
        accepted = mail.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        if all(code >= 500 for code in codes):
            raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
        raise
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:
            raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        raise
    if not accepted:
        raise PermanentFailure("the backend accepted no recipient")


def message_id_for(prefix: str, pk: int) -> str:
    """Stable per row, so a receiving server can drop a copy an operator chose to resend."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "vuoro.invalid"
    return f"<vuoro-{prefix}-{pk}@{domain}>"


# --- one transport per contact kind -----------------------------------------------------------


class Transport(Protocol):
    def check(self, address: str) -> str: ...

    def send(self, message: Outgoing) -> Delivery: ...


class AppriseTransport:
    """A kind sent through one apprise URL; subclasses say how the URL and the text are made.

    The http(s) URL the request will really go to (``destination``) is checked against the
    outbound deny list right before each send; a refusal is permanent and logged, not raised.
    """

    def apprise_url(self, message: Outgoing) -> str:
        raise NotImplementedError

    def destination(self, message: Outgoing) -> str:
        return message.address

    def text(self, message: Outgoing) -> tuple[str, str]:
        return message.title, message.body

    def send(self, message: Outgoing) -> Delivery:
        try:
            url = self.apprise_url(message)
            refusal = outbound_refusal(self.destination(message))
        except PermanentFailure as exc:
            return Delivery(PERMANENT, str(exc))
        if refusal:
            return Delivery(PERMANENT, refusal)
        title, body = self.text(message)
        return notify_via_apprise(url, title=title, body=body)


class EmailTransport:
    """Email through Django's configured backend, not apprise's ``mailto://``.

    The SMTP settings, the refusal rules (5xx: stop, 4xx: retry) and the stable Message-ID
    are the email outbox's; sharing them keeps one mail path to configure and test, and the
    SMTP reply codes reach us as exceptions instead of a bare failed/succeeded.
    """

    def check(self, address: str) -> str:
        address = address.strip()
        EmailValidator(message=_("Enter a valid email address, e.g. name@example.com."))(address)
        return address

    def send(self, message: Outgoing) -> Delivery:
        try:
            smtp_send(to=message.address, subject=message.title, body=message.body,
                      message_id=message_id_for("message", message.pk))
        except PermanentFailure as exc:
            return Delivery(PERMANENT, str(exc)[:2000])
        except TimeoutError as exc:
            # smtplib does not say at which step it timed out; after DATA the server may have
            # taken the message, so a timeout is never resent blindly.
            return Delivery(UNKNOWN, f"{type(exc).__name__}: {exc}"[:2000])
        except Exception as exc:  # noqa: BLE001 - network, 4xx: try again later
            return Delivery(TRANSIENT, f"{type(exc).__name__}: {exc}"[:2000])
        return Delivery(SENT)


E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class SmsTransport(AppriseTransport):
    """SMS through an SMSEagle gateway (apprise ``smseagle://`` / ``smseagles://``).

    The gateway is the operator's own host, so the URL comes from the ``VUORO_SMS_URL``
    setting (or environment variable) with ``{number}`` where the E.164 number goes, e.g.
    ``smseagles://ACCESS_TOKEN@sms.example.fi/{number}``. Tests point it at a loopback fake.
    """

    def check(self, address: str) -> str:
        number = re.sub(r"[\s().-]", "", address)
        if number.startswith("00"):
            number = "+" + number[2:]
        if not E164.match(number):
            raise ValidationError(_("Enter the phone number in international form, e.g. +358401234567."))
        return number

    def apprise_url(self, message: Outgoing) -> str:
        template = setting("VUORO_SMS_URL")
        if "{number}" not in template:
            raise PermanentFailure("SMS is not configured (VUORO_SMS_URL with {number}).")
        return with_timeouts(template.replace("{number}", quote(message.address, safe="")))

    def destination(self, message: Outgoing) -> str:
        """The gateway's http(s) URL: ``smseagles://`` is https, ``smseagle://`` http."""
        parts = urlsplit(setting("VUORO_SMS_URL"))
        scheme = "https" if parts.scheme.endswith("s") else "http"
        return f"{scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/"

    def text(self, message: Outgoing) -> tuple[str, str]:
        return "", f"{message.title}\n{message.body}".strip()  # SMS has no title


SLACK_HOOK = re.compile(r"^https://hooks\.slack\.com/services/([A-Za-z0-9]+)/([A-Za-z0-9]+)/([A-Za-z0-9]+)/?$")


class SlackTransport(AppriseTransport):
    """Slack incoming webhooks (``https://hooks.slack.com/services/T…/B…/…``) as ``slack://``."""

    def check(self, address: str) -> str:
        address = address.strip()
        if not SLACK_HOOK.match(address):
            raise ValidationError(_(
                "Enter a Slack incoming-webhook URL, e.g. https://hooks.slack.com/services/T000/B000/XXXX."))
        check_outbound_url(address)
        return address

    def apprise_url(self, message: Outgoing) -> str:
        match = SLACK_HOOK.match(message.address)
        if match is None:
            raise PermanentFailure("not a Slack incoming-webhook URL")
        return with_timeouts("slack://{}/{}/{}/".format(*match.groups()))


TEAMS_HOOK = re.compile(
    r"^https://(?P<host>[A-Za-z0-9.-]+)(?P<port>:[0-9]{1,5})?"
    r"(?P<pa>/powerautomate/automations/direct)?/workflows/(?P<workflow>[A-Za-z0-9_-]+)"
    r"/triggers/manual/paths/invoke/?\?(?P<query>.+)$")


class TeamsTransport(AppriseTransport):
    """Microsoft Teams through a Workflows (Power Automate) webhook, apprise ``workflows://``.

    Teams' older Office 365 connector webhooks are retired; a channel's "Post to a channel when
    a webhook request is received" workflow gives the https URL people paste here.
    """

    def check(self, address: str) -> str:
        address = address.strip()
        match = TEAMS_HOOK.match(address)
        if not match or not dict(parse_qsl(match["query"])).get("sig"):
            raise ValidationError(_(
                "Enter a Teams Workflows webhook URL: https://…/workflows/…/triggers/manual/paths/invoke?…&sig=…"))
        check_outbound_url(address)
        return address

    def apprise_url(self, message: Outgoing) -> str:
        match = TEAMS_HOOK.match(message.address)
        query = dict(parse_qsl(match["query"])) if match else {}
        if match is None or not query.get("sig"):
            raise PermanentFailure("not a Teams Workflows webhook URL")
        args = {"ver": query.get("api-version", "2016-06-01"), "pa": "yes" if match["pa"] else "no"}
        return with_timeouts("workflows://{}{}/{}/{}/?{}".format(
            match["host"], match["port"] or "", match["workflow"], quote(query["sig"], safe=""),
            urlencode(args)))


class WebhookTransport(AppriseTransport):
    """A JSON POST to any http(s) URL (apprise ``json://`` / ``jsons://``).

    The body is apprise's JSON (``version``, ``title``, ``message``, ``type``). The header
    ``Idempotency-Key`` carries the message key, so a receiver can drop a copy that an
    operator chose to send again.
    """

    def check(self, address: str) -> str:
        address = address.strip()
        URLValidator(schemes=["http", "https"],
                     message=_("Enter an http:// or https:// URL."))(address)
        check_outbound_url(address)
        return address

    def apprise_url(self, message: Outgoing) -> str:
        parts = urlsplit(message.address)
        schema = "jsons" if parts.scheme == "https" else "json"
        args = [("-" + name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True)]
        args.append(("+Idempotency-Key", message.key))
        return with_timeouts(f"{schema}://{parts.netloc}{parts.path or '/'}?{urlencode(args)}")


TRANSPORTS: dict[str, Transport] = {
    "email": EmailTransport(),
    "sms": SmsTransport(),
    "slack": SlackTransport(),
    "teams": TeamsTransport(),
    "webhook": WebhookTransport(),
}


def transport_for(kind: str) -> Transport:
    try:
        return TRANSPORTS[kind]
    except KeyError:
        raise ValidationError(_("Unknown kind of contact method.")) from None


def check_address(kind: str, address: str) -> str:
    """The address normalised for its kind; ``ValidationError`` (on ``address``) if unusable."""
    try:
        return transport_for(kind).check(address)
    except ValidationError as exc:
        raise ValidationError({"address": exc.messages}) from None


def deliver_message(message: Outgoing) -> Delivery:
    """Send one claimed message by its kind's transport; never raises for the provider."""
    try:
        transport = transport_for(message.kind)
    except ValidationError:
        return Delivery(PERMANENT, f"unknown contact kind {message.kind!r}")
    return transport.send(message)
