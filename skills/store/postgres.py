"""The shared store: PostgreSQL at ORCHESTRATOR_DATABASE_URL, for several replicas and workers.

- Connections: a small pool per process (one connection per thread at a time), dropped and
  rebuilt after a fork (a child never touches its parent's sockets) and after the server restarts
  (a broken connection is discarded, a new one made with backoff, the operation retried once when
  that cannot apply it twice).
- Round trips: every operation but a ledger insert is one statement in autocommit, so one round
  trip (a claim included); a ledger insert is a transaction, never retried once COMMIT was sent.
- Claims: `FOR UPDATE SKIP LOCKED`, so concurrent claimers never wait for or share a task.
- Time: leases and rate-limit buckets use the database clock, so replicas' clocks need not agree.
- Wake-up: create_task NOTIFYs in its own statement; an idle claimer LISTENs on its own connection and
  wakes within milliseconds of the commit.
"""

from __future__ import annotations

import json
import os
import select
import threading
import time
import uuid

import psycopg2
import psycopg2.extensions

from skills.store.base import (
    MAX_ATTEMPTS,
    REASON_ATTEMPTS,
    REASON_WRITES,
    TASKS_CHANNEL,
    ClaimedTask,
    Store,
    StoreError,
    check_column,
    check_ledger_table,
    interrupted_result,
    task_body,
)
from skills.store.migrations import POSTGRES_MIGRATIONS, apply_pg_migrations
from skills.store.pg_connections import INHERITED, ConnectionPool, is_connection_lost

_ISO = '\'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\''
_TASK_COLUMNS = (
    "id, kind, request, status, http_status, result, error, attempts, "
    f"to_char(created_at AT TIME ZONE 'UTC', {_ISO}) AS created_at, "
    f"to_char(finished_at AT TIME ZONE 'UTC', {_ISO}) AS finished_at"
)
_EXPIRED = "status = 'running' AND lease_expires_at < clock_timestamp()"
BUCKET_PRUNE_EVERY = 1000  # take_token calls between deletions of buckets idle long enough to be full


def describe_url(url: str) -> str:
    """postgresql://host:port/db: where the data is, never who or with what password."""
    try:
        parts = psycopg2.extensions.parse_dsn(url)
    except psycopg2.ProgrammingError:
        return "postgresql://(unparsable ORCHESTRATOR_DATABASE_URL)"
    return f"postgresql://{parts.get('host', 'localhost')}:{parts.get('port', '5432')}/{parts.get('dbname', '')}"


class PostgresStore(Store):
    backend = "postgres"
    mark = "%s"

    def __init__(self, url: str, settings=None):
        self.where = describe_url(url)
        self._pool = ConnectionPool(url, self.where)
        self._listener = threading.local()
        self._bucket_calls = 0
        self.migrated_now = self._migrate()

    def _migrate(self) -> list[str]:
        conn = self._pool.get()
        try:
            conn.autocommit = False
            applied = apply_pg_migrations(conn, POSTGRES_MIGRATIONS)
        except psycopg2.Error as error:
            self._pool.discard(conn)
            raise StoreError(f"cannot migrate the schema in {self.where}: {_first_line(error)}") from error
        self._pool.put(conn)
        return applied

    # --- plumbing ------------------------------------------------------------------------------
    def _transaction(self, work, *, atomic: bool = False):
        """`work(cursor)` on a pooled connection, each statement its own transaction (one round trip),
        or with `atomic` all of them in one, committed at the end. A lost connection is replaced and
        the work run once more (every single-statement operation here is safe to repeat), except an
        atomic one lost at COMMIT: it may have been applied, and a second try could apply it twice."""
        for attempt in (1, 2):
            conn = self._pool.get()
            committing = False
            try:
                conn.autocommit = not atomic
                with conn.cursor() as cursor:
                    result = work(cursor)
                if atomic:
                    committing = True
                    conn.commit()
            except psycopg2.Error as error:
                lost = is_connection_lost(conn, error)
                self._pool.discard(conn, everything=lost)  # after a restart the idle ones are dead too
                if lost and attempt == 1 and not committing:
                    continue
                raise StoreError(f"PostgreSQL at {self.where} failed: {_first_line(error)}") from error
            self._pool.put(conn)
            return result

    def _read(self, sql: str, args=(), *, one: bool = False):
        def work(cursor):
            cursor.execute(sql, args)
            if one:
                return cursor.fetchone()
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

        return self._transaction(work)

    # --- ledger --------------------------------------------------------------------------------
    def insert_row(self, table: str, row: dict) -> int:
        check_ledger_table(table)
        columns = ", ".join(check_column(name) for name in row)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(row))}) RETURNING id"

        def work(cursor):
            cursor.execute(sql, tuple(row.values()))
            return cursor.fetchone()[0]

        return self._transaction(work, atomic=True)  # lost at COMMIT: not retried, it could book the row twice

    def _select(self, sql: str, args: list) -> list[dict]:
        return self._read(sql, args)

    def _delete(self, sql: str, args: list) -> int:
        return self._transaction(lambda cursor: cursor.execute(sql, args) or cursor.rowcount)

    # --- async tasks ---------------------------------------------------------------------------
    def create_task(self, kind: str, request: dict, *, writes: bool = False) -> str:
        task_id = uuid.uuid4().hex  # chosen here, so a retry after a lost COMMIT cannot queue it twice

        self._transaction(
            lambda cursor: cursor.execute(
                """WITH queued AS (
                       INSERT INTO http_tasks (id, kind, request, status, writes) VALUES (%s, %s, %s, 'queued', %s)
                       ON CONFLICT (id) DO NOTHING)
                   SELECT pg_notify(%s, '')""",  # one statement: the NOTIFY is delivered as it commits
                (task_id, kind, json.dumps(request), int(writes), TASKS_CHANNEL),
            )
        )
        return task_id

    def claim_task(self, owner: str, lease_s: float) -> ClaimedTask | None:
        return self._transaction(lambda cursor: _claim(cursor, owner, lease_s))

    def renew_lease(self, task_id: str, owner: str, lease_s: float) -> bool:
        sql = """UPDATE http_tasks SET lease_expires_at = clock_timestamp() + make_interval(secs => %s)
                  WHERE id = %s AND lease_owner = %s AND status = 'running'"""
        return self._changed(sql, (lease_s, task_id, owner))

    def mark_task_writes(self, task_id: str, owner: str) -> None:
        self._changed(
            "UPDATE http_tasks SET writes = 1 WHERE id = %s AND lease_owner = %s AND status = 'running'",
            (task_id, owner),
        )

    def finish_task(self, task_id: str, owner: str, *, ok: bool, http_status: int, result, error: str | None) -> bool:
        status, result_json = ("completed" if ok else "failed"), json.dumps(result)

        def work(cursor):
            cursor.execute(
                """UPDATE http_tasks SET status = %s, http_status = %s, result = %s, error = %s,
                       updated_at = clock_timestamp(), finished_at = clock_timestamp()
                   WHERE id = %s AND lease_owner = %s AND status = 'running'""",
                (status, http_status, result_json, error, task_id, owner),
            )
            if cursor.rowcount == 1:
                return True
            # the same end again (a retry after a COMMIT whose reply was lost): it is ours, already done
            cursor.execute(
                "SELECT 1 FROM http_tasks WHERE id = %s AND lease_owner = %s AND status = %s AND result = %s",
                (task_id, owner, status, result_json),
            )
            return cursor.fetchone() is not None

        return self._transaction(work)

    def release_task(self, task_id: str, owner: str) -> None:
        self._transaction(
            lambda cursor: cursor.execute(
                """WITH released AS (
                       UPDATE http_tasks SET status = 'queued', attempts = greatest(attempts - 1, 0),
                           lease_owner = NULL, lease_expires_at = NULL, updated_at = clock_timestamp()
                       WHERE id = %s AND lease_owner = %s AND status = 'running')
                   SELECT pg_notify(%s, '')""",
                (task_id, owner, TASKS_CHANNEL),
            )
        )

    def _changed(self, sql: str, args: tuple) -> bool:
        def work(cursor):
            cursor.execute(sql, args)
            return cursor.rowcount == 1

        return self._transaction(work)

    def get_task(self, task_id: str) -> dict | None:
        found = self._read(f"SELECT {_TASK_COLUMNS} FROM http_tasks WHERE id = %s", (task_id,))
        return task_body(found[0]) if found else None

    def count_unfinished(self) -> int:
        return self._read("SELECT count(*) FROM http_tasks WHERE status IN ('queued', 'running')", one=True)[0]

    def wait_for_task(self, timeout_s: float) -> None:
        """LISTEN on this thread's own connection; a NOTIFY (a task queued anywhere) wakes it."""
        try:
            conn = self._listening_connection()
            if conn is None:  # just started listening: anything queued before is for the caller to claim now
                return
            conn.poll()
            if not conn.notifies:
                readable, _, _ = select.select([conn], [], [], max(0.0, timeout_s))
                if readable:
                    conn.poll()
            conn.notifies.clear()
        except (psycopg2.Error, OSError, StoreError):
            self._forget_listener()
            time.sleep(min(max(0.0, timeout_s), 0.5))  # the caller's next claim reconnects or says why not

    def _listening_connection(self):
        held = getattr(self._listener, "held", None)
        if held and held[0] == os.getpid() and not held[1].closed:
            return held[1]
        self._forget_listener()
        conn = self._pool.connect()
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f"LISTEN {TASKS_CHANNEL}")
        self._listener.held = (os.getpid(), conn)
        return None

    def _forget_listener(self) -> None:
        held = getattr(self._listener, "held", None)
        self._listener.held = None
        if held and held[0] == os.getpid():
            held[1].close()
        elif held:
            INHERITED.append(held[1])  # a forked child must not close its parent's socket

    def prune_tasks(self, keep_days: int) -> int:
        sql = "DELETE FROM http_tasks WHERE finished_at < clock_timestamp() - make_interval(days => %s)"
        return self._transaction(lambda cursor: cursor.execute(sql, (int(keep_days),)) or cursor.rowcount)

    # --- rate limit ----------------------------------------------------------------------------
    def take_token(self, client: str, per_minute: int) -> float:
        """One atomic upsert on the database clock: concurrent requests from every replica queue on the
        client's row, each sees the last one's tokens, so the total never exceeds the limit."""
        if per_minute <= 0:
            return 0.0
        rate = per_minute / 60.0
        refill = "least(%(cap)s, b.tokens + greatest(0, extract(epoch FROM now() - b.updated_at)) * %(rate)s)"
        sql = f"""INSERT INTO rate_buckets AS b (client, tokens, allowed, updated_at)
                  VALUES (%(client)s, %(cap)s - 1, true, now())
                  ON CONFLICT (client) DO UPDATE SET
                      tokens = CASE WHEN {refill} >= 1 THEN {refill} - 1 ELSE {refill} END,
                      allowed = {refill} >= 1, updated_at = now()
                  RETURNING tokens, allowed"""
        args = {"client": client, "cap": float(per_minute), "rate": rate}
        self._bucket_calls += 1
        prune = self._bucket_calls % BUCKET_PRUNE_EVERY == 0

        def work(cursor):
            cursor.execute(sql, args)
            tokens, allowed = cursor.fetchone()
            if prune:  # a bucket idle for over a minute is full again: its row says nothing
                cursor.execute("DELETE FROM rate_buckets WHERE updated_at < now() - interval '2 minutes'")
            return 0.0 if allowed else (1 - tokens) / rate

        return self._transaction(work)

    # --- health --------------------------------------------------------------------------------
    def writable(self) -> bool:
        try:
            return not self._read("SELECT pg_is_in_recovery()", one=True)[0]
        except StoreError:
            return False

    def describe(self) -> str:
        return self.where

    def close(self) -> None:
        self._forget_listener()
        self._pool.close()


def _claim(cursor, owner: str, lease_s: float) -> ClaimedTask | None:
    """One statement: end the expired tasks that may not run again, and take the oldest claimable one.

    SKIP LOCKED passes over rows another claimer holds instead of waiting for them. The two sets are
    disjoint (writing or tried-out vs neither), so one statement can change both."""
    cursor.execute(
        f"""WITH ended AS (
                UPDATE http_tasks SET status = 'failed', http_status = 500,
                    error = CASE WHEN writes = 1 THEN %(writes_reason)s ELSE %(attempts_reason)s END,
                    result = CASE WHEN writes = 1 THEN %(writes_result)s ELSE %(attempts_result)s END,
                    updated_at = clock_timestamp(), finished_at = clock_timestamp()
                WHERE id IN (SELECT id FROM http_tasks WHERE {_EXPIRED} AND (writes = 1 OR attempts >= %(max)s)
                             FOR UPDATE SKIP LOCKED)),
            next AS (
                SELECT id FROM http_tasks
                WHERE status = 'queued' OR ({_EXPIRED} AND writes = 0 AND attempts < %(max)s)
                ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
            UPDATE http_tasks AS t SET status = 'running', lease_owner = %(owner)s,
                lease_expires_at = clock_timestamp() + make_interval(secs => %(lease_s)s),
                claimed_at = clock_timestamp(), attempts = t.attempts + 1, updated_at = clock_timestamp()
            FROM next WHERE t.id = next.id
            RETURNING t.id, t.kind, t.request, t.attempts, t.writes""",
        {
            "writes_reason": REASON_WRITES,
            "writes_result": interrupted_result(REASON_WRITES),
            "attempts_reason": REASON_ATTEMPTS,
            "attempts_result": interrupted_result(REASON_ATTEMPTS),
            "max": MAX_ATTEMPTS,
            "owner": owner,
            "lease_s": lease_s,
        },
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return ClaimedTask(row[0], row[1], json.loads(row[2]), row[3], bool(row[4]))


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
