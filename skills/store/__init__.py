"""Where the orchestrator keeps what must outlive a process: the ledger, async tasks, rate limits.

One interface (`skills/store/base.py`), two backends: SQLite in the state directory (the embedded
default, one machine) and PostgreSQL when `ORCHESTRATOR_DATABASE_URL` is set (several replicas and
workers sharing one view). Callers ask `open_store(settings)` and never branch on the backend.

Open base.py first (the contract), then sqlite.py or postgres.py (pg_connections.py: its pool and
reconnects), migrations.py (both schemas), buckets.py (SQLite's in-memory rate limit).
"""

from __future__ import annotations

import threading

from skills.store.base import ClaimedTask, Store, StoreError

__all__ = ["ClaimedTask", "Store", "StoreError", "close_stores", "open_store"]

_OPEN: dict[tuple, Store] = {}  # one store per backend and place, per process (connections are reused)
_OPENING = threading.Lock()  # a server's claimer and its first request open the store at the same moment


def open_store(settings) -> Store:
    """The store `settings` name, opened (and its schema migrated) once per process."""
    url = getattr(settings, "orchestrator_database_url", None)
    key = ("postgres", url) if url else ("sqlite", settings.state_dir)
    store = _OPEN.get(key)
    if store is not None:
        return store
    with _OPENING:  # two stores for one place would split state kept in memory (SQLite's rate buckets)
        store = _OPEN.get(key)
        if store is None:
            if url:
                from skills.store.postgres import PostgresStore

                store = PostgresStore(url, settings)
            else:
                from skills.store.sqlite import SQLiteStore

                store = SQLiteStore(settings.state_dir, settings)
            _OPEN[key] = store
    return store


def close_stores(url: str | None = None) -> None:
    """Close and forget the stores this process opened (only those on `url` when given): a test's
    database is about to be dropped, or a forked child starts afresh."""
    for key in [key for key in _OPEN if url is None or key == ("postgres", url)]:
        _OPEN.pop(key).close()
