"""The usage ledger: every execution, routing-fallback model call and routing verdict, so
statistics come from facts.

Rows live in the store (`skills/store`): `ledger.sqlite3` in the state directory by default, or
the PostgreSQL database ORCHESTRATOR_DATABASE_URL names, shared by every replica and worker so
statistics are the same from each. Both give the same columns and value types. Queries, errors
and tool arguments pass through `redact` first: secrets and connection strings never go in.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field

from skills.redaction import redact
from skills.store import StoreError, open_store
from skills.text import task_key

MAX_QUERY_CHARS = 2000
MAX_DATA_CHARS = 200_000  # an answer's data beyond this (as JSON text) is not kept: the history shows null


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
    answer: str | None = None  # the response text of a success, shown again by the history
    data: object = None  # the tools' data as the execute JSON had it


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
    """The SQLite ledger's file in the state directory (used when no ORCHESTRATOR_DATABASE_URL is set)."""
    return os.path.join(settings.state_dir, "ledger.sqlite3")


def ledger_location(settings) -> str:
    """Where the ledger is, for messages: the SQLite file, or postgresql://host:port/db (no secrets)."""
    url = getattr(settings, "orchestrator_database_url", None)
    if url:
        from skills.store.postgres import describe_url  # psycopg2 only when PostgreSQL is used

        return describe_url(url)
    return ledger_path(settings)


def _store(settings):
    return open_store(settings)


def record(settings, entry: ExecutionRecord) -> int:
    """Append one execution; returns its id. Raises StoreError when the store cannot take it."""
    tool_calls = json.loads(redact(json.dumps(entry.tool_calls), settings))
    query = redact(entry.query[:MAX_QUERY_CHARS], settings)
    row = {
        "started_at": entry.started_at,
        "agent_id": entry.agent_id,
        "query": query,
        # routed executions are judged by the verdicts on their task (skills/ledger/corrections.py)
        "task_key": task_key(query) if entry.route_status else None,
        "route_status": entry.route_status,
        "route_score": entry.route_score,
        "mode": entry.mode,
        "model": entry.model,
        "success": int(entry.success),
        "error_code": entry.error_code,
        "error": redact(entry.error, settings) if entry.error else None,
        "duration_ms": entry.duration_ms,
        "input_tokens": entry.input_tokens,
        "output_tokens": entry.output_tokens,
        "cost_usd": entry.cost_usd,
        "tool_calls": json.dumps(tool_calls),
        "pid": os.getpid(),
        "answer": redact(entry.answer, settings) if entry.answer else None,
        "data": _data_text(entry.data, settings),
    }
    return _store(settings).insert_row("executions", row)


def _data_text(data, settings) -> str | None:
    """The data as redacted JSON text, or None when there is none or it is too large to keep."""
    if data is None:
        return None
    text = json.dumps(data, ensure_ascii=False, default=str)
    return redact(text, settings) if len(text) <= MAX_DATA_CHARS else None


def _unrecorded(settings, error: Exception) -> str:
    warning = f"not recorded in the ledger ({ledger_location(settings)}): {error}"
    print(f"ledger: {warning}", file=sys.stderr, flush=True)  # the HTTP server's journal keeps stderr
    return warning


def record_or_warn(settings, entry: ExecutionRecord) -> str | None:
    """Record, but never let a full or read-only state directory (or an unreachable database) cost
    the user their answer.

    Returns None when recorded, else a warning that says why (also on stderr); /health reports
    the same state directory as degraded.
    """
    try:
        record(settings, entry)
        return None
    except (OSError, StoreError) as error:
        return _unrecorded(settings, error)


def record_fallback(settings, entry: FallbackRecord) -> int | None:
    """Append one routing-fallback model call; returns its id, or None (said on stderr) when the
    store cannot take it: a route must not fail for want of its bookkeeping."""
    try:
        return _insert_fallback(settings, entry)
    except (OSError, StoreError) as error:
        _unrecorded(settings, error)
        return None


def _insert_fallback(settings, entry: FallbackRecord) -> int:
    row = {
        "started_at": entry.started_at,
        "task": redact(entry.task[:MAX_QUERY_CHARS], settings),
        "route_status": entry.route_status,
        "model": entry.model,
        "used": int(entry.used),
        "agent_id": entry.agent_id,
        "reason": redact(entry.reason, settings) if entry.reason else None,
        "duration_ms": entry.duration_ms,
        "input_tokens": entry.input_tokens,
        "output_tokens": entry.output_tokens,
        "cost_usd": entry.cost_usd,
        "pid": os.getpid(),
    }
    return _store(settings).insert_row("routing_fallbacks", row)


def executions(settings, since: float | None = None) -> list[dict]:
    return _store(settings).rows("executions", since)


def routing_fallbacks(settings, since: float | None = None) -> list[dict]:
    return _store(settings).rows("routing_fallbacks", since)


def agent_totals(settings, since: float | None = None) -> dict[str, dict]:
    """Per agent: its executions' counts, sums and duration percentiles, counted by the store."""
    return _store(settings).agent_totals(since)


def fallback_totals(settings, since: float | None = None) -> dict:
    return _store(settings).fallback_totals(since)


def routed_executions(settings, since: float | None = None) -> tuple[int, list[tuple[str, str, int]]]:
    """(routed executions, [(task_key, agent_id, how many)] of those whose task has a verdict)."""
    return _store(settings).routed_executions(since)


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
    row = {
        "recorded_at": entry.recorded_at,
        "task": redact(entry.task, settings),
        "task_key": entry.task_key,
        "routed_agent": entry.routed_agent,
        "correct_agent": entry.correct_agent,
        "source": entry.source,
        "confirmed": int(entry.confirmed),
    }
    return _store(settings).insert_row("feedback", row)


def feedback(settings, since: float | None = None) -> list[dict]:
    """Every verdict (since a time), oldest first."""
    return _store(settings).rows("feedback", since)


def is_writable(settings) -> bool:
    """For /health: can we open (and migrate) the ledger, and write to it?"""
    try:
        return _store(settings).writable()
    except (OSError, StoreError):
        return False


def recent(settings, limit: int = 20) -> list[dict]:
    """The latest `limit` executions, newest first (the MCP server's recent-executions resource)."""
    return _store(settings).rows("executions", limit=limit, newest_first=True)
