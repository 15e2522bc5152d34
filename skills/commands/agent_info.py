"""agent_info: everything about one agent, including whether it is configured here."""

from __future__ import annotations

from skills.cli import require_text, run_script
from skills.commands.list_agents import agent_summary
from skills.contracts import AGENT_INFO, LOOKED_UP_ID
from skills.execution.readiness import readiness
from skills.registry.loader import find_agent, load_registry

OPTIONS = AGENT_INFO.fields


def agent_details(agent: dict, settings) -> dict:
    from skills.execution.data import agent_tools  # only here: importing the tools is not free

    tools = agent_tools(settings.agents_dir, agent)
    entries = agent.get("tools") or ([{"name": name} for name in tools] if agent.get("data") else [])
    return {
        **agent_summary(agent, settings),
        "weak_triggers": agent.get("weak_triggers", []),
        "examples": agent.get("examples", []),
        "requires": agent.get("requires", []),
        **({"data": {k: v for k, v in agent["data"].items()}} if agent.get("data") else {}),
        "tools": [
            {"name": entry["name"], "description": tools[entry["name"]].description if entry["name"] in tools else None}
            for entry in entries
        ],
        **readiness(agent, settings),
    }


def handle(fields: dict, settings) -> tuple[dict, int]:
    agent_id = require_text(fields, AGENT_INFO.field("agent"), limit=LOOKED_UP_ID)
    registry = load_registry(settings.registry_path, settings.state_dir)
    return agent_details(find_agent(registry, agent_id), settings), 0


def main(argv: list[str] | None = None) -> int:
    return run_script(AGENT_INFO, handle, argv)
