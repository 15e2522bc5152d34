"""The store's interface: what the ledger, the async-task queue and the rate limit need from storage.

Rows come back as plain dicts with the same column names and value types from both backends
(booleans as 0/1 integers, times as epoch seconds in REAL/double columns unless said otherwise),
so statistics and tests never care which backend answered. Every method is safe to call from
several threads and several processes at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

LEDGER_TABLES = ("executions", "routing_fallbacks", "feedback")


@dataclass
class ClaimedTask:
    """An async task a worker now holds a lease on."""

    task_id: str
    kind: str  # "execute" or "smart-execute"
    request: dict
    attempts: int  # including this claim
    writes: bool  # its agent changes data (Convex tasks): never re-run blindly after a lost lease


class Store(ABC):
    backend: str  # "sqlite" or "postgres"

    # --- ledger --------------------------------------------------------------------------------
    @abstractmethod
    def insert_row(self, table: str, row: dict) -> int:
        """Append one row to a ledger table (one of LEDGER_TABLES); returns its id."""

    @abstractmethod
    def rows(self, table: str, since: float | None = None, limit: int | None = None, newest_first: bool = False) -> list[dict]:
        """A ledger table's rows (since an epoch time, by its time column), oldest first unless asked."""

    # --- async tasks: a durable queue ----------------------------------------------------------
    @abstractmethod
    def create_task(self, kind: str, request: dict, *, writes: bool = False) -> str:
        """Queue a task; returns its id. Wakes a waiting claimer (any process, any machine)."""

    @abstractmethod
    def claim_task(self, owner: str, lease_s: float) -> ClaimedTask | None:
        """Take the oldest claimable task with a lease for `owner`, or None.

        Claimable: queued, or running with an expired lease (its holder died) that may be re-run
        (not writing, attempts left). Two claimers never get the same task (SKIP LOCKED / one
        writer). Expired tasks that may not be re-run are ended `failed`, code `interrupted`."""

    @abstractmethod
    def renew_lease(self, task_id: str, owner: str, lease_s: float) -> bool:
        """Heartbeat: extend `owner`'s lease; False when the lease was lost to another claimer."""

    @abstractmethod
    def mark_task_writes(self, task_id: str, owner: str) -> None:
        """The task is about to run an agent that writes: a lost lease now ends it `interrupted`."""

    @abstractmethod
    def finish_task(self, task_id: str, owner: str, *, ok: bool, http_status: int, result, error: str | None) -> bool:
        """End the task (completed or failed) if `owner` still holds it; False = not ours any more."""

    @abstractmethod
    def release_task(self, task_id: str, owner: str) -> None:
        """Give a task back to the queue unrun attempts-wise (a clean shutdown stopped it)."""

    @abstractmethod
    def get_task(self, task_id: str) -> dict | None:
        """The task as GET /orchestrator/tasks/{id} shows it (status processing|completed|failed)."""

    @abstractmethod
    def count_unfinished(self) -> int:
        """Tasks queued or running (for the 503 when too many wait)."""

    @abstractmethod
    def wait_for_task(self, timeout_s: float) -> None:
        """Block until a task may have been queued (or timeout): PostgreSQL LISTEN, SQLite a short poll."""

    @abstractmethod
    def prune_tasks(self, keep_days: int) -> int:
        """Delete finished tasks older than `keep_days`; returns how many."""

    # --- rate limit -----------------------------------------------------------------------------
    @abstractmethod
    def take_token(self, client: str, per_minute: int) -> float:
        """Token bucket per client shared by every process: 0.0 = allowed, else seconds to wait."""

    # --- health ---------------------------------------------------------------------------------
    @abstractmethod
    def writable(self) -> bool:
        """Can we write right now (for /health)?"""

    @abstractmethod
    def describe(self) -> str:
        """Where the data is, without secrets: a path, or postgresql://host:port/db."""

    def close(self) -> None:
        """Drop this process's connections (a fork or a test's end)."""
