"""The MCP tools: one per script, with the script's name, options and JSON, and what a call does.

A tool here is plain data (no MCP types: only server.py and transports.py import the SDK):
- its input schema is derived from the script's own options (skills/commands/*.OPTIONS give the
  descriptions; a validation.Schema gives the types, required fields and length limits, the same
  checks the HTTP API makes, with the same messages);
- its output schema is the HTTP API's OpenAPI schema for the same answer (skills/server/openapi.py),
  so the JSON is described once;
- `call_tool` runs it through skills/gateway/service.py, the warm `--jsonl` workers the HTTP API
  uses, so the scripts stay the single source of truth.
A script's JSON error comes back as an error outcome carrying the same `error`, `code` and `field`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from skills.cli import FLAG, MAX_TEXT, Option
from skills.commands import agent_info, execute_agent, list_agents, route_task, workforce_stats
from skills.gateway.service import Reply, Service
from skills.gateway.validation import MAX_AGENT_ID, ApiError, Field, Schema, check
from skills.gateway.workers import Cancellation
from skills.jsonout import dumps
from skills.server.openapi import SCHEMAS

_JSON_TYPES = {str: "string", bool: "boolean", dict: "object"}


def _option(options: list[Option], field: str) -> Option:
    return next(option for option in options if option.field == field)


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
    schema: Schema  # types, required fields, limits (skills/gateway/validation.py checks them)
    options: tuple[Option, ...]  # where each field's description comes from
    output: dict  # JSON schema of the answer (or of the error object that comes with isError)
    hints: Hints
    run: Callable[[Service, dict, Cancellation], Reply]

    def input_schema(self) -> dict:
        described: dict[str, str] = {}
        for option in self.options:  # the first option naming a field describes it
            described.setdefault(option.field, option.help)
        properties = {}
        for spec in self.schema.fields:
            prop: dict = {"type": _JSON_TYPES[spec.kind], "description": described[spec.name]}
            if spec.kind is str and spec.required:
                prop["minLength"] = 1
            if spec.max_len is not None:
                prop["maxLength"] = spec.max_len
            properties[spec.name] = prop
        required = [spec.name for spec in self.schema.fields if spec.required]
        return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


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


_AGENT_ID = Field("agent", str, True, MAX_AGENT_ID)

TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            name="route_task",
            title="Route a task to an agent",
            description="Which FibreFlow agent should handle a task, with its confidence and the alternatives. "
            "Runs nothing. status: routed / high_confidence (agent chosen), multiple_matches (see options), "
            "no_match (see suggestions).",
            schema=Schema(
                (
                    Field("task", str, True, MAX_TEXT),
                    Field("auto_select", bool),
                    Field("context", dict),
                    Field("explain", bool),
                    Field("llm_fallback", bool),  # off unless asked for
                )
            ),
            options=tuple(route_task.OPTIONS),
            output=_answer_or_error(_inline(SCHEMAS["RouteResult"])),
            hints=READS,
            run=lambda service, fields, cancel: service.route(fields),
        ),
        ToolSpec(
            name="execute_agent",
            title="Run a query through a named agent",
            description="Run one FibreFlow agent on a query with its real tools (server metrics, the PostgreSQL "
            "database, Convex tasks, contractors, projects) and return its answer, the tool calls it made and "
            "what they cost. convex-database may add, update or complete tasks.",
            schema=Schema(
                (_AGENT_ID, Field("query", str, True, MAX_TEXT), Field("context", dict), Field("direct", bool))
            ),
            options=(_option(agent_info.OPTIONS, "agent"), *execute_agent.OPTIONS),
            output=_answer_or_error(_inline(SCHEMAS["ExecutionResult"])),
            hints=RUNS_AGENT,
            run=lambda service, fields, cancel: service.execute(fields, cancel),
        ),
        ToolSpec(
            name="smart_execute",
            title="Route a task, then run the chosen agent",
            description="Route a task in plain words to the right FibreFlow agent and run it. Never guesses: when "
            "several agents fit it answers with an error whose options list them (call execute_agent with one), "
            "and with no_match when none does.",
            schema=Schema(
                (
                    Field("task", str, True, MAX_TEXT),
                    Field("context", dict),
                    Field("direct", bool),
                    Field("llm_fallback", bool),  # on unless false, as in the script and the HTTP API
                )
            ),
            options=(
                _option(route_task.OPTIONS, "task"),
                *execute_agent.OPTIONS,
                Option("", "llm_fallback", FLAG, _option(route_task.OPTIONS, "llm_fallback").help + "; default true"),
            ),
            output=_answer_or_error(_inline(SCHEMAS["ExecutionResult"])),
            hints=RUNS_AGENT,
            run=lambda service, fields, cancel: service.smart_execute(fields, cancel),
        ),
        ToolSpec(
            name="list_agents",
            title="List the agents",
            description="The FibreFlow agents (optionally one category): id, name, category, description, status, "
            "triggers, model, cost per query, and whether each is configured on this server.",
            schema=Schema((Field("category", str, False, MAX_AGENT_ID),)),
            options=tuple(list_agents.OPTIONS),
            output=_answer_or_error(_object_of("agents", "Agent")),
            hints=READS,
            run=lambda service, fields, cancel: service.list_agents(fields.get("category")),
        ),
        ToolSpec(
            name="agent_info",
            title="One agent's details",
            description="Everything about one agent: triggers, examples, tools, what it requires and whether it is "
            "configured here (and if not, what to set).",
            schema=Schema((_AGENT_ID,)),
            options=tuple(agent_info.OPTIONS),
            output=_answer_or_error(_inline(SCHEMAS["AgentDetails"])),
            hints=READS,
            run=lambda service, fields, cancel: service.agent_info(fields["agent"]),
        ),
        ToolSpec(
            name="workforce_stats",
            title="Workforce statistics",
            description="How many agents, which categories, and what the execution ledger measured per agent: "
            "calls, success rate, p50/p95 duration, tokens, cost, last used.",
            schema=Schema((Field("since", str, False, MAX_AGENT_ID),)),
            options=tuple(workforce_stats.OPTIONS),
            output=_answer_or_error(_inline(SCHEMAS["Stats"])),
            hints=READS,
            run=lambda service, fields, cancel: service.stats(fields.get("since")),
        ),
    )
}


@dataclass(frozen=True)
class Outcome:
    """A tool's answer: the script's JSON as text, the same as an object, and whether it is an error."""

    is_error: bool
    text: str
    structured: dict


def refusal(error: ApiError) -> Outcome:
    body = error.to_json()
    return Outcome(True, dumps(body, False), body)


def check_arguments(spec: ToolSpec, arguments: dict | None) -> dict:
    """The validated fields; ApiError naming the field for unknown, mistyped, missing or too long ones."""
    arguments = {} if arguments is None else arguments
    known = {field.name for field in spec.schema.fields}
    for name in arguments:
        if name not in known:
            allowed = ", ".join(sorted(known))
            raise ApiError(
                422, "bad_input", f"{spec.name} takes no argument {name[:100]!r}; it takes: {allowed}", field=name[:100]
            )
    return check(arguments, spec.schema)


def call_tool(service: Service, spec: ToolSpec, fields: dict, cancel: Cancellation) -> Outcome:
    """Run the tool (blocking: the server calls this in a thread); Cancelled if `cancel` fires."""
    reply = spec.run(service, fields, cancel)
    body = reply.body
    structured = {"agents": body} if isinstance(body, list) else body
    # The service gives a script's error JSON its error class's HTTP status; any such status is a tool error.
    return Outcome(reply.status != 200, dumps(body, False), structured)
