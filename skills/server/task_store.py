"""Asynchronous tasks (`POST /orchestrator/execute-async`), kept in the ledger so a restart loses none.

A task is a row: its request, its status (processing, completed, failed), the answer and the
HTTP status that answer carries. On start the server asks `recover()` for the rows a previous
run left in `processing`: each is resumed once more (agent tools are read-only, so running one
again is safe) or, when it has already been tried `MAX_ATTEMPTS` times, marked failed with the
reason. A connection per operation keeps this simple and thread-safe; each costs well under a
millisecond next to an agent run of seconds.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid

from skills.store.migrations import apply_migrations, open_sqlite

MAX_ATTEMPTS = 2  # the first run plus one resume after a restart
KEEP_DAYS = 7  # finished tasks older than this are deleted at start


def _create_tasks(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE http_tasks (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            request TEXT NOT NULL,
            status TEXT NOT NULL,
            http_status INTEGER,
            result TEXT,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            finished_at TEXT
        )"""
    )
    conn.execute("CREATE INDEX http_tasks_status ON http_tasks (status)")


MIGRATIONS = [("http_tasks_create", _create_tasks)]

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


def db_path(settings) -> str:
    """The ledger's file: tasks sit beside the executions they ran (own table, own migrations)."""
    from skills.ledger import ledger_path

    return ledger_path(settings)


class TaskStore:
    def __init__(self, path: str):
        self.path = path
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        conn = open_sqlite(path)
        try:
            apply_migrations(conn, MIGRATIONS)
        finally:
            conn.close()

    def _conn(self) -> sqlite3.Connection:
        return open_sqlite(self.path)

    def _run(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        conn = self._conn()
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def create(self, kind: str, request: dict) -> str:
        task_id = uuid.uuid4().hex
        self._run(
            "INSERT INTO http_tasks (id, kind, request, status) VALUES (?, ?, ?, 'processing')",
            (task_id, kind, json.dumps(request)),
        )
        return task_id

    def started(self, task_id: str) -> None:
        self._run(f"UPDATE http_tasks SET attempts = attempts + 1, updated_at = {_NOW} WHERE id = ?", (task_id,))

    def finish(
        self, task_id: str, *, ok: bool, http_status: int, result: dict | list, error: str | None = None
    ) -> None:
        self._run(
            f"""UPDATE http_tasks SET status = ?, http_status = ?, result = ?, error = ?,
                updated_at = {_NOW}, finished_at = {_NOW} WHERE id = ?""",
            ("completed" if ok else "failed", http_status, json.dumps(result), error, task_id),
        )

    def get(self, task_id: str) -> dict | None:
        rows = self._run("SELECT * FROM http_tasks WHERE id = ?", (task_id,))
        if not rows:
            return None
        row = rows[0]
        body = {
            "task_id": row["id"],
            "status": row["status"],
            "kind": row["kind"],
            "created_at": row["created_at"],
            "finished_at": row["finished_at"],
            "attempts": row["attempts"],
        }
        if row["result"] is not None:
            body["result"] = json.loads(row["result"])
            body["http_status"] = row["http_status"]
        if row["error"]:
            body["error"] = row["error"]
        return body

    def count_processing(self) -> int:
        return self._run("SELECT count(*) FROM http_tasks WHERE status = 'processing'")[0][0]

    def recover(self) -> list[tuple[str, str, dict]]:
        """Rows a previous run left unfinished: give up on those tried enough, return the rest."""
        reason = (
            f"the server stopped while this task was running, {MAX_ATTEMPTS} times; "
            "it was not retried again: submit it anew if you still need it"
        )
        self._run(
            f"""UPDATE http_tasks SET status = 'failed', http_status = 500, error = ?,
                result = json_object('error', ?, 'code', 'interrupted'),
                updated_at = {_NOW}, finished_at = {_NOW}
                WHERE status = 'processing' AND attempts >= ?""",
            (reason, reason, MAX_ATTEMPTS),
        )
        rows = self._run("SELECT id, kind, request FROM http_tasks WHERE status = 'processing' ORDER BY created_at")
        return [(row["id"], row["kind"], json.loads(row["request"])) for row in rows]

    def prune(self, keep_days: int = KEEP_DAYS) -> int:
        conn = self._conn()
        try:
            cursor = conn.execute(
                "DELETE FROM http_tasks WHERE status != 'processing' AND finished_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)",
                (f"-{int(keep_days)} days",),
            )
            return cursor.rowcount
        finally:
            conn.close()

    def writable(self) -> bool:
        """Can we write the database right now? (Takes and releases the write lock.)"""
        try:
            conn = open_sqlite(self.path, timeout_s=2.0)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
            finally:
                conn.close()
            return True
        except sqlite3.Error:
            return False
