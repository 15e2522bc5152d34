"""Workforce statistics: the guide's registry figures plus what the ledger measured.

Agent selection accuracy (the guide's "Agent selection accuracy") is the share of routed
executions in the window that no verdict contradicts; skills/corrections.py defines it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from skills.corrections import feedback_summary, selection_accuracy, verdicts
from skills.errors import BadInput
from skills.ledger import executions, feedback, routing_fallbacks
from skills.readiness import missing_requirements
from skills.registry import format_cost

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str | None, now: float | None = None) -> float | None:
    """ "24h", "7d", "30m", "2w", or an ISO date/time (UTC if no zone) -> a Unix time."""
    if not text:
        return None
    text = text.strip()
    now = time.time() if now is None else now
    if text[:-1].isdigit() and text[-1:] in _UNITS:
        seconds = int(text[:-1]) * _UNITS[text[-1]]
        return max(0.0, now - seconds)  # "99999w" means "since the beginning", not an error
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(
            f"since {text!r} is not understood: use e.g. 24h, 7d, 30m, 2w or an ISO date like 2026-11-01",
            field="since",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 1000) * len(ordered) // 1000))  # ceil without float surprises
    return round(ordered[min(rank, len(ordered)) - 1], 1)


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts is not None else None


def agent_figures(rows: list[dict]) -> dict:
    durations = [row["duration_ms"] for row in rows]
    successes = sum(row["success"] for row in rows)
    return {
        "calls": len(rows),
        "successes": successes,
        "success_rate": round(successes / len(rows), 4) if rows else None,
        "p50_ms": percentile(durations, 0.50),
        "p95_ms": percentile(durations, 0.95),
        "input_tokens": sum(row["input_tokens"] for row in rows),
        "output_tokens": sum(row["output_tokens"] for row in rows),
        "cost_usd": round(sum(row["cost_usd"] for row in rows), 6),
        "last_used": _iso(max((row["started_at"] for row in rows), default=None)),
    }


def fallback_figures(rows: list[dict]) -> dict:
    """The model calls that settled unsure routes: how many, how many were taken, what they cost."""
    return {
        "calls": len(rows),
        "used": sum(row["used"] for row in rows),
        "input_tokens": sum(row["input_tokens"] for row in rows),
        "output_tokens": sum(row["output_tokens"] for row in rows),
        "cost_usd": round(sum(row["cost_usd"] for row in rows), 6),
    }


def operational_status(agents: list[dict], settings) -> str:
    ready = [a for a in agents if a["status"] == "active" and not missing_requirements(a, settings)]
    if len(ready) == len(agents):
        return "fully operational"
    return "partially operational" if ready else "not operational"


def workforce_stats(registry: dict, settings, since: float | None = None) -> dict:
    agents = registry["agents"]
    categories: dict[str, int] = {}
    for agent in agents:
        categories[agent["category"]] = categories.get(agent["category"], 0) + 1
    rows = executions(settings, since)
    fallback = fallback_figures(routing_fallbacks(settings, since))
    by_agent = {agent["id"]: [] for agent in agents}
    for row in rows:
        by_agent.setdefault(row["agent_id"], []).append(row)
    total_calls = len(rows)
    # verdicts from any time judge the executions in the window; the counts are for the window
    verdict_rows = feedback(settings)
    counted = verdicts(verdict_rows, settings.feedback_confirmations)
    accuracy = selection_accuracy(rows, counted)
    recent = [row for row in verdict_rows if since is None or row["recorded_at"] >= since]
    return {
        "total_agents": len(agents),
        "active_agents": sum(agent["status"] == "active" for agent in agents),
        "categories": categories,
        "average_cost": format_cost(sum(a["cost_per_query"] for a in agents) / len(agents)),
        "summary": {
            "operational_status": operational_status(agents, settings),
            "configured_agents": sum(not missing_requirements(a, settings) for a in agents),
            "total_executions": total_calls,
            "success_rate": round(sum(r["success"] for r in rows) / total_calls, 4) if total_calls else None,
            # executions plus the model calls that settled unsure routes
            "measured_cost_usd": round(sum(r["cost_usd"] for r in rows) + fallback["cost_usd"], 6),
            "agent_selection_accuracy": accuracy["agent_selection_accuracy"],
        },
        "routing": {
            **accuracy,
            "feedback": feedback_summary(recent, counted),
        },
        "routing_fallback": fallback,
        "since": _iso(since),
        "agents": {
            agent_id: {
                "status": next((a["status"] for a in agents if a["id"] == agent_id), "removed"),
                **agent_figures(agent_rows),
            }
            for agent_id, agent_rows in by_agent.items()
        },
    }
