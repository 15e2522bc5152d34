"""Schema changes as small named functions, applied once, in order, for both backends.

Each database keeps a `_migrations` table of the names it has applied, so an old file or database
upgrades itself on first open and a new one is built by the same steps. SQLite keeps the names its
ledger.sqlite3 files already carry (`001_create_executions` ... `http_tasks_create`); PostgreSQL has
its own list (it started later, with every column), applied under an advisory lock so replicas
starting together against an empty database migrate it exactly once.

Task states: `queued` (waiting), `running` (a lease holder has it), `completed`, `failed`. Lease times
are epoch seconds (REAL) in SQLite and timestamptz on the database clock in PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from skills.store.base import ROUTED
from skills.text import task_key

Migration = tuple[str, Callable]
PG_MIGRATION_LOCK = 0x0F1B_0F10  # pg_advisory_xact_lock key: "fibreflow orchestrator schema"


# --- applying --------------------------------------------------------------------------------------


def apply_migrations(conn: sqlite3.Connection, migrations: list[Migration]) -> list[str]:
    """SQLite: apply the migrations `conn` has not seen yet; returns the names applied now."""
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    applied_now = []
    for name, migrate in migrations:
        conn.execute("BEGIN IMMEDIATE")  # serialises processes racing to upgrade the same file
        try:
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                conn.execute("ROLLBACK")
                continue
            migrate(conn)  # must use conn.execute (executescript would commit midway)
            conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))", (name,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied_now.append(name)
    return applied_now


def _set_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switch a file to WAL. On a new file that several processes open at once, the switch can
    answer "database is locked" at once, without waiting on the busy timeout: try again shortly."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def open_sqlite(path: str, timeout_s: float = 30.0) -> sqlite3.Connection:
    """A connection in WAL mode, waiting (not failing) while another process writes."""
    conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
    _set_wal(conn, timeout_s)
    conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
    conn.row_factory = sqlite3.Row
    return conn


def apply_pg_migrations(conn, migrations: list[Migration]) -> list[str]:
    """PostgreSQL: apply what is missing in one transaction, holding the advisory lock throughout.

    A second replica blocks on the lock until the first commits, then finds every name recorded and
    applies nothing. DDL is transactional in PostgreSQL, so a failed step leaves no half schema."""
    applied_now = []
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (PG_MIGRATION_LOCK,))
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
        )
        cursor.execute("SELECT name FROM _migrations")
        done = {row[0] for row in cursor.fetchall()}
        for name, migrate in migrations:
            if name in done:
                continue
            migrate(cursor)
            cursor.execute("INSERT INTO _migrations (name, applied_at) VALUES (%s, clock_timestamp())", (name,))
            applied_now.append(name)
    conn.commit()
    return applied_now


# --- SQLite ----------------------------------------------------------------------------------------


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
    # one row per model call that settled an unsure route (skills/execution/fallback.py), whether or not
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
    # One row per verdict on a routing: `task_key` is the normalised task (skills/ledger/corrections.py) that
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


def _create_tasks(conn) -> None:
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


def _add_task_leases(conn) -> None:
    """Leases instead of "resume at start": tasks are now queued, running (leased), completed or
    failed. Rows an older release left `processing` are not rewritten here: the store treats them as
    running with an expired lease, so the next claim re-runs them or, tried enough, ends them
    `interrupted`, exactly as a lost lease would (and an older server still writing the same file
    during an upgrade keeps working)."""
    for column in ("lease_owner TEXT", "lease_expires_at REAL", "claimed_at REAL", "writes INTEGER NOT NULL DEFAULT 0"):
        conn.execute(f"ALTER TABLE http_tasks ADD COLUMN {column}")


# Statistics are counted by the database (skills/store/base.py), not by reading every execution:
# - routed executions carry their task's key, for agent selection accuracy (old rows get theirs in
#   the migration);
# - an index on the time serves a window ("since 24h"). The one on (agent, time) served no query,
#   and made SQLite group the totals by agent through it: a row lookup per execution.
TASK_KEY_COLUMN = "ALTER TABLE executions ADD COLUMN task_key TEXT"
TASK_KEY_INDEXES = (
    "CREATE INDEX executions_task_key ON executions (task_key)",
    "DROP INDEX executions_agent_time",
    "CREATE INDEX executions_time ON executions (started_at)",
)
ROUTED_QUERIES = f"SELECT id, query FROM executions WHERE {ROUTED}"


def _routed_task_keys(rows) -> list[tuple[str, int]]:
    """(task_key, id) of routed executions (id, query): what agent selection accuracy groups them by,
    keyed as skills/ledger/records.py keys new rows."""
    return [(task_key(query), row_id) for row_id, query in rows]


def _add_execution_task_key(conn) -> None:
    """Routed executions get their task key (old rows too) and the ledger its time index (see above)."""
    conn.execute(TASK_KEY_COLUMN)
    rows = conn.execute(ROUTED_QUERIES).fetchall()
    conn.executemany("UPDATE executions SET task_key = ? WHERE id = ?", _routed_task_keys(rows))
    for statement in TASK_KEY_INDEXES:
        conn.execute(statement)


# What an execution answered, so the history (GET /orchestrator/executions/{id}) can show it again:
# the response text and the tools' data as JSON text (null for failures and for older rows).
ANSWER_COLUMNS = ("ALTER TABLE executions ADD COLUMN answer TEXT", "ALTER TABLE executions ADD COLUMN data TEXT")


def _add_execution_answers(conn) -> None:
    for statement in ANSWER_COLUMNS:
        conn.execute(statement)


SQLITE_MIGRATIONS: list[Migration] = [
    ("001_create_executions", _create_executions),
    ("002_add_process_id", _add_process_id),
    ("003_create_routing_fallbacks", _create_routing_fallbacks),
    ("004_create_feedback", _create_feedback),
    ("http_tasks_create", _create_tasks),
    ("http_tasks_lease", _add_task_leases),
    ("005_executions_task_key", _add_execution_task_key),
    ("006_executions_answer", _add_execution_answers),
]


# --- PostgreSQL ------------------------------------------------------------------------------------
# Same columns and value types as SQLite where callers read them: ids bigint, times of ledger rows
# epoch seconds in double precision, booleans 0/1 integers, JSON as text.


def _pg_create_ledger(cursor) -> None:
    cursor.execute(
        """CREATE TABLE executions (
            id BIGSERIAL PRIMARY KEY,
            started_at DOUBLE PRECISION NOT NULL,
            agent_id TEXT NOT NULL,
            query TEXT NOT NULL,
            route_status TEXT,
            route_score DOUBLE PRECISION,
            mode TEXT NOT NULL,
            model TEXT,
            success INTEGER NOT NULL,
            error_code TEXT,
            error TEXT,
            duration_ms DOUBLE PRECISION NOT NULL,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
            tool_calls TEXT NOT NULL DEFAULT '[]',
            pid INTEGER
        )"""
    )
    cursor.execute("CREATE INDEX executions_agent_time ON executions (agent_id, started_at)")
    cursor.execute(
        """CREATE TABLE routing_fallbacks (
            id BIGSERIAL PRIMARY KEY,
            started_at DOUBLE PRECISION NOT NULL,
            task TEXT NOT NULL,
            route_status TEXT NOT NULL,
            model TEXT NOT NULL,
            used INTEGER NOT NULL,
            agent_id TEXT,
            reason TEXT,
            duration_ms DOUBLE PRECISION NOT NULL,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
            pid INTEGER
        )"""
    )
    cursor.execute("CREATE INDEX routing_fallbacks_time ON routing_fallbacks (started_at)")
    cursor.execute(
        """CREATE TABLE feedback (
            id BIGSERIAL PRIMARY KEY,
            recorded_at DOUBLE PRECISION NOT NULL,
            task TEXT NOT NULL,
            task_key TEXT NOT NULL,
            routed_agent TEXT,
            correct_agent TEXT,
            source TEXT NOT NULL,
            confirmed INTEGER NOT NULL DEFAULT 0
        )"""
    )
    cursor.execute("CREATE INDEX feedback_task ON feedback (task_key, id)")


def _pg_create_tasks(cursor) -> None:
    cursor.execute(
        """CREATE TABLE http_tasks (
            id TEXT PRIMARY KEY,
            seq BIGSERIAL NOT NULL,
            kind TEXT NOT NULL,
            request TEXT NOT NULL,
            status TEXT NOT NULL,
            http_status INTEGER,
            result TEXT,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            writes INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_expires_at TIMESTAMPTZ,
            claimed_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
            finished_at TIMESTAMPTZ
        )"""
    )
    # claimers scan only unfinished tasks, oldest first; pruning scans only finished ones
    cursor.execute("CREATE INDEX http_tasks_unfinished ON http_tasks (seq) WHERE status IN ('queued', 'running')")
    cursor.execute("CREATE INDEX http_tasks_finished ON http_tasks (finished_at) WHERE finished_at IS NOT NULL")


def _pg_create_rate_buckets(cursor) -> None:
    # one token bucket per client, refilled on the database clock, so every replica shares one limit
    cursor.execute(
        """CREATE TABLE rate_buckets (
            client TEXT PRIMARY KEY,
            tokens DOUBLE PRECISION NOT NULL,
            allowed BOOLEAN NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        )"""
    )


def _pg_add_execution_task_key(cursor) -> None:
    """As _add_execution_task_key (SQLite), the task keys written in pages of a thousand."""
    from psycopg2.extras import execute_values

    cursor.execute(TASK_KEY_COLUMN)
    cursor.execute(ROUTED_QUERIES)
    execute_values(
        cursor,
        "UPDATE executions SET task_key = keyed.task_key FROM (VALUES %s) AS keyed (task_key, id)"
        " WHERE executions.id = keyed.id",
        _routed_task_keys(cursor.fetchall()),
        page_size=1000,
    )
    for statement in TASK_KEY_INDEXES:
        cursor.execute(statement)


POSTGRES_MIGRATIONS: list[Migration] = [
    ("001_create_ledger", _pg_create_ledger),
    ("002_create_tasks", _pg_create_tasks),
    ("003_create_rate_buckets", _pg_create_rate_buckets),
    ("004_executions_task_key", _pg_add_execution_task_key),
    ("005_executions_answer", _add_execution_answers),  # a cursor's execute() is the same call
]
