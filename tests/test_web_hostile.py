"""Hostile clients against a real ``vuoro serve`` (gunicorn) process, on either database.

Each case is answered within a second with a 4xx (slow clients: cut off at the configured
deadline), the process stays under 300 MB, and /healthz and an API call are answered within a
second meanwhile. The process runs with short timeouts (1 s without data, 2 s for a body or
headers) and a 2 MB body cap so the cases finish quickly; the defaults are documented in
docs/DEPLOYMENT.md.
"""

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests import factories as f
from tests.web_process import web_process
from vuoro.accounts.models import Role
from vuoro.calendars.models import Calendar, CalendarException
from vuoro.channels.models import InboundEmail, Mailbox
from vuoro.tickets.models import Ticket

SECRET = "s3cret-gateway"
MAX_BODY = 2_000_000
FAST = 1.0  # seconds: what "answered at once" means here
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 300  # 76.8 KB of binary-looking attachment


def message(tag: str) -> bytes:
    """A raw MIME message of about 81 KB: text and a base64 PDF attachment."""
    import base64

    encoded = base64.encodebytes(PDF)
    return (f"From: someone@outside.test\r\nTo: desk@vuoro.test\r\nSubject: Invoice {tag}\r\n"
            f"Message-ID: <{tag}@outside.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n"
            "Content-Type: text/plain\r\n\r\nThe invoice is attached.\r\n--b1\r\n"
            "Content-Type: application/pdf; name=invoice.pdf\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=invoice.pdf\r\n\r\n").encode() + encoded + b"--b1--\r\n"


@pytest.fixture(scope="module")
def web(django_db_setup, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("web")
    home = log_dir / "home"
    home.mkdir()
    with web_process(log_dir, HOME=str(home), XDG_RUNTIME_DIR="", VUORO_BODY_READ_TIMEOUT="1",
                     VUORO_BODY_DEADLINE="2", VUORO_HEADER_TIMEOUT="2",
                     VUORO_MAX_BODY_BYTES=str(MAX_BODY)) as process:
        process.home = home
        for _ in range(4):  # each gunicorn worker loads the URLs and the API on its first hit
            timed_get(process, "/api/v1/calendars")
        yield process
        print(f"\npeak RSS of the web process: {process.peak_rss_mb():.0f} MB")


@pytest.fixture
def box(transactional_db, world):
    return Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=world.other,
                                  inbound_secret=SECRET)


@pytest.fixture
def token(transactional_db, world):
    return f.api_token(f.user(Role.REQUESTER, organisation=world.org_a, username="caller", language="en"))


def connect(web) -> socket.socket:
    return socket.create_connection(("127.0.0.1", web.port), timeout=10)


def head(path: str, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", "Authorization: Bearer " + SECRET,
             "Content-Type: message/rfc822", *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def response_of(sock: socket.socket, timeout: float = 10) -> tuple[int | None, bytes]:
    """Status and body of the answer on ``sock``; (None, b"") when closed without one."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    if not data.startswith(b"HTTP/1.1 "):
        return None, b""
    header, _sep, body = data.partition(b"\r\n\r\n")
    return int(header.split()[1]), body


def chunked(data: bytes, size: int = 10_000) -> bytes:
    parts = [data[i:i + size] for i in range(0, len(data), size)]
    return b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts) + b"0\r\n\r\n"


def timed_get(web, path: str, token: str | None = None) -> tuple[int, float]:
    request = urllib.request.Request(web.base_url + path)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


def assert_still_serving(web, token: str) -> None:
    health, health_seconds = timed_get(web, "/healthz")
    api, api_seconds = timed_get(web, "/api/v1/calendars", token)
    assert health in (200, 503) and health_seconds < FAST, (health, health_seconds)
    assert api == 200 and api_seconds < FAST, (api, api_seconds)
    assert web.peak_rss_mb() < 300


@pytest.mark.parametrize("close", ["half-close", "close"])
def test_a_body_shorter_than_its_content_length_is_refused_and_nothing_filed(web, box, token, close):
    raw = message("short-" + close)
    sock = connect(web)
    started = time.monotonic()
    sock.sendall(head(f"/channels/inbound/{box.pk}/", Content_Length=str(len(raw))) + raw[:27_000])
    if close == "half-close":
        sock.shutdown(socket.SHUT_WR)
        status, body = response_of(sock)
        assert status == 400 and time.monotonic() - started < FAST
        assert json.loads(body) == {"detail": f"request body ended after 27000 of {len(raw)} bytes"}
    sock.close()
    assert_still_serving(web, token)
    assert (InboundEmail.objects.count(), Ticket.objects.count()) == (0, 0)


def test_a_chunked_upload_is_filed_whole(web, box, token):
    raw = message("chunked")
    sock = connect(web)
    started = time.monotonic()
    sock.sendall(head(f"/channels/inbound/{box.pk}/", Transfer_Encoding="chunked") + chunked(raw))
    status, body = response_of(sock)
    assert status == 202 and time.monotonic() - started < FAST, body
    filed = InboundEmail.objects.get()
    assert bytes(filed.raw) == raw and filed.size == len(raw)
    assert Ticket.objects.get().reference == json.loads(body)["ticket"]
    assert_still_serving(web, token)


def test_an_oversized_chunked_upload_is_refused_with_413(web, box, token):
    sock = connect(web)
    started = time.monotonic()
    sock.sendall(head(f"/channels/inbound/{box.pk}/", Transfer_Encoding="chunked"))
    try:
        sock.sendall(chunked(b"x" * (MAX_BODY + 100_000), size=65536))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed before taking it all
    status, body = response_of(sock)
    assert status == 413 and time.monotonic() - started < FAST
    assert json.loads(body) == {"detail": f"request body larger than {MAX_BODY} bytes"}
    assert_still_serving(web, token)
    assert InboundEmail.objects.count() == 0


def test_an_oversized_content_length_is_refused_before_reading(web, box, token):
    sock = connect(web)
    started = time.monotonic()
    sock.sendall(head(f"/channels/inbound/{box.pk}/", Content_Length=str(MAX_BODY + 1)))
    status, _body = response_of(sock)
    assert status == 413 and time.monotonic() - started < FAST
    assert_still_serving(web, token)


def stall_all(web, socks: list[socket.socket]) -> list[tuple[int | None, float]]:
    """Wait for every stalled client's outcome in parallel: (status or None, seconds)."""
    outcomes: list[tuple[int | None, float]] = [(None, 0.0)] * len(socks)
    started = time.monotonic()

    def wait(i: int) -> None:
        outcomes[i] = (response_of(socks[i], timeout=15)[0], time.monotonic() - started)

    threads = [threading.Thread(target=wait, args=(i,)) for i in range(len(socks))]
    for t in threads:
        t.start()
    return outcomes, threads


def test_slow_bodies_do_not_hold_the_server_and_are_cut_off(web, box, token):
    raw = message("slow")
    socks = []
    for _ in range(12):
        sock = connect(web)
        sock.sendall(head(f"/channels/inbound/{box.pk}/", Content_Length=str(len(raw))) + raw[:len(raw) // 2])
        socks.append(sock)
    outcomes, threads = stall_all(web, socks)
    time.sleep(0.3)
    assert_still_serving(web, token)  # while all twelve stall
    for t in threads:
        t.join()
    for sock in socks:
        sock.close()
    assert all(status in (408, None) for status, _s in outcomes), outcomes
    assert all(seconds < 1 + 1.5 for _status, seconds in outcomes), outcomes  # 1 s without data
    assert_still_serving(web, token)
    assert InboundEmail.objects.count() == 0


def test_trickling_bodies_are_cut_off_at_the_body_deadline(web, box, token):
    raw = message("trickle")
    socks = [connect(web) for _ in range(8)]
    for sock in socks:
        sock.sendall(head(f"/channels/inbound/{box.pk}/", Content_Length=str(len(raw))) + raw[:100])
    outcomes, threads = stall_all(web, socks)
    stop = time.monotonic() + 4
    sent = 100
    while time.monotonic() < stop and any(t.is_alive() for t in threads):
        for sock in socks:
            try:
                sock.send(raw[sent:sent + 1])  # a byte every half second: never 1 s without data
            except OSError:
                pass
        sent += 1
        time.sleep(0.5)
    assert_still_serving(web, token)
    for t in threads:
        t.join()
    for sock in socks:
        sock.close()
    assert all(status in (408, None) for status, _s in outcomes), outcomes
    assert all(seconds < 2 + 1.5 for _status, seconds in outcomes), outcomes  # the 2 s deadline
    assert InboundEmail.objects.count() == 0


def test_trickling_headers_are_cut_off_at_the_header_deadline(web, token):
    socks = [connect(web) for _ in range(12)]  # fewer than the 16 threads; nginx takes more
    for sock in socks:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    started = time.monotonic()
    closed_at: dict[int, float] = {}
    while len(closed_at) < len(socks) and time.monotonic() - started < 8:
        for i, sock in enumerate(socks):
            if i in closed_at:
                continue
            try:
                sock.send(b"X-A: b\r\n")
                sock.settimeout(0.01)
                if sock.recv(100) == b"":
                    closed_at[i] = time.monotonic() - started
            except TimeoutError:
                pass
            except OSError:
                closed_at[i] = time.monotonic() - started
        if time.monotonic() - started > 0.5:
            assert_still_serving(web, token)
        time.sleep(0.2)
    for sock in socks:
        sock.close()
    assert len(closed_at) == len(socks)
    # Each was cut off at its 2 s header deadline; some waited for a thread first.
    assert max(closed_at.values()) < 2 * 2 + 1.5, closed_at


def test_the_control_socket_is_in_the_data_directory_not_in_home(web):
    assert (web.data_dir / "gunicorn.ctl").is_socket()
    assert not any(web.home.rglob("*")), list(web.home.rglob("*"))


def test_a_due_date_is_the_same_from_every_web_worker(web, token):
    calendar = Calendar.objects.create(name="Once a year", holiday_country="")
    import datetime as dt

    CalendarException.objects.bulk_create(
        CalendarException(calendar=calendar, date=dt.date(year, 1, 1), start=dt.time(8), end=dt.time(9))
        for year in range(2000, 2140))
    for _ in range(6):  # both workers compile around 2000 first
        timed_get(web, f"/api/v1/calendars/{calendar.pk}/state?at=2000-06-01T12:00Z", token)
    answers = set()
    for _ in range(10):
        request = urllib.request.Request(
            web.base_url + f"/api/v1/calendars/{calendar.pk}/due?start=2026-06-01T12:00Z&duration=PT30H",
            headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            answers.add((answer.status, json.loads(answer.read())["due"]))
    assert answers == {(200, "2056-01-01T09:00:00+02:00")}
    assert len({pid for pid in web.gunicorn_pids()}) == 3  # master and two workers


def test_the_log_shows_no_server_errors(web):
    assert "Traceback" not in Path(web.log_path).read_text(errors="replace")
