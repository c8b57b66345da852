"""The gunicorn worker ``vuoro serve`` runs: gunicorn's threaded worker with two guards.

- Request line and headers must arrive within ``VUORO_HEADER_TIMEOUT`` seconds (default 10)
  of a thread taking the connection; a client trickling its headers (slowloris) has the read
  side of its socket shut then and the connection is closed. gunicorn itself bounds only the
  wait for a connection's first byte (5 s), not the headers that follow.
- A worker whose threads are all busy stops accepting connections, so the kernel hands new
  ones to a worker with a free thread instead of queueing them behind slow clients.
- A connection that ends is closed gracefully (FIN, then up to ``CLOSE_LINGER`` s for the
  client's own) in its worker thread. gthread does this on its main loop, where a client that
  never closes stalls accepting and every other connection of the worker for 2 s.

Request bodies are bounded by ``vuoro.core.http_limits`` inside the application. No Django
imports: gunicorn loads the worker class before the application.
"""

import os

from gunicorn import util
from gunicorn.workers import gthread

from vuoro.core.deadlines import WATCHDOG

HEADER_TIMEOUT = float(os.environ.get("VUORO_HEADER_TIMEOUT", "10"))
# Web processes yield the CPU to the task worker (pager, senders) on a shared host: in a burst
# the pages of the requests already taken in go out before the next requests are taken in.
WEB_NICE = int(os.environ.get("VUORO_WEB_NICE", "10"))
CLOSE_LINGER = 0.5


class ThreadWorker(gthread.ThreadWorker):
    """gthread with a header deadline and accepting only while a thread is free."""

    _busy = 0
    _max_connections = 1000

    @property  # type: ignore[override]
    def worker_connections(self) -> int:
        """gthread accepts while ``nr_conns < worker_connections``: none while all threads work."""
        return self._max_connections if self._busy < self.cfg.threads else 0

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        self._max_connections = value

    def init_process(self) -> None:
        if WEB_NICE > 0:
            os.nice(WEB_NICE)
        super().init_process()

    def enqueue_req(self, conn):  # type: ignore[no-untyped-def]
        self._busy += 1  # main thread only, like finish_request
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):  # type: ignore[no-untyped-def]
        self._busy -= 1
        if getattr(conn, "closed_in_thread", False):
            self.nr_conns -= 1
            return
        super().finish_request(conn, fs)

    def handle(self, conn):  # type: ignore[no-untyped-def]
        conn.header_deadline = WATCHDOG.arm(conn.sock, HEADER_TIMEOUT)
        try:
            result = super().handle(conn)
        finally:
            WATCHDOG.disarm(conn.header_deadline)
        if result is False:
            util.close_graceful(conn.sock, timeout=CLOSE_LINGER)
            conn.closed_in_thread = True
        return result

    def handle_request(self, req, conn):  # type: ignore[no-untyped-def]
        WATCHDOG.disarm(conn.header_deadline)  # the headers are in
        return super().handle_request(req, conn)
