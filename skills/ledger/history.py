"""The execution history: what GET /orchestrator/executions and /executions/{id} show of the ledger.

Rows come from the store (skills/store: SQLite or PostgreSQL, the same columns from both); here
they become the API's shapes, fixed in docs/http-api.md ("Live progress and history"). The list
leaves the answers and data out, so a thousand rows stay a small, fast answer; one record has them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from skills.store import open_store

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def _json(text: str | None, default):
    """Stored JSON text as a value; `default` for none (an older row) or text that no longer parses."""
    if text is None:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def summary(row: dict) -> dict:
    """One execution as the list shows it."""
    calls = _json(row["tool_calls"], [])
    return {
        "id": int(row["id"]),
        "task": row["query"],
        "agent": row["agent_id"],
        "mode": row["mode"],
        "success": bool(row["success"]),
        "duration_ms": round(float(row["duration_ms"]), 1),
        "cost_usd": float(row["cost_usd"] or 0.0),
        "tools": [call.get("name") for call in calls if isinstance(call, dict)],
        "created_at": _iso(float(row["started_at"])),
        "route_status": row["route_status"],
        "error_code": row["error_code"],
    }


def record(row: dict) -> dict:
    """One execution whole: the summary plus what it answered and how."""
    return {
        **summary(row),
        "answer": row.get("answer"),
        "data": _json(row.get("data"), None),
        "error": row["error"],
        "model": row["model"],
        "usage": {"input_tokens": int(row["input_tokens"] or 0), "output_tokens": int(row["output_tokens"] or 0)},
        "tool_calls": _json(row["tool_calls"], []),
        "route_score": row["route_score"],
    }


def list_executions(
    settings, *, agent: str | None = None, since: float | None = None, success: bool | None = None, limit: int = 50
) -> dict:
    """The newest executions matching the filters (raises StoreError when the store cannot be read)."""
    rows = open_store(settings).execution_history(agent=agent, since=since, success=success, limit=limit)
    items = [summary(row) for row in rows]
    return {"executions": items, "count": len(items), "limit": limit}


def get_execution(settings, execution_id: int) -> dict | None:
    row = open_store(settings).execution(execution_id)
    return record(row) if row is not None else None
