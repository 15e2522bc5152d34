"""Workforce statistics: the guide's registry figures plus what the ledger measured.

Agent selection accuracy (the guide's "Agent selection accuracy") is the share of routed
executions in the window that no verdict contradicts; skills/ledger/corrections.py defines it.
The window is the later of the asked `since` and what the ledger keeps (ORCHESTRATOR_LEDGER_DAYS,
skills/ledger/retention.py); `window` says which, `since` stays what was asked.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from skills.errors import BadInput
from skills.execution.readiness import missing_requirements
from skills.ledger.corrections import accuracy_by_agent, feedback_summary, selection_accuracy, verdicts
from skills.ledger.records import agent_totals, fallback_totals, feedback, routed_executions
from skills.ledger.retention import window
from skills.registry.loader import format_cost

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


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts is not None else None


def agent_figures(totals: dict | None, selection_accuracy: float | None = None) -> dict:
    """One agent's figures from the ledger's totals for it (skills/store: agent_totals); None = no executions.
    `selection_accuracy`: of the executions routing chose this agent for (skills/ledger/corrections.py)."""
    totals = totals or {}
    calls = totals.get("calls", 0)
    return {
        "calls": calls,
        "successes": totals.get("successes", 0),
        "success_rate": round(totals["successes"] / calls, 4) if calls else None,
        "routed_executions": totals.get("routed", 0),
        "selection_accuracy": selection_accuracy,
        "p50_ms": _rounded(totals.get("p50_ms")),
        "p95_ms": _rounded(totals.get("p95_ms")),
        "input_tokens": totals.get("input_tokens", 0),
        "output_tokens": totals.get("output_tokens", 0),
        "cost_usd": round(totals.get("cost_usd", 0.0), 6),
        "last_used": _iso(totals.get("last_used")),
    }


def _rounded(milliseconds: float | None) -> float | None:
    return round(milliseconds, 1) if milliseconds is not None else None


def fallback_figures(totals: dict) -> dict:
    """The model calls that settled unsure routes: how many, how many were taken, what they cost."""
    return {**totals, "cost_usd": round(totals["cost_usd"], 6)}


def operational_status(agents: list[dict], settings) -> str:
    ready = [a for a in agents if a["status"] == "active" and not missing_requirements(a, settings)]
    if len(ready) == len(agents):
        return "fully operational"
    return "partially operational" if ready else "not operational"


def workforce_stats(registry: dict, settings, since: float | None = None, now: float | None = None) -> dict:
    """The figures of the registry and of the ledger's executions in the window (see the module docstring)."""
    asked, (since, covered) = since, window(settings, since, now)
    agents = registry["agents"]
    status_of = {agent["id"]: agent["status"] for agent in agents}
    categories: dict[str, int] = {}
    for agent in agents:
        categories[agent["category"]] = categories.get(agent["category"], 0) + 1
    totals = agent_totals(settings, since)
    fallback = fallback_figures(fallback_totals(settings, since))
    total_calls = sum(figures["calls"] for figures in totals.values())
    successes = sum(figures["successes"] for figures in totals.values())
    # verdicts from any time judge the executions in the window; the counts are for the window
    verdict_rows = feedback(settings)
    counted = verdicts(verdict_rows, settings.feedback_confirmations)
    routed, judged = routed_executions(settings, since)
    accuracy = selection_accuracy(routed, judged, counted)
    by_agent = accuracy_by_agent(
        {agent: figures.get("routed", 0) for agent, figures in totals.items()}, judged, counted
    )
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
            "success_rate": round(successes / total_calls, 4) if total_calls else None,
            # executions plus the model calls that settled unsure routes
            "measured_cost_usd": round(sum(f["cost_usd"] for f in totals.values()) + fallback["cost_usd"], 6),
            "agent_selection_accuracy": accuracy["agent_selection_accuracy"],
        },
        "routing": {
            **accuracy,
            "feedback": feedback_summary(recent, counted),
        },
        "routing_fallback": fallback,
        "since": _iso(asked),
        "window": covered,
        "agents": {
            agent_id: {
                "status": status_of.get(agent_id, "removed"),
                **agent_figures(totals.get(agent_id), by_agent.get(agent_id)),
            }
            for agent_id in [*status_of, *sorted(set(totals) - set(status_of))]
        },
    }
