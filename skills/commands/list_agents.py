"""list_agents: the workforce, optionally one category, in the guide's shape."""

from __future__ import annotations

from skills.cli import run_script
from skills.contracts import LIST_AGENTS
from skills.errors import BadInput
from skills.execution.readiness import missing_requirements
from skills.registry.loader import format_cost, load_registry

OPTIONS = LIST_AGENTS.fields


def agent_summary(agent: dict, settings) -> dict:
    return {
        "id": agent["id"],
        "name": agent["name"],
        "category": agent["category"],
        "description": agent["description"],
        "status": agent["status"],
        "triggers": agent["triggers"],
        "model": agent["model"],
        "cost_per_query": format_cost(agent["cost_per_query"]),
        "configured": not missing_requirements(agent, settings),
    }


def handle(fields: dict, settings) -> tuple[list, int]:
    registry = load_registry(settings.registry_path, settings.state_dir)
    category = (fields.get("category") or "").strip()
    agents = registry["agents"]
    if category:
        known = sorted({a["category"] for a in agents})
        if category not in known:
            raise BadInput(f"unknown category {category!r}; categories: {', '.join(known)}", field="category")
        agents = [a for a in agents if a["category"] == category]
    return [agent_summary(a, settings) for a in agents], 0


def main(argv: list[str] | None = None) -> int:
    return run_script(LIST_AGENTS, handle, argv)
