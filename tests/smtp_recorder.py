"""A real SMTP server on loopback (aiosmtpd) that records every message it accepts."""

import logging
import socket
import threading
from collections import Counter
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command at INFO; the tests' output needs only problems.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def one_line(text: str) -> str:
    """A header as read, whitespace from folding collapsed."""
    return " ".join(text.split())


class Recorder:
    """Accepts mail, except for addresses given a refusal reply (e.g. ``"550 No such user"``)."""

    def __init__(self, refusals: dict[str, str] | None = None) -> None:
        self.refusals = refusals or {}
        self.received: list[tuple[str, str]] = []
        self.message_ids: list[str] = []
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refusals:
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        with self._lock:
            for recipient in envelope.rcpt_tos:
                self.received.append((recipient, one_line(str(message["subject"]))))
            self.message_ids.append(str(message["message-id"]))
        return "250 Message accepted for delivery"

    def counts(self) -> Counter:
        with self._lock:
            return Counter(self.received)


class KeepingRecorder(Recorder):
    """Keeps each whole message as well, to read its parts and headers."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))
        return await super().handle_DATA(server, session, envelope)


class SmtpServer:
    """Start and stop a recording server on a fixed loopback port."""

    def __init__(self, port: int | None = None, refusals: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.recorder = Recorder(refusals)
        self._controller: Controller | None = None

    def start(self) -> "SmtpServer":
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def keeping_smtp(settings):
    """A server keeping whole messages, with Django's SMTP backend pointed at it."""
    server = SmtpServer()
    server.recorder = KeepingRecorder()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    yield server
    server.stop()
