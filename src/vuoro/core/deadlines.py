"""Deadlines on sockets: when one passes, the socket's read side is shut.

A thread blocked in ``recv()`` on a socket whose read side is shut wakes at once with end of
file, so a request cannot hold a server thread past its deadline, however it trickles its
bytes. The write side stays open: the server can still answer (e.g. 408) before closing.

One daemon thread per process serves every deadline (a heap; no thread per request). No
Django imports: the gunicorn worker class uses it before Django is set up.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass(eq=False)
class Deadline:
    """One armed deadline; ``fired`` is True once the socket's read side was shut for it."""

    at: float
    sock: socket.socket = field(repr=False)
    fired: bool = False
    cancelled: bool = False


class Watchdog:
    """Shuts the read side of sockets whose deadline passed.

    Guarantees: a deadline fires at most once, never after ``disarm`` returned, and no later
    than about 10 ms after it is due.
    """

    def __init__(self) -> None:
        self._wakeup = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._pid: int | None = None

    def arm(self, sock: socket.socket, seconds: float) -> Deadline:
        deadline = Deadline(time.monotonic() + seconds, sock)
        with self._wakeup:
            self._start_once()
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            self._wakeup.notify()
        return deadline

    def disarm(self, deadline: Deadline | None) -> bool:
        """Cancel ``deadline``; True when it had not fired."""
        if deadline is None:
            return True
        with self._wakeup:
            deadline.cancelled = True
            return not deadline.fired

    def _start_once(self) -> None:
        # A forked child (a gunicorn worker) has the parent's heap but not its thread.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._heap.clear()
            threading.Thread(target=self._run, name="vuoro-deadlines", daemon=True).start()

    def _run(self) -> None:
        with self._wakeup:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].cancelled or self._heap[0][0] <= now):
                    _at, _n, deadline = heapq.heappop(self._heap)
                    if not deadline.cancelled:
                        deadline.fired = True
                        _shut_read_side(deadline.sock)
                timeout = self._heap[0][0] - now if self._heap else None
                self._wakeup.wait(timeout)


def _shut_read_side(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass  # already closed by its owner: nothing left to stop


WATCHDOG = Watchdog()
