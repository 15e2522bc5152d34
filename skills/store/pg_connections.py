"""PostgreSQL connections for one process: a small pool that survives server restarts and forks.

A thread borrows a connection for one transaction and gives it back. A connection found broken
(the server restarted, the network dropped) is discarded with every idle one (they are dead too),
and the next is made with backoff for up to RECONNECT_WINDOW_S; once that failed, callers get one
quick try each for FAIL_FAST_S instead of each waiting out the window again. After a fork the child
starts an empty pool: it never uses, or closes, its parent's sockets.
"""

from __future__ import annotations

import os
import threading
import time

import psycopg2

from skills.store.base import StoreError

RECONNECT_WINDOW_S = 5.0
FAIL_FAST_S = 1.0
CONNECT_TIMEOUT_S = 5
MAX_IDLE = 8
INHERITED: list = []  # a forked child's copies of its parent's connections: kept, never closed (that
# would send the server a Terminate on the parent's socket), never used


def is_connection_lost(conn, error: Exception) -> bool:
    """True when the error means the connection is gone (not a bad statement or a lock timeout)."""
    return bool(conn.closed) or isinstance(error, psycopg2.InterfaceError)


class ConnectionPool:
    def __init__(self, url: str, where: str):
        self._url = url
        self._where = where  # the URL without credentials, for messages
        self._lock = threading.Lock()
        self._idle: list = []
        self._pid = os.getpid()
        self._down_until = 0.0

    def get(self):
        with self._lock:
            self._after_fork()
            if self._idle:
                return self._idle.pop()
        return self.connect()

    def put(self, conn) -> None:
        with self._lock:
            if os.getpid() == self._pid and not conn.closed and len(self._idle) < MAX_IDLE:
                self._idle.append(conn)
                return
        _close(conn)

    def discard(self, conn, *, everything: bool = False) -> None:
        """Drop a connection after an error; with `everything`, the idle ones too (the server went away)."""
        if conn.closed:
            _close(conn)
        else:
            try:
                conn.rollback()
            except psycopg2.Error:
                _close(conn)
            else:
                self.put(conn)
        if everything:
            with self._lock:
                stale, self._idle = self._idle, []
            for each in stale:
                _close(each)

    def connect(self):
        """A new connection, retried with backoff while the server is (re)starting (a single try
        while it is known to be down, so that callers do not each wait out the window)."""
        window = 0.0 if time.monotonic() < self._down_until else RECONNECT_WINDOW_S
        deadline = time.monotonic() + window
        delay = 0.05
        while True:
            try:
                conn = psycopg2.connect(
                    self._url,
                    connect_timeout=CONNECT_TIMEOUT_S,
                    application_name="fibreflow-orchestrator",
                    keepalives=1,
                    keepalives_idle=10,
                    keepalives_interval=5,
                    keepalives_count=3,
                )
                self._down_until = 0.0
                return conn
            except psycopg2.Error as error:
                if time.monotonic() + delay > deadline:
                    self._down_until = time.monotonic() + FAIL_FAST_S
                    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                    raise StoreError(
                        f"PostgreSQL at {self._where} is unreachable ({detail}): check that it runs and that "
                        "ORCHESTRATOR_DATABASE_URL is right"
                    ) from error
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            mine = os.getpid() == self._pid
        for conn in idle:
            _close(conn) if mine else INHERITED.append(conn)

    def _after_fork(self) -> None:
        if os.getpid() != self._pid:
            INHERITED.extend(self._idle)
            self._idle = []
            self._pid = os.getpid()
            self._down_until = 0.0


def _close(conn) -> None:
    try:
        conn.close()
    except psycopg2.Error:
        pass  # already broken: nothing more to release
