"""Schema changes for our SQLite files as small named functions, applied once, in order.

Each database keeps a `_migrations` table of the names it has applied, so an old file
upgrades itself on first open and a new one is built by the same steps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = tuple[str, Callable[[sqlite3.Connection], None]]


def apply_migrations(conn: sqlite3.Connection, migrations: list[Migration]) -> list[str]:
    """Apply the migrations `conn` has not seen yet; returns the names applied now."""
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


def open_sqlite(path: str, timeout_s: float = 30.0) -> sqlite3.Connection:
    """A connection in WAL mode, waiting (not failing) while another process writes."""
    conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
    conn.row_factory = sqlite3.Row
    return conn
