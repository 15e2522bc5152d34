"""The MCP resources and the prompt, as plain values (skills/mcp/server.py turns them into MCP types).

- `orchestrator://agents`: the agent list (bin/list_agents' JSON, with each agent's configuration state);
- `orchestrator://agents/{id}`: one agent (bin/agent_info's JSON: tools, requirements, what is missing);
- `orchestrator://executions/recent`: the latest runs from the execution ledger (skills/ledger/records.py).
The agent resources go through the same service and warm workers as the tools; the ledger is read
directly (no script prints it). The prompt `ask_fibreflow` asks the model to use smart_execute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from skills.cli import MAX_TEXT
from skills.gateway.service import Service
from skills.jsonout import dumps
from skills.ledger import records as ledger

AGENTS_URI = "orchestrator://agents"
AGENT_URI_PREFIX = "orchestrator://agents/"
AGENT_URI_TEMPLATE = AGENT_URI_PREFIX + "{id}"
EXECUTIONS_URI = "orchestrator://executions/recent"
RECENT_EXECUTIONS = 20
JSON = "application/json"


@dataclass(frozen=True)
class ResourceInfo:
    uri: str
    name: str
    title: str
    description: str


class ResourceMissing(Exception):
    """No such resource (an unknown URI or agent); `body` is the scripts' error JSON."""

    def __init__(self, body: dict):
        super().__init__(body["error"])
        self.body = body


AGENTS = ResourceInfo(
    AGENTS_URI, "agents", "FibreFlow agents", "Every agent in the registry, with whether it is configured here."
)
EXECUTIONS = ResourceInfo(
    EXECUTIONS_URI,
    "recent-executions",
    "Recent executions",
    f"The latest {RECENT_EXECUTIONS} agent runs from the ledger: agent, query, outcome, duration, tokens, cost.",
)
AGENT_TEMPLATE = ResourceInfo(
    AGENT_URI_TEMPLATE,
    "agent",
    "One FibreFlow agent",
    "One agent's registry entry, tools, requirements and configuration state (id as in orchestrator://agents).",
)


def list_resources(service: Service) -> list[ResourceInfo]:
    """The fixed resources plus one per agent (clients that only list resources still find each agent)."""
    found = [AGENTS, EXECUTIONS]
    reply = service.list_agents(None)
    if reply.status == 200 and isinstance(reply.body, list):
        for agent in reply.body:
            found.append(ResourceInfo(AGENT_URI_PREFIX + agent["id"], agent["id"], agent["name"], agent["description"]))
    return found


def read_resource(service: Service, settings, uri: str) -> str:
    """The resource's JSON text; ResourceMissing for an unknown URI or agent."""
    if uri == AGENTS_URI:
        reply = service.list_agents(None)
    elif uri == EXECUTIONS_URI:
        return dumps(recent_executions(settings), False)
    elif uri.startswith(AGENT_URI_PREFIX) and len(uri) > len(AGENT_URI_PREFIX):
        reply = service.agent_info(uri[len(AGENT_URI_PREFIX) :])
    else:
        known = f"{AGENTS_URI}, {AGENT_URI_TEMPLATE}, {EXECUTIONS_URI}"
        raise ResourceMissing({"error": f"no resource {uri[:200]!r}; resources: {known}", "code": "not_found"})
    if reply.status != 200:
        raise ResourceMissing(reply.body)
    return dumps(reply.body, False)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def recent_executions(settings, limit: int = RECENT_EXECUTIONS) -> dict:
    import json  # the tool calls are stored as JSON text

    runs = []
    for row in ledger.recent(settings, limit):
        runs.append(
            {
                "id": row["id"],
                "started_at": _iso(row["started_at"]),
                "agent": row["agent_id"],
                "query": row["query"],  # redacted when it was recorded
                "success": bool(row["success"]),
                "error_code": row["error_code"],
                "mode": row["mode"],
                "model": row["model"],
                "route_status": row["route_status"],
                "duration_ms": row["duration_ms"],
                "input_tokens": row["input_tokens"],
                "output_tokens": row["output_tokens"],
                "cost_usd": row["cost_usd"],
                "tools": [call.get("name") for call in json.loads(row["tool_calls"] or "[]")],
            }
        )
    return {"executions": runs}


# --- the prompt -----------------------------------------------------------------------------

PROMPT_NAME = "ask_fibreflow"
PROMPT_TITLE = "Ask FibreFlow"
PROMPT_DESCRIPTION = "Ask the FibreFlow workforce a question in plain words; it is routed to the right agent and run."
PROMPT_ARGUMENT = "task"
PROMPT_ARGUMENT_DESCRIPTION = "the question or task, e.g. 'How many active contractors do we have?'"


class PromptRefused(Exception):
    """The prompt's arguments are wrong; `body` says which and why, in the scripts' error shape."""

    def __init__(self, body: dict):
        super().__init__(body["error"])
        self.body = body


def ask_fibreflow(arguments: dict | None) -> str:
    """The user message: use smart_execute on the task, and what to do when routing is unsure."""
    task = (arguments or {}).get(PROMPT_ARGUMENT)
    if not isinstance(task, str) or not task.strip():
        raise PromptRefused({"error": "argument 'task' is required", "code": "bad_input", "field": "task"})
    if len(task) > MAX_TEXT:
        message = f"argument 'task' is {len(task)} characters; the limit is {MAX_TEXT}"
        raise PromptRefused({"error": message, "code": "bad_input", "field": "task"})
    return (
        "Answer this with the FibreFlow orchestrator: call its smart_execute tool with the task below, "
        "word for word.\n"
        "- On success, give the agent's `response` and say which agent answered (`agent_name`).\n"
        "- If it reports several fitting agents (`options`), show them and ask me which one to use, then call "
        "execute_agent with that agent and the task.\n"
        "- If nothing matched (`no_match`), say so and mention the `suggestions`, if any.\n"
        "- If it fails, quote the `error`: it says what to fix.\n\n"
        f"Task: {task.strip()}"
    )
