"""The body reader and its WSGI middleware, on real sockets (socketpair) and a real WSGI app.

gunicorn is not running here: the environ carries the socket under ``gunicorn.socket`` and a
``wsgi.input`` reading from it, as gunicorn's does, so timeouts and deadlines are real.
"""

import io
import json
import socket
import threading
import time

import pytest

from vuoro.core.deadlines import Watchdog
from vuoro.core.http_limits import BodyLimits, BodyRefused, Limits, read_body

LIMITS = Limits(max_bytes=1000, read_timeout=0.3, deadline=0.8, spool_bytes=100)


class SocketInput:
    """A length-unaware stream over a socket, like gunicorn's body over its socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.failed = False

    def read(self, size: int) -> bytes:
        return self.sock.recv(size)


def environ_for(body: bytes | None = None, *, sock=None, **extra) -> dict:
    environ = {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(body or b""), **extra}
    if sock is not None:
        environ["wsgi.input"] = SocketInput(sock)
        environ["gunicorn.socket"] = sock
    return environ


def echo_app(environ, start_response):
    """Answers with the body it was handed and the length it was told."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"length": environ.get("CONTENT_LENGTH"), "body": body.decode(),
                        "chunked": "HTTP_TRANSFER_ENCODING" in environ}).encode()]


def call(app, environ):
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], json.loads(body)


def test_a_whole_body_reaches_the_app():
    app = BodyLimits(echo_app, LIMITS)
    status, _h, answer = call(app, environ_for(b"hello", CONTENT_LENGTH="5"))
    assert status == "200 OK" and answer == {"length": "5", "body": "hello", "chunked": False}


def test_a_short_body_is_refused_and_the_app_not_called():
    app = BodyLimits(lambda *a: pytest.fail("the view saw a truncated body"), LIMITS)
    environ = environ_for(b"hel", CONTENT_LENGTH="5")
    status, headers, answer = call(app, environ)
    assert status == "400 Bad Request" and headers["Connection"] == "close"
    assert answer == {"detail": "request body ended after 3 of 5 bytes"}


def test_a_chunked_body_is_handed_over_with_its_length():
    client, server = socket.socketpair()
    client.sendall(b"x" * 700)
    client.shutdown(socket.SHUT_WR)  # the end of the chunked body, as gunicorn's reader sees it
    status, _h, answer = call(BodyLimits(echo_app, LIMITS),
                              environ_for(sock=server, HTTP_TRANSFER_ENCODING="chunked"))
    assert status == "200 OK" and answer == {"length": "700", "body": "x" * 700, "chunked": False}


def test_over_the_cap_is_413_whether_declared_or_chunked():
    status, _h, answer = call(BodyLimits(echo_app, LIMITS), environ_for(CONTENT_LENGTH="1001"))
    assert status == "413 Content Too Large" and answer == {"detail": "request body larger than 1000 bytes"}
    client, server = socket.socketpair()
    client.sendall(b"x" * 5000)
    status, _h, _a = call(BodyLimits(echo_app, LIMITS), environ_for(sock=server, HTTP_TRANSFER_ENCODING="chunked"))
    assert status == "413 Content Too Large"
    assert len(server.recv(10_000)) == 5000 - 1001  # it stopped reading just past the cap


@pytest.mark.parametrize("length", ["abc", "-1", "1e3"])
def test_an_invalid_content_length_is_400(length):
    status, _h, answer = call(BodyLimits(echo_app, LIMITS), environ_for(CONTENT_LENGTH=length))
    assert status == "400 Bad Request" and answer == {"detail": "invalid Content-Length"}


def test_a_silent_client_gets_408_after_the_read_timeout_and_the_connection_is_not_reused():
    client, server = socket.socketpair()
    client.sendall(b"half")
    environ = environ_for(sock=server, CONTENT_LENGTH="10")
    started = time.monotonic()
    status, _h, answer = call(BodyLimits(echo_app, LIMITS), environ)
    assert 0.3 <= time.monotonic() - started < 0.6
    assert status == "408 Request Timeout" and "nothing for 0.3 s" in answer["detail"]
    assert environ["wsgi.input"].failed is True  # gunicorn closes instead of draining
    assert server.gettimeout() is None  # the socket is left as it was found


def test_a_trickling_client_is_cut_off_at_the_deadline():
    client, server = socket.socketpair()
    stop = threading.Event()

    def trickle():
        while not stop.is_set():
            client.send(b"x")
            time.sleep(0.1)

    threading.Thread(target=trickle, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(BodyRefused) as refused:
        read_body(environ_for(sock=server, CONTENT_LENGTH="900"), LIMITS)
    stop.set()
    assert refused.value.status == 408 and 0.8 <= time.monotonic() - started < 1.1


def test_large_bodies_wait_on_disk_not_in_memory():
    body, length = read_body(environ_for(b"y" * 500, CONTENT_LENGTH="500"), LIMITS)
    assert length == 500 and body._rolled and body.read() == b"y" * 500  # spooled past 100 bytes


def test_requests_without_a_body_pass_straight_through():
    environ = {"REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO(b"")}
    status, _h, answer = call(BodyLimits(echo_app, LIMITS), environ)
    assert status == "200 OK" and answer["length"] is None


def test_a_disarmed_deadline_never_fires_and_an_armed_one_wakes_a_blocked_read():
    watchdog = Watchdog()
    client, server = socket.socketpair()
    kept = watchdog.arm(server, 0.1)
    assert watchdog.disarm(kept) is True
    time.sleep(0.2)
    client.sendall(b"still open")
    assert server.recv(100) == b"still open"
    fired = watchdog.arm(server, 0.2)
    started = time.monotonic()
    assert server.recv(100) == b""  # woken with end of file
    assert 0.15 <= time.monotonic() - started < 0.5 and fired.fired
    assert watchdog.disarm(fired) is False
