"""The usage ledger: every execution, routing-fallback model call and routing verdict, in SQLite,
so statistics come from facts.

One file (`ledger.sqlite3` in the state directory), WAL mode so several processes can write
at once; each insert is its own short IMMEDIATE transaction and waits on a busy timeout
rather than failing, so concurrent scripts lose no rows. Queries, errors and tool
arguments pass through `redact` first: secrets and connection strings never go in.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from dataclasses import dataclass, field

from skills.redaction import redact
from skills.store.migrations import apply_migrations, open_sqlite

MAX_QUERY_CHARS = 2000


def _create_executions(conn) -> None:
    conn.execute(
        """CREATE TABLE executions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at REAL NOT NULL,
            agent_id TEXT NOT NULL,
            query TEXT NOT NULL,
            route_status TEXT,
            route_score REAL,
            mode TEXT NOT NULL,
            model TEXT,
            success INTEGER NOT NULL,
            error_code TEXT,
            error TEXT,
            duration_ms REAL NOT NULL,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            tool_calls TEXT NOT NULL DEFAULT '[]'
        )"""
    )
    conn.execute("CREATE INDEX executions_agent_time ON executions (agent_id, started_at)")


def _add_process_id(conn) -> None:
    conn.execute("ALTER TABLE executions ADD COLUMN pid INTEGER")


def _create_routing_fallbacks(conn) -> None:
    # one row per model call that settled an unsure route (skills/routing/fallback.py), whether or not
    # an execution followed: its tokens and cost count in the workforce's measured cost
    conn.execute(
        """CREATE TABLE routing_fallbacks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at REAL NOT NULL,
            task TEXT NOT NULL,
            route_status TEXT NOT NULL,
            model TEXT NOT NULL,
            used INTEGER NOT NULL,
            agent_id TEXT,
            reason TEXT,
            duration_ms REAL NOT NULL,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            pid INTEGER
        )"""
    )
    conn.execute("CREATE INDEX routing_fallbacks_time ON routing_fallbacks (started_at)")


def _create_feedback(conn) -> None:
    # One row per verdict on a routing: `task_key` is the normalised task (skills/corrections.py) that
    # verdicts on the same request are grouped by; a NULL agent means "no agent" (no_match / none should).
    conn.execute(
        """CREATE TABLE feedback (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            recorded_at REAL NOT NULL,
            task TEXT NOT NULL,
            task_key TEXT NOT NULL,
            routed_agent TEXT,
            correct_agent TEXT,
            source TEXT NOT NULL,
            confirmed INTEGER NOT NULL DEFAULT 0
        )"""
    )
    conn.execute("CREATE INDEX feedback_task ON feedback (task_key, id)")


MIGRATIONS = [
    ("001_create_executions", _create_executions),
    ("002_add_process_id", _add_process_id),
    ("003_create_routing_fallbacks", _create_routing_fallbacks),
    ("004_create_feedback", _create_feedback),
]


@dataclass
class ExecutionRecord:
    agent_id: str
    query: str
    mode: str  # "claude" or "direct"
    success: bool
    duration_ms: float
    model: str | None = None
    route_status: str | None = None
    route_score: float | None = None
    error_code: str | None = None
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    tool_calls: list = field(default_factory=list)  # ToolCall.to_json() dicts
    started_at: float = field(default_factory=time.time)


@dataclass
class FallbackRecord:
    """One model call that settled (or failed to settle) an unsure route."""

    task: str
    route_status: str  # the lexical status it was asked to settle
    model: str
    used: bool  # the model's answer was taken (a candidate, or null = no match)
    duration_ms: float
    agent_id: str | None = None
    reason: str | None = None  # why the answer was not used
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    started_at: float = field(default_factory=time.time)


def ledger_path(settings) -> str:
    return os.path.join(settings.state_dir, "ledger.sqlite3")


def connect(settings):
    os.makedirs(settings.state_dir, exist_ok=True)
    conn = open_sqlite(ledger_path(settings))
    apply_migrations(conn, MIGRATIONS)
    return conn


def record(settings, entry: ExecutionRecord) -> int:
    """Append one execution; returns its id."""
    tool_calls = json.loads(redact(json.dumps(entry.tool_calls), settings))
    row = (
        entry.started_at,
        entry.agent_id,
        redact(entry.query[:MAX_QUERY_CHARS], settings),
        entry.route_status,
        entry.route_score,
        entry.mode,
        entry.model,
        int(entry.success),
        entry.error_code,
        redact(entry.error, settings) if entry.error else None,
        entry.duration_ms,
        entry.input_tokens,
        entry.output_tokens,
        entry.cost_usd,
        json.dumps(tool_calls),
        os.getpid(),
    )
    conn = connect(settings)
    try:
        conn.execute("BEGIN IMMEDIATE")
        cursor = conn.execute(
            """INSERT INTO executions (started_at, agent_id, query, route_status, route_score, mode, model,
                   success, error_code, error, duration_ms, input_tokens, output_tokens, cost_usd, tool_calls, pid)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            row,
        )
        conn.execute("COMMIT")
        return cursor.lastrowid
    finally:
        conn.close()


def _unrecorded(settings, error: Exception) -> str:
    warning = f"not recorded in the ledger ({ledger_path(settings)}): {error}"
    print(f"ledger: {warning}", file=sys.stderr, flush=True)  # the HTTP server's journal keeps stderr
    return warning


def record_or_warn(settings, entry: ExecutionRecord) -> str | None:
    """Record, but never let a full or read-only state directory cost the user their answer.

    Returns None when recorded, else a warning that says why (also on stderr); /health reports
    the same state directory as degraded.
    """
    try:
        record(settings, entry)
        return None
    except (OSError, sqlite3.Error) as error:
        return _unrecorded(settings, error)


def record_fallback(settings, entry: FallbackRecord) -> int | None:
    """Append one routing-fallback model call; returns its id, or None (said on stderr) when the
    state directory is full or read-only: a route must not fail for want of its bookkeeping."""
    try:
        return _insert_fallback(settings, entry)
    except (OSError, sqlite3.Error) as error:
        _unrecorded(settings, error)
        return None


def _insert_fallback(settings, entry: FallbackRecord) -> int:
    row = (
        entry.started_at,
        redact(entry.task[:MAX_QUERY_CHARS], settings),
        entry.route_status,
        entry.model,
        int(entry.used),
        entry.agent_id,
        redact(entry.reason, settings) if entry.reason else None,
        entry.duration_ms,
        entry.input_tokens,
        entry.output_tokens,
        entry.cost_usd,
        os.getpid(),
    )
    conn = connect(settings)
    try:
        conn.execute("BEGIN IMMEDIATE")
        cursor = conn.execute(
            """INSERT INTO routing_fallbacks (started_at, task, route_status, model, used, agent_id, reason,
                   duration_ms, input_tokens, output_tokens, cost_usd, pid)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            row,
        )
        conn.execute("COMMIT")
        return cursor.lastrowid
    finally:
        conn.close()


def _rows(settings, table: str, since: float | None) -> list[dict]:
    conn = connect(settings)
    try:
        sql = f"SELECT * FROM {table}"  # table is one of ours, never input
        args: tuple = ()
        if since is not None:
            sql += " WHERE started_at >= ?"
            args = (since,)
        return [dict(row) for row in conn.execute(sql + " ORDER BY id", args)]
    finally:
        conn.close()


def executions(settings, since: float | None = None) -> list[dict]:
    return _rows(settings, "executions", since)


def routing_fallbacks(settings, since: float | None = None) -> list[dict]:
    return _rows(settings, "routing_fallbacks", since)


@dataclass
class FeedbackRecord:
    """A verdict on one routing: `correct_agent` None = no agent should have taken the task."""

    task: str
    task_key: str
    routed_agent: str | None
    correct_agent: str | None
    source: str  # "cli" or "http"
    confirmed: bool = False  # an operator confirmed it on the server itself (route_feedback --confirm)
    recorded_at: float = field(default_factory=time.time)


def record_feedback(settings, entry: FeedbackRecord) -> int:
    """Append one verdict; returns its id. The task is redacted like an execution's query."""
    row = (
        entry.recorded_at,
        redact(entry.task, settings),
        entry.task_key,
        entry.routed_agent,
        entry.correct_agent,
        entry.source,
        int(entry.confirmed),
    )
    conn = connect(settings)
    try:
        conn.execute("BEGIN IMMEDIATE")
        cursor = conn.execute(
            """INSERT INTO feedback (recorded_at, task, task_key, routed_agent, correct_agent, source, confirmed)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            row,
        )
        conn.execute("COMMIT")
        return cursor.lastrowid
    finally:
        conn.close()


def feedback(settings, since: float | None = None) -> list[dict]:
    """Every verdict (since a time), oldest first."""
    conn = connect(settings)
    try:
        sql = "SELECT * FROM feedback"
        args: tuple = ()
        if since is not None:
            sql += " WHERE recorded_at >= ?"
            args = (since,)
        return [dict(row) for row in conn.execute(sql + " ORDER BY id", args)]
    finally:
        conn.close()


def is_writable(settings) -> bool:
    """For /health: can we open (and migrate) the ledger?"""
    try:
        connect(settings).close()
        return True
    except (OSError, sqlite3.Error):
        return False


def recent(settings, limit: int = 20) -> list[dict]:
    """The latest `limit` executions, newest first (the MCP server's recent-executions resource)."""
    conn = connect(settings)
    try:
        rows = conn.execute("SELECT * FROM executions ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(row) for row in rows]
    finally:
        conn.close()
