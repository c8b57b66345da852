"""Request bodies read whole, in time and within a size cap, before Django sees the request.

``BodyLimits`` wraps the WSGI application. For a request with a body it reads the body first
and hands Django a complete copy with an exact ``CONTENT_LENGTH``. Guarantees:

- a body shorter than its ``Content-Length`` (the client stopped or closed) is answered
  ``400`` and never reaches a view, so nothing is filed from half a message;
- a chunked body (``Transfer-Encoding: chunked``, no ``Content-Length``) is read whole and
  reaches Django like any other (Django alone would read it as empty);
- a body over ``max_bytes`` is answered ``413``: at once when its ``Content-Length`` says so,
  as soon as the cap is passed when chunked; no more than ``max_bytes`` is ever read;
- a client that sends nothing for ``read_timeout`` seconds, or has not sent the whole body
  ``deadline`` seconds after the headers, is answered ``408``; the thread is free again then
  (a per-read socket timeout, and the read side shut at the deadline by ``deadlines``);
- a refused request's connection is closed, never reused for another request;
- bodies over ``spool_bytes`` wait in a temporary file, not in memory.

Under gunicorn the socket is ``environ["gunicorn.socket"]``; elsewhere (another server, tests
calling the application) the limits on size and truncation still hold, the timeouts do not.
"""

from __future__ import annotations

import json
import socket
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any

from vuoro.core.deadlines import WATCHDOG

READ_SIZE = 64 * 1024
SPOOL_BYTES = 1024 * 1024

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class BodyRefused(Exception):
    """The body is not read whole; ``status`` and ``reason`` say why (English, for clients)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


STATUS_TEXT = {400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large"}


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    read_timeout: float
    deadline: float
    spool_bytes: int = SPOOL_BYTES


def has_body(environ: Environ) -> bool:
    return _chunked(environ) or environ.get("CONTENT_LENGTH", "") not in ("", "0")


def _chunked(environ: Environ) -> bool:
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _declared_length(environ: Environ, limits: Limits) -> int | None:
    """The Content-Length, None when chunked; refused when invalid or over the cap."""
    if _chunked(environ):
        return None
    text = environ.get("CONTENT_LENGTH", "")
    if not text.isdigit():
        raise BodyRefused(400, "invalid Content-Length")
    length = int(text)
    if length > limits.max_bytes:
        raise BodyRefused(413, f"request body larger than {limits.max_bytes} bytes")
    return length


def read_body(environ: Environ, limits: Limits) -> tuple[IO[bytes], int]:
    """The whole body of the request in ``environ``, rewound, and its length; or BodyRefused."""
    expected = _declared_length(environ, limits)
    found = environ.get("gunicorn.socket")
    sock = found if isinstance(found, socket.socket) else None
    stream = environ["wsgi.input"]
    previous_timeout = sock.gettimeout() if sock is not None else None
    watch = WATCHDOG.arm(sock, limits.deadline) if sock is not None else None
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=limits.spool_bytes)  # noqa: SIM115
    received = 0
    try:
        if sock is not None:
            sock.settimeout(limits.read_timeout)
        while expected is None or received < expected:
            want = READ_SIZE if expected is None else min(READ_SIZE, expected - received)
            if expected is None:
                want = min(want, limits.max_bytes + 1 - received)
            chunk = stream.read(want)
            if not chunk:
                break
            received += len(chunk)
            if received > limits.max_bytes:
                raise BodyRefused(413, f"request body larger than {limits.max_bytes} bytes")
            spool.write(chunk)
    except BodyRefused:
        spool.close()
        raise
    except TimeoutError:
        spool.close()
        raise BodyRefused(408, f"request body not received in time (nothing for {limits.read_timeout:g} s)") from None
    except Exception as exc:  # noqa: BLE001 - a malformed chunk, a reset: the body is unusable
        spool.close()
        if watch is not None and watch.fired:
            raise _too_slow(limits) from None
        raise BodyRefused(400, f"request body could not be read ({exc.__class__.__name__})") from None
    finally:
        if sock is not None:
            WATCHDOG.disarm(watch)
            try:
                sock.settimeout(previous_timeout)
            except OSError:
                pass
    if watch is not None and watch.fired:
        spool.close()
        raise _too_slow(limits)
    if expected is not None and received < expected:
        spool.close()
        raise BodyRefused(400, f"request body ended after {received} of {expected} bytes")
    spool.seek(0)
    return spool, received


def _too_slow(limits: Limits) -> BodyRefused:
    return BodyRefused(408, f"request body not received within {limits.deadline:g} s")


def refusal_response(refusal: BodyRefused, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """The JSON answer to a refused body; the connection is not reused afterwards."""
    body = json.dumps({"detail": refusal.reason}).encode()
    # gunicorn's marker for a body that failed to read: the connection is closed after the
    # answer instead of draining the rest of the body for a next request.
    if hasattr(environ.get("wsgi.input"), "failed"):
        environ["wsgi.input"].failed = True
    start_response(f"{refusal.status} {STATUS_TEXT[refusal.status]}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                    ("Connection", "close")])
    return [body]


class BodyLimits:
    """WSGI middleware applying ``Limits`` to every request with a body (see the module)."""

    def __init__(self, app: Callable[[Environ, StartResponse], Iterable[bytes]], limits: Limits) -> None:
        self.app = app
        self.limits = limits

    @classmethod
    def from_settings(cls, app: Callable[[Environ, StartResponse], Iterable[bytes]]) -> BodyLimits:
        from django.conf import settings

        return cls(app, Limits(max_bytes=settings.VUORO_MAX_BODY_BYTES,
                               read_timeout=settings.VUORO_BODY_READ_TIMEOUT,
                               deadline=settings.VUORO_BODY_DEADLINE))

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if not has_body(environ):
            return self.app(environ, start_response)
        try:
            body, length = read_body(environ, self.limits)
        except BodyRefused as refusal:
            return refusal_response(refusal, environ, start_response)
        environ["wsgi.input"] = body
        environ["CONTENT_LENGTH"] = str(length)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)
