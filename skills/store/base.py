"""The store's interface: what the ledger, the async-task queue and the rate limit need from storage.

Rows come back as plain dicts with the same column names and value types from both backends
(booleans as 0/1 integers, times as epoch seconds in REAL/double columns unless said otherwise),
so statistics and tests never care which backend answered. Every method is safe to call from
several threads and several processes at once.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass

from skills.errors import Interrupted, StoreError  # noqa: F401 - StoreError: the store's error, imported from here

LEDGER_TABLES = ("executions", "routing_fallbacks", "feedback")
TIME_COLUMNS = {"executions": "started_at", "routing_fallbacks": "started_at", "feedback": "recorded_at"}
# What retention prunes (ORCHESTRATOR_LEDGER_DAYS): the per-run rows. Feedback stays: a person's
# verdicts are few, and those from any time judge the executions in a statistics window.
PRUNED_TABLES = ("executions", "routing_fallbacks")
PRUNE_BATCH = 5000  # rows per DELETE, so a first prune of a big old ledger never holds a long lock
MAX_ATTEMPTS = 2  # a task is run at most this often: the first claim plus one takeover after a lost lease
FINISHED = ("completed", "failed")  # a task's other states are queued and running (the API shows "processing")
TASKS_CHANNEL = "orchestrator_tasks"  # PostgreSQL NOTIFY channel: a task was queued

REASON_ATTEMPTS = (
    f"the server stopped while this task was running, {MAX_ATTEMPTS} times (its lease expired); "
    "it was not retried again: submit it anew if you still need it"
)
REASON_WRITES = (
    "the server stopped while this task was running an agent that changes data (its lease expired); "
    "it was not re-run, so no change is made twice: check the data, then submit it anew if still needed"
)


def check_ledger_table(table: str) -> None:
    if table not in LEDGER_TABLES:
        raise ValueError(f"not a ledger table: {table!r} (one of {', '.join(LEDGER_TABLES)})")


def check_column(name: str) -> str:
    """Column names come from our code, never from input; refuse anything else all the same."""
    if not name.isidentifier():
        raise ValueError(f"not a column name: {name!r}")
    return name


def _since(table: str, since: float | None, mark: str, condition: str = "") -> tuple[str, list]:
    """(WHERE clause, arguments): the rows of a ledger table since a time, and `condition` (SQL, no input)."""
    check_ledger_table(table)
    parts, args = ([condition] if condition else []), []
    if since is not None:
        parts.append(f"{TIME_COLUMNS[table]} >= {mark}")
        args.append(since)
    return (" WHERE " + " AND ".join(parts)) if parts else "", args


def rows_query(table: str, since: float | None, limit: int | None, newest_first: bool, mark: str) -> tuple[str, list]:
    """(SQL, arguments) reading a ledger table, with `mark` the backend's placeholder ("?" or "%s")."""
    where, args = _since(table, since, mark)
    sql = f"SELECT * FROM {table}{where}" + (" ORDER BY id DESC" if newest_first else " ORDER BY id")
    if limit is not None:
        sql += f" LIMIT {mark}"
        args.append(int(limit))
    return sql, args


# Per agent: the totals, and the nearest-rank p50 and p95 of the durations: the value at rank
# ceil(n x per-mille / 1000), in integer arithmetic. Window functions: SQLite >= 3.25 and PostgreSQL alike.
AGENT_TOTALS_SQL = """SELECT agent_id, COUNT(*) AS calls, SUM(success) AS successes,
    SUM(CASE WHEN {routed} THEN 1 ELSE 0 END) AS routed,
    SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, SUM(cost_usd) AS cost_usd,
    MAX(started_at) AS last_used FROM executions{where} GROUP BY agent_id"""
AGENT_PERCENTILES_SQL = """SELECT agent_id,
    MAX(CASE WHEN position = (calls * 500 + 999) / 1000 THEN duration_ms END) AS p50_ms,
    MAX(CASE WHEN position = (calls * 950 + 999) / 1000 THEN duration_ms END) AS p95_ms
FROM (SELECT agent_id, duration_ms, COUNT(*) OVER (PARTITION BY agent_id) AS calls,
        ROW_NUMBER() OVER (PARTITION BY agent_id ORDER BY duration_ms) AS position
    FROM executions{where}) AS ranked
WHERE position = (calls * 500 + 999) / 1000 OR position = (calls * 950 + 999) / 1000
GROUP BY agent_id"""
FALLBACK_TOTALS_SQL = """SELECT COUNT(*) AS calls, SUM(used) AS used, SUM(input_tokens) AS input_tokens,
    SUM(output_tokens) AS output_tokens, SUM(cost_usd) AS cost_usd FROM routing_fallbacks{where}"""
ROUTED = "route_status IS NOT NULL AND route_status <> ''"  # smart execute chose the agent
HISTORY_COLUMNS = (
    "id, started_at, agent_id, query, mode, success, duration_ms, cost_usd, tool_calls, route_status, error_code"
)


def interrupted_result(reason: str) -> str:
    """The stored `result` JSON of a task that ended `interrupted`."""
    return json.dumps(Interrupted(reason).to_json())


def task_body(row: dict) -> dict:
    """A task row (either backend, times already ISO-8601 text) as GET /orchestrator/tasks/{id} shows it."""
    body = {
        "task_id": row["id"],
        "status": row["status"] if row["status"] in FINISHED else "processing",
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


@dataclass
class ClaimedTask:
    """An async task a worker now holds a lease on."""

    task_id: str
    kind: str  # "execute" or "smart-execute"
    request: dict
    attempts: int  # including this claim
    writes: bool  # its agent changes data (Convex tasks): never re-run blindly after a lost lease


def _numbers(row: dict) -> dict:
    """A totals row with plain ints and floats (PostgreSQL sums come back as Decimal or None on no rows)."""
    out = {}
    for name, value in row.items():
        if name in ("cost_usd", "last_used"):
            out[name] = float(value) if value is not None else (0.0 if name == "cost_usd" else None)
        elif name != "agent_id":
            out[name] = int(value or 0)
    return out


class Store(ABC):
    backend: str  # "sqlite" or "postgres"
    mark: str  # the backend's placeholder in SQL: "?" or "%s"

    # --- ledger --------------------------------------------------------------------------------
    @abstractmethod
    def insert_row(self, table: str, row: dict) -> int:
        """Append one row to a ledger table (one of LEDGER_TABLES); returns its id."""

    @abstractmethod
    def _select(self, sql: str, args: list) -> list[dict]:
        """The rows of one read-only query, as dicts (column name -> value)."""

    def rows(
        self, table: str, since: float | None = None, limit: int | None = None, newest_first: bool = False
    ) -> list[dict]:
        """A ledger table's rows (since an epoch time, by its time column), oldest first unless asked."""
        return self._select(*rows_query(table, since, limit, newest_first, self.mark))

    @abstractmethod
    def _delete(self, sql: str, args: list) -> int:
        """Run one DELETE in its own transaction; how many rows it removed."""

    def prune_ledger(self, before: float) -> dict[str, int]:
        """Delete the executions and routing-fallback rows that started before `before` (epoch seconds),
        a batch at a time; table -> how many went. Feedback is kept (see PRUNED_TABLES)."""
        pruned = {}
        for table in PRUNED_TABLES:
            column = TIME_COLUMNS[table]
            sql = (
                f"DELETE FROM {table} WHERE id IN "
                f"(SELECT id FROM {table} WHERE {column} < {self.mark} LIMIT {PRUNE_BATCH})"
            )
            pruned[table] = 0
            while True:
                removed = self._delete(sql, [before])
                pruned[table] += removed
                if removed < PRUNE_BATCH:
                    break
        return pruned

    def execution_history(
        self, *, agent: str | None, since: float | None, success: bool | None, limit: int
    ) -> list[dict]:
        """The latest `limit` executions matching the filters, newest first, without their answers
        and data (a list of a thousand stays small); GET /orchestrator/executions."""
        where, args = _since("executions", since, self.mark)
        parts = [where.removeprefix(" WHERE ")] if where else []
        if agent is not None:
            parts.append(f"agent_id = {self.mark}")
            args.append(agent)
        if success is not None:
            parts.append(f"success = {self.mark}")
            args.append(int(success))
        sql = f"SELECT {HISTORY_COLUMNS} FROM executions" + (" WHERE " + " AND ".join(parts) if parts else "")
        return self._select(sql + f" ORDER BY id DESC LIMIT {self.mark}", [*args, int(limit)])

    def execution(self, execution_id: int) -> dict | None:
        """One execution's whole row, or None; GET /orchestrator/executions/{id}."""
        found = self._select(f"SELECT * FROM executions WHERE id = {self.mark}", [execution_id])
        return found[0] if found else None

    # Statistics are counted by the database: a ledger of a million executions must not come back
    # as a million dicts (seconds and a gigabyte) every time the page asks for the figures.
    def agent_totals(self, since: float | None = None) -> dict[str, dict]:
        """agent id -> calls, successes, routed (how many smart execute chose it for), input_tokens,
        output_tokens, cost_usd, last_used (epoch), p50_ms and p95_ms (nearest rank) of its executions
        since `since`; agents without any are absent."""
        where, args = _since("executions", since, self.mark)
        sql = AGENT_TOTALS_SQL.format(where=where, routed=ROUTED)
        totals = {row["agent_id"]: _numbers(row) for row in self._select(sql, args)}
        for row in self._select(AGENT_PERCENTILES_SQL.format(where=where), args):
            totals[row["agent_id"]].update(p50_ms=float(row["p50_ms"]), p95_ms=float(row["p95_ms"]))
        return totals

    def fallback_totals(self, since: float | None = None) -> dict:
        """The routing-fallback model calls since `since`: calls, used, input_tokens, output_tokens, cost_usd."""
        where, args = _since("routing_fallbacks", since, self.mark)
        return _numbers(self._select(FALLBACK_TOTALS_SQL.format(where=where), args)[0])

    def routed_executions(self, since: float | None = None) -> tuple[int, list[tuple[str, str, int]]]:
        """(how many executions since `since` were routed, [(task_key, agent_id, how many)] of those
        whose task has a verdict in the feedback table): what agent selection accuracy needs."""
        where, args = _since("executions", since, self.mark, ROUTED)
        routed = self._select(f"SELECT COUNT(*) AS routed FROM executions{where}", args)[0]["routed"]
        judged = self._select(
            f"SELECT task_key, agent_id, COUNT(*) AS executions FROM executions{where}"
            " AND task_key IN (SELECT task_key FROM feedback) GROUP BY task_key, agent_id",
            args,
        )
        return int(routed), [(row["task_key"], row["agent_id"], int(row["executions"])) for row in judged]

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
        """End the task (completed or failed) if `owner` still holds it; False = not ours any more.

        Repeating the very same end (after an error that hid whether the first one was stored) is
        True again; any other end of a finished task is False."""

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
