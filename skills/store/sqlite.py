"""The embedded store: SQLite in the state directory (`ledger.sqlite3`), for one machine.

WAL mode, so readers never wait and several processes (the server, scripts, a worker) write the
same file; every write is its own short `BEGIN IMMEDIATE` transaction that waits on a busy timeout
rather than failing. A claim is one such transaction, so two claimers never get the same task.
A connection per operation (well under a millisecond next to an agent run) keeps this thread- and
fork-safe and lets a full or read-only state directory recover by itself once fixed.

The rate limit is a token bucket in this process's memory: one machine runs one server, and
writing a row per HTTP request to a file would cost more than the limit protects.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid

from skills.file_cache import identity
from skills.store.base import (
    MAX_ATTEMPTS,
    REASON_ATTEMPTS,
    REASON_WRITES,
    ClaimedTask,
    Store,
    StoreError,
    check_column,
    check_ledger_table,
    interrupted_result,
    task_body,
)
from skills.store.buckets import MemoryBuckets
from skills.store.migrations import SQLITE_MIGRATIONS, apply_migrations, open_sqlite

LEDGER_FILE = "ledger.sqlite3"
WAIT_POLL_S = 0.02  # how often an idle claimer looks for tasks queued by another process
# The look is a stat of the database and its WAL (microseconds); the query (~0.6 ms with its
# connection) runs only when they changed, or FULL_CHECK_S after the last one: a lease expires
# without any write, and two commits within one coarse mtime tick may leave the same stamp.
FULL_CHECK_S = 1.0
UNUSABLE_PAUSE_S = 0.5  # an idle claimer's pause when the ledger cannot be read
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
# A lease ran out, or an older release's server left the task `processing` (it resumed tasks at its
# own start instead of leasing them): either way its last holder is gone.
_EXPIRED = "((status = 'running' AND lease_expires_at < ?) OR status = 'processing')"
_TASK_COLUMNS = "id, kind, request, status, http_status, result, error, attempts, created_at, finished_at"


def _unusable(what: str, path: str, error: Exception) -> StoreError:
    return StoreError(f"{what} ({path}): {error}")


class SQLiteStore(Store):
    backend = "sqlite"
    mark = "?"

    def __init__(self, state_dir: str, settings=None):
        self.path = os.path.join(state_dir, LEDGER_FILE)
        self._queued = threading.Condition()  # create_task in this process wakes waiting claimers at once
        self._buckets = MemoryBuckets()
        try:
            os.makedirs(state_dir, exist_ok=True)
            self.migrated_now = self._migrate()  # names applied by this process (tests, logs)
        except (OSError, sqlite3.Error) as error:
            raise _unusable("cannot open the ledger", self.path, error) from error

    def _migrate(self) -> list[str]:
        conn = open_sqlite(self.path)
        try:
            return apply_migrations(conn, SQLITE_MIGRATIONS)
        finally:
            conn.close()

    # --- plumbing ------------------------------------------------------------------------------
    def _run(self, work, *, write: bool):
        """`work(conn)` in one transaction (IMMEDIATE when it writes); sqlite3/OS errors -> StoreError.

        A file deleted or replaced under us (no tables) is migrated again and the work retried once."""
        for attempt in (1, 2):
            try:
                conn = open_sqlite(self.path)
            except (OSError, sqlite3.Error) as error:
                raise _unusable("cannot open the ledger", self.path, error) from error
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                result = work(conn)
                conn.execute("COMMIT")
                return result
            except sqlite3.OperationalError as error:
                _rollback(conn)
                if attempt == 1 and "no such table" in str(error):
                    self._migrate()
                    continue
                raise _unusable("cannot use the ledger", self.path, error) from error
            except (OSError, sqlite3.Error) as error:
                _rollback(conn)
                raise _unusable("cannot use the ledger", self.path, error) from error
            finally:
                conn.close()

    # --- ledger --------------------------------------------------------------------------------
    def insert_row(self, table: str, row: dict) -> int:
        check_ledger_table(table)
        columns = ", ".join(check_column(name) for name in row)
        marks = ", ".join("?" for _ in row)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        return self._run(lambda conn: conn.execute(sql, tuple(row.values())).lastrowid, write=True)

    def _select(self, sql: str, args: list) -> list[dict]:
        return self._run(lambda conn: [dict(row) for row in conn.execute(sql, args)], write=False)

    def _delete(self, sql: str, args: list) -> int:
        return self._run(lambda conn: conn.execute(sql, args).rowcount, write=True)

    # --- async tasks ---------------------------------------------------------------------------
    def create_task(self, kind: str, request: dict, *, writes: bool = False) -> str:
        task_id = uuid.uuid4().hex
        self._run(
            lambda conn: conn.execute(
                "INSERT INTO http_tasks (id, kind, request, status, writes) VALUES (?, ?, ?, 'queued', ?)",
                (task_id, kind, json.dumps(request), int(writes)),
            ),
            write=True,
        )
        with self._queued:
            self._queued.notify_all()
        return task_id

    def claim_task(self, owner: str, lease_s: float) -> ClaimedTask | None:
        return self._run(lambda conn: _claim(conn, owner, lease_s, time.time()), write=True)

    def renew_lease(self, task_id: str, owner: str, lease_s: float) -> bool:
        sql = "UPDATE http_tasks SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND status = 'running'"
        args = (time.time() + lease_s, task_id, owner)
        return self._run(lambda conn: conn.execute(sql, args).rowcount == 1, write=True)

    def mark_task_writes(self, task_id: str, owner: str) -> None:
        sql = "UPDATE http_tasks SET writes = 1 WHERE id = ? AND lease_owner = ? AND status = 'running'"
        self._run(lambda conn: conn.execute(sql, (task_id, owner)), write=True)

    def finish_task(self, task_id: str, owner: str, *, ok: bool, http_status: int, result, error: str | None) -> bool:
        status, result_json = ("completed" if ok else "failed"), json.dumps(result)

        def work(conn):
            ended = conn.execute(
                f"""UPDATE http_tasks SET status = ?, http_status = ?, result = ?, error = ?,
                        updated_at = {_NOW}, finished_at = {_NOW}
                    WHERE id = ? AND lease_owner = ? AND status = 'running'""",
                (status, http_status, result_json, error, task_id, owner),
            )
            if ended.rowcount == 1:
                return True
            # the same end again (a caller retrying after an error): it is ours, already done
            same = "SELECT 1 FROM http_tasks WHERE id = ? AND lease_owner = ? AND status = ? AND result = ?"
            return conn.execute(same, (task_id, owner, status, result_json)).fetchone() is not None

        return self._run(work, write=True)

    def release_task(self, task_id: str, owner: str) -> None:
        sql = f"""UPDATE http_tasks SET status = 'queued', attempts = max(attempts - 1, 0), lease_owner = NULL,
                      lease_expires_at = NULL, updated_at = {_NOW}
                  WHERE id = ? AND lease_owner = ? AND status = 'running'"""
        self._run(lambda conn: conn.execute(sql, (task_id, owner)), write=True)
        with self._queued:
            self._queued.notify_all()

    def get_task(self, task_id: str) -> dict | None:
        sql = f"SELECT {_TASK_COLUMNS} FROM http_tasks WHERE id = ?"
        row = self._run(lambda conn: conn.execute(sql, (task_id,)).fetchone(), write=False)
        return task_body(dict(row)) if row else None

    def count_unfinished(self) -> int:
        sql = "SELECT count(*) FROM http_tasks WHERE status IN ('queued', 'running', 'processing')"
        return self._run(lambda conn: conn.execute(sql).fetchone()[0], write=False)

    def wait_for_task(self, timeout_s: float) -> None:
        """Return when this process queued a task (at once) or another one did (within WAIT_POLL_S)."""
        deadline = time.monotonic() + timeout_s
        seen, checked = None, 0.0
        while True:
            stamp, now = self._files_stamp(), time.monotonic()
            if stamp != seen or now - checked >= FULL_CHECK_S:
                if self._claimable():
                    return
                seen, checked = stamp, now
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with self._queued:
                if self._queued.wait(min(WAIT_POLL_S, remaining)):
                    return

    def _files_stamp(self) -> tuple:
        """What changes when any process commits: the WAL's and the database file's size and mtime."""
        stamp = []
        for path in (self.path + "-wal", self.path):
            try:
                stamp.append(identity(path))
            except OSError:
                stamp.append(None)
        return tuple(stamp)

    def _claimable(self) -> bool:
        """Is there work for a claimer? An unreadable ledger says yes after a pause (the caller's
        claim then reports why, and a claim loop does not spin)."""
        sql = f"SELECT EXISTS (SELECT 1 FROM http_tasks WHERE status = 'queued' OR {_EXPIRED})"
        try:
            return bool(self._run(lambda conn: conn.execute(sql, (time.time(),)).fetchone()[0], write=False))
        except StoreError:
            time.sleep(UNUSABLE_PAUSE_S)
            return True

    def prune_tasks(self, keep_days: int) -> int:
        sql = "DELETE FROM http_tasks WHERE finished_at IS NOT NULL AND finished_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)"
        return self._run(lambda conn: conn.execute(sql, (f"-{int(keep_days)} days",)).rowcount, write=True)

    # --- rate limit ----------------------------------------------------------------------------
    def take_token(self, client: str, per_minute: int) -> float:
        return self._buckets.take(client, per_minute) if per_minute > 0 else 0.0

    # --- health --------------------------------------------------------------------------------
    def writable(self) -> bool:
        """Can we take the write lock right now? (Taken and released at once; 2 s at most.)"""
        try:
            conn = open_sqlite(self.path, timeout_s=2.0)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
            finally:
                conn.close()
            return True
        except (OSError, sqlite3.Error):
            return False

    def describe(self) -> str:
        return self.path


def _claim(conn: sqlite3.Connection, owner: str, lease_s: float, now: float) -> ClaimedTask | None:
    """Inside BEGIN IMMEDIATE (one writer at a time): end what may not be re-run, then take the oldest."""
    end_interrupted = f"""UPDATE http_tasks SET status = 'failed', http_status = 500, error = ?, result = ?,
                              updated_at = {_NOW}, finished_at = {_NOW} WHERE {_EXPIRED} AND """
    conn.execute(end_interrupted + "writes = 1", (REASON_WRITES, interrupted_result(REASON_WRITES), now))
    conn.execute(
        end_interrupted + "writes = 0 AND attempts >= ?",
        (REASON_ATTEMPTS, interrupted_result(REASON_ATTEMPTS), now, MAX_ATTEMPTS),
    )
    row = conn.execute(
        f"""SELECT id, kind, request, attempts, writes FROM http_tasks
            WHERE status = 'queued' OR ({_EXPIRED} AND writes = 0 AND attempts < ?)
            ORDER BY rowid LIMIT 1""",
        (now, MAX_ATTEMPTS),
    ).fetchone()
    if row is None:
        return None
    conn.execute(
        f"""UPDATE http_tasks SET status = 'running', lease_owner = ?, lease_expires_at = ?, claimed_at = ?,
                attempts = attempts + 1, updated_at = {_NOW}
            WHERE id = ?""",
        (owner, now + lease_s, now, row["id"]),
    )
    return ClaimedTask(row["id"], row["kind"], json.loads(row["request"]), row["attempts"] + 1, bool(row["writes"]))


def _rollback(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # nothing open, or the connection is already unusable: it is closed next anyway
