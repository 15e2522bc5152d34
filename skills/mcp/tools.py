"""The MCP tools: one per script, with the script's name, options and JSON, and what a call does.

A tool here is plain data (no MCP types: only server.py and transports.py import the SDK):
- its input schema is derived from the script's declared fields (skills/contracts.py: types,
  meanings, required fields and length limits), checked as the HTTP API checks them, with the
  same messages;
- its output schema is the HTTP API's OpenAPI schema for the same answer (skills/server/openapi.py),
  so the JSON is described once;
- `call_tool` runs it through skills/gateway/service.py, the warm `--jsonl` workers the HTTP API
  uses, so the scripts stay the single source of truth.
A script's JSON error comes back as an error outcome carrying the same `error`, `code` and `field`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from skills import contracts
from skills.contracts import FLAG, OBJECT, TEXT, Request
from skills.errors import BadInput, OrchestratorError
from skills.gateway.service import Reply, Service
from skills.gateway.validation import check
from skills.gateway.workers import Cancellation, OnEvent
from skills.jsonout import dumps
from skills.server.openapi import SCHEMAS

_JSON_TYPES = {TEXT: "string", FLAG: "boolean", OBJECT: "object"}


def input_schema(request: Request) -> dict:
    """The JSON schema of a tool's arguments: the declared fields' kinds, meanings and limits."""
    properties = {}
    for spec in request.fields:
        prop: dict = {"type": _JSON_TYPES[spec.kind], "description": spec.help}
        if spec.kind == TEXT and spec.name in request.required:
            prop["minLength"] = 1
        if spec.max_len is not None:
            prop["maxLength"] = spec.max_len
        properties[spec.name] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": list(request.required),
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class Hints:
    """What a tool may do, as MCP tool annotations say it (clients use them to ask before a write)."""

    read_only: bool
    destructive: bool = False
    idempotent: bool = True
    open_world: bool = False


READS = Hints(read_only=True)
# An agent run may change things (convex-database adds, updates and completes tasks) and reaches
# beyond this machine (Claude, SSH hosts, the databases, Convex).
RUNS_AGENT = Hints(read_only=False, destructive=True, idempotent=False, open_world=True)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    request: Request  # the script's declared fields this tool sends (skills/contracts.py)
    output: dict  # JSON schema of the answer (or of the error object that comes with isError)
    hints: Hints
    run: Callable[[Service, dict, Cancellation, OnEvent | None], Reply]  # on_event: the run's progress events

    def input_schema(self) -> dict:
        return input_schema(self.request)


def _inline(schema):
    """The OpenAPI schema with its `$ref`s replaced by what they point at (MCP schemas stand alone)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if ref:
            return _inline(SCHEMAS[ref.rsplit("/", 1)[-1]])
        return {key: _inline(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inline(item) for item in schema]
    return schema


def _answer_or_error(answer: dict) -> dict:
    """The output schema: the answer, or (with isError) the scripts' error object.

    Clients check structured content against the schema even on an error (the TypeScript SDK does),
    so the schema must admit both.
    """
    return {"type": "object", "anyOf": [answer, _inline(SCHEMAS["Error"])]}


def _object_of(name: str, items_schema: str) -> dict:
    """An object holding one list: structured content must be an object, list_agents prints a list."""
    return {
        "type": "object",
        "required": [name],
        "properties": {name: {"type": "array", "items": _inline(SCHEMAS[items_schema])}},
    }


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            name="route_task",
            title="Route a task to an agent",
            description="Which FibreFlow agent should handle a task, with its confidence and the alternatives. "
            "Runs nothing. status: routed / high_confidence (agent chosen), multiple_matches (see options), "
            "no_match (see suggestions).",
            request=contracts.ROUTE,
            output=_answer_or_error(_inline(SCHEMAS["RouteResult"])),
            hints=READS,
            run=lambda service, fields, cancel, on_event: service.route(fields),
        ),
        ToolSpec(
            name="execute_agent",
            title="Run a query through a named agent",
            description="Run one FibreFlow agent on a query with its real tools (server metrics, the PostgreSQL "
            "database, Convex tasks, contractors, projects) and return its answer, the tool calls it made and "
            "what they cost. convex-database may add, update or complete tasks.",
            request=contracts.EXECUTE_TOOL,
            output=_answer_or_error(_inline(SCHEMAS["ExecutionResult"])),
            hints=RUNS_AGENT,
            run=lambda service, fields, cancel, on_event: service.execute(fields, cancel, on_event),
        ),
        ToolSpec(
            name="smart_execute",
            title="Route a task, then run the chosen agent",
            description="Route a task in plain words to the right FibreFlow agent and run it. Never guesses: when "
            "several agents fit it answers with an error whose options list them (call execute_agent with one), "
            "and with no_match when none does.",
            request=contracts.SMART_EXECUTE_TOOL,
            output=_answer_or_error(_inline(SCHEMAS["ExecutionResult"])),
            hints=RUNS_AGENT,
            run=lambda service, fields, cancel, on_event: service.smart_execute(fields, cancel, on_event),
        ),
        ToolSpec(
            name="list_agents",
            title="List the agents",
            description="The FibreFlow agents (optionally one category): id, name, category, description, status, "
            "triggers, model, cost per query, and whether each is configured on this server.",
            request=contracts.LIST_AGENTS.request("list_agents"),
            output=_answer_or_error(_object_of("agents", "Agent")),
            hints=READS,
            run=lambda service, fields, cancel, on_event: service.list_agents(fields.get("category")),
        ),
        ToolSpec(
            name="agent_info",
            title="One agent's details",
            description="Everything about one agent: triggers, examples, tools, what it requires and whether it is "
            "configured here (and if not, what to set).",
            request=contracts.AGENT_INFO.request("agent_info"),
            output=_answer_or_error(_inline(SCHEMAS["AgentDetails"])),
            hints=READS,
            run=lambda service, fields, cancel, on_event: service.agent_info(fields["agent"]),
        ),
        ToolSpec(
            name="workforce_stats",
            title="Workforce statistics",
            description="How many agents, which categories, and what the execution ledger measured per agent: "
            "calls, success rate, p50/p95 duration, tokens, cost, last used.",
            request=contracts.WORKFORCE_STATS.request("workforce_stats"),
            output=_answer_or_error(_inline(SCHEMAS["Stats"])),
            hints=READS,
            run=lambda service, fields, cancel, on_event: service.stats(fields.get("since")),
        ),
    )
}


@dataclass(frozen=True)
class Outcome:
    """A tool's answer: the script's JSON as text, the same as an object, and whether it is an error."""

    is_error: bool
    text: str
    structured: dict


def refusal(error: OrchestratorError) -> Outcome:
    body = error.to_json()
    return Outcome(True, dumps(body, False), body)


def check_arguments(spec: ToolSpec, arguments: dict | None) -> dict:
    """The validated fields; BadInput naming the field for unknown, mistyped, missing or too long ones."""
    arguments = {} if arguments is None else arguments
    known = {field.name for field in spec.request.fields}
    for name in arguments:
        if name not in known:
            allowed = ", ".join(sorted(known))
            message = f"{spec.name} takes no argument {name[:100]!r}; it takes: {allowed}"
            raise BadInput(message, field=name[:100])
    return check(arguments, spec.request)


def call_tool(
    service: Service, spec: ToolSpec, fields: dict, cancel: Cancellation, on_event: OnEvent | None = None
) -> Outcome:
    """Run the tool (blocking: the server calls this in a thread); Cancelled if `cancel` fires.
    `on_event` gets an agent run's progress events (skills/progress.py) as they happen."""
    reply = spec.run(service, fields, cancel, on_event)
    body = reply.body
    structured = {"agents": body} if isinstance(body, list) else body
    # The service gives a script's error JSON its error class's HTTP status; any such status is a tool error.
    return Outcome(reply.status != 200, dumps(body, False), structured)


def progress_message(event: str, data: dict) -> str:
    """A progress event in words, for an MCP progress notification's `message`."""
    if event == "routed":
        return f"routed: {data.get('agent')} (confidence {data.get('confidence')})"
    if event == "tool_started":
        return f"tool_started: {data.get('name')}"
    if event == "tool_finished":
        verdict = "ok" if data.get("ok") else "failed"
        return f"tool_finished: {data.get('name')} {verdict} in {float(data.get('duration_ms') or 0):.0f}ms"
    if event == "text":
        return f"text: {data.get('text', '')}"
    return event
