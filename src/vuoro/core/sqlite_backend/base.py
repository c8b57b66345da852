"""SQLite with writers that take turns promptly: Vuoro's embedded database backend.

SQLite lets one writer in at a time. A writer that finds the database locked sleeps in
SQLite's busy handler in growing steps (up to 100 ms) and retries, so under a burst the one
that has waited longest is often not the one that gets in: a page notification could wait
seconds behind intakes that came later. Here every write transaction (``BEGIN IMMEDIATE``)
first takes an exclusive ``flock`` on ``<database>-writer.lock``, polled every few
milliseconds, and releases it at commit or rollback; the lock is the kernel's, so a process
that dies holding it lets go at once.

Guarantees: reads never take the lock; a transaction holds it from BEGIN to COMMIT/ROLLBACK
only; waiting longer than the connection's ``writer_wait_seconds`` (the ``timeout`` option, or
less where a caller sets it, like the pager) raises "database is locked" as SQLite would.
"""

import fcntl
import os
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

POLL_FIRST, POLL_MAX = 0.0005, 0.004


class DatabaseWrapper(base.DatabaseWrapper):
    writer_wait_seconds: float | None = None
    _writer_fd: int | None = None
    _writer_held = False

    def _lock_path(self) -> str | None:
        name = str(self.settings_dict.get("NAME") or "")
        if not name or self.is_in_memory_db():
            return None
        return f"{name}-writer.lock"

    def _take_writer_lock(self) -> None:
        path = self._lock_path()
        if path is None or self._writer_held:
            return
        if self._writer_fd is None:
            self._writer_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        wait = self.writer_wait_seconds
        if wait is None:
            wait = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 20))
        deadline = time.monotonic() + wait
        pause = POLL_FIRST
        while True:
            try:
                fcntl.flock(self._writer_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._writer_held = True
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, POLL_MAX)

    def _release_writer_lock(self) -> None:
        if self._writer_held and self._writer_fd is not None:
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
        self._writer_held = False

    def _start_transaction_under_autocommit(self) -> None:
        self._take_writer_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self):  # type: ignore[no-untyped-def]
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):  # type: ignore[no-untyped-def]
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):  # type: ignore[no-untyped-def]
        try:
            return super()._close()
        finally:
            self._release_writer_lock()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None
