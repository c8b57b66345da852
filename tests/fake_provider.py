"""A notification provider on loopback: records every request and answers as it is told.

It plays a webhook receiver, an SMS gateway (SMSEagle's JSON-RPC answer), Slack's webhook
("ok") and a Teams workflow (any 2xx). Nothing leaves the machine.

    provider = FakeProvider().start()          # or FakeProvider(tls=True) for https
    provider.url("/hook")                      # http://127.0.0.1:<port>/hook
    provider.set_mode("status", status=500, times=2)   # the next two requests get a 500
    provider.set_mode("delay", delay=2.0, path="/slow")  # answer late, past the client timeout
    provider.set_mode("close", times=1)        # drop the connection without an answer
    provider.received()                        # [Received(method, path, query, headers, body, json, at)]
    provider.count("/hook")                    # requests whose path starts with "/hook"
    provider.stop()

Modes apply to the next ``times`` matching requests (``None``: until changed), optionally only
to paths starting with ``path``; requests no mode matches are answered 200. Every request is
recorded before it is answered, including those answered with an error or late. Thread-safe.
With ``tls=True`` a throwaway self-signed certificate for 127.0.0.1 is made with ``openssl``;
``cert_path`` is the file a client should trust (e.g. ``REQUESTS_CA_BUNDLE``).
"""

import json
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

MODES = ("ok", "status", "delay", "close")
OK_JSON = json.dumps({"result": {"message_id": 1, "status": "ok"}}).encode()
DEFAULT_REPLIES = {"/services/": b"ok"}  # Slack's incoming webhooks answer a bare "ok"


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: object = None
    at: float = field(default_factory=time.time)  # wall clock when it arrived

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass
class _Rule:
    mode: str
    status: int = 200
    times: int | None = None
    path: str | None = None
    delay: float = 0.0

    def matches(self, path: str) -> bool:
        return (self.times is None or self.times > 0) and (self.path is None or path.startswith(self.path))


@dataclass
class _State:
    rules: list[_Rule] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    replies: dict[str, bytes] = field(default_factory=dict)

    def take(self, request: Received) -> _Rule:
        """Record the request and pick its rule, both under one lock."""
        with self.lock:
            self.received.append(request)
            for rule in self.rules:
                if rule.matches(request.path):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return _Rule("ok")

    def reply_for(self, path: str) -> bytes:
        return next((body for prefix, body in self.replies.items() if path.startswith(prefix)), OK_JSON)


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            parts = urlsplit(self.path)
            rule = state.take(Received(self.command, parts.path, dict(parse_qsl(parts.query)),
                                       dict(self.headers.items()), body, parsed))
            if rule.mode == "close":
                self.close_connection = True
                self.connection.close()
                return
            if rule.mode == "delay":
                state.stopping.wait(rule.delay)
            status = rule.status if rule.mode == "status" else 200
            answer = state.reply_for(parts.path) if status < 300 else json.dumps(
                {"error": f"fake provider answered {status}"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            try:
                self.wfile.write(answer)
            except OSError:  # the client gave up (timeout): nothing to tell it
                pass

        do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


def _self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


class FakeProvider:
    def __init__(self, *, tls: bool = False, replies: dict[str, bytes] | None = None) -> None:
        self.tls = tls
        self._state = _State(replies={**DEFAULT_REPLIES, **(replies or {})})
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.cert_path: str | None = None

    def start(self) -> "FakeProvider":
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self._state))
        server.daemon_threads = True
        if self.tls:
            self._tmp = tempfile.TemporaryDirectory()
            cert, key = _self_signed(Path(self._tmp.name))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            self.cert_path = str(cert)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._state.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "FakeProvider":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the provider first"
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}{path}"

    def set_mode(self, mode: str = "ok", *, status: int = 200, times: int | None = None,
                 path: str | None = None, delay: float = 0.0) -> None:
        """Answer the next ``times`` requests (to ``path``…) this way; ``"ok"`` clears all modes."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        with self._state.lock:
            if mode == "ok" and times is None and path is None:
                self._state.rules.clear()
            else:
                self._state.rules.append(_Rule(mode, status, times, path, delay))

    def received(self, path: str | None = None) -> list[Received]:
        with self._state.lock:
            return [r for r in self._state.received if path is None or r.path.startswith(path)]

    def count(self, path: str | None = None) -> int:
        return len(self.received(path))

    def reset(self) -> None:
        """Forget recorded requests and modes."""
        with self._state.lock:
            self._state.received.clear()
            self._state.rules.clear()
