"""The OpenAPI 3.1 description served at `GET /openapi.json`.

Request schemas and parameters are derived from the scripts' declared fields (skills/contracts.py,
the same declarations skills/gateway/validation.py checks: unknown fields are ignored, a null
optional field counts as absent). Response shapes are written out as data: the scripts' output
(skills/commands/*) and skills/gateway/service.py's replies. Error statuses come from
skills/errors.py, the same table the server maps script error codes with. Tests compare the
paths and methods here with the server's routing table and run schemathesis against the live
server, so a drift shows up.
"""

from __future__ import annotations

from skills import contracts, errors
from skills.contracts import FLAG, MAX_BATCH, OBJECT, VERSION, Field, Request

JSON = "application/json"

# --- schemas ------------------------------------------------------------------------------


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _or_null(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


# One character that Python's str.strip() keeps: the server refuses text that is only whitespace,
# and ECMA-262's \s (what JSON Schema's `pattern` means) is a slightly different set.
NOT_BLANK = r"[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def _property(spec: Field, required: bool) -> dict:
    """One declared field as JSON Schema: required text must hold a character that is not blank."""
    if spec.kind == FLAG:
        return {"type": ["boolean", "null"], "description": spec.help}
    if spec.kind == OBJECT:
        return {**_or_null({"type": "object"}), "description": spec.help}
    text: dict = {"type": "string"}
    if required and not spec.nullable:
        text["minLength"] = 1
    if spec.max_len is not None:
        text["maxLength"] = spec.max_len
    if required and not spec.nullable:
        text["pattern"] = NOT_BLANK
    if spec.example is not None:
        text["examples"] = [spec.example]
    if required and not spec.nullable:
        return {**text, "description": spec.help}
    return {**_or_null(text), "description": spec.help}


def request_schema(request: Request, description: str | None = None) -> dict:
    """A request body's schema, from the fields its endpoint sends the script."""
    schema: dict = {"type": "object"}
    if description:
        schema["description"] = description
    schema["required"] = list(request.required)
    schema["properties"] = {spec.name: _property(spec, spec.name in request.required) for spec in request.fields}
    return schema


def _param(spec: Field, where: str, name: str | None = None) -> dict:
    """A path or query parameter carrying one declared field."""
    schema = {"type": "string"}
    if spec.pattern:
        schema["pattern"] = spec.pattern
    return {
        "name": name or spec.name,
        "in": where,
        "required": where == "path",
        "description": spec.help,
        "schema": schema,
    }


_MS = {"type": "number", "minimum": 0, "description": "milliseconds"}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "description": "Every refusal and failure: a message saying what to do, a stable code, the field at fault.",
        "required": ["error", "code"],
        "properties": {
            "error": {"type": "string"},
            "code": {"type": "string", "examples": ["bad_input", "unauthorized", "agent_not_found", "timeout"]},
            "field": {"type": "string"},
            "details": {"type": "object"},
        },
    },
    "AgentMatch": {
        "type": "object",
        "description": "One candidate agent for a task.",
        "required": ["agent_id", "agent_name", "confidence"],
        "properties": {
            "agent_id": {"type": "string", "examples": ["vps-monitor"]},
            "agent_name": {"type": "string", "examples": ["VPS Monitor Agent"]},
            "category": {"type": "string"},
            "confidence": {"type": "integer", "minimum": 0, "description": "how many keywords matched"},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "confidence_level": {"type": "string", "enum": ["high", "medium", "low"]},
            "matched_keywords": {"type": "array", "items": {"type": "string"}},
        },
    },
    "RouteRequest": request_schema(contracts.ROUTE),
    "LlmFallback": {
        "type": "object",
        "description": "Whether the model settled an unsure route. `used` false carries the `reason` and the "
        "lexical answer stands; a call that was made reports its tokens and cost either way.",
        "required": ["used"],
        "properties": {
            "used": {"type": "boolean"},
            "reason": {"type": "string", "examples": ["timeout: the model did not answer within 2s"]},
            "model": {"type": "string", "examples": ["claude-haiku-4-5"]},
            "agent_id": _or_null({"type": "string"}),
            "input_tokens": {"type": "integer", "minimum": 0},
            "output_tokens": {"type": "integer", "minimum": 0},
            "cost_usd": _or_null({"type": "number", "minimum": 0}),
            "duration_ms": _MS,
        },
    },
    "RouteResult": {
        "type": "object",
        "required": ["status", "task", "agent"],
        "properties": {
            "status": {"type": "string", "enum": ["routed", "high_confidence", "multiple_matches", "no_match"]},
            "task": {"type": "string"},
            "agent": _or_null(_ref("AgentMatch")),
            "options": {"type": "array", "items": _ref("AgentMatch"), "description": "when too close to call"},
            "alternatives": {"type": "array", "items": _ref("AgentMatch")},
            "suggestions": {"type": "array", "items": _ref("AgentMatch")},
            "message": {"type": "string", "description": "with no_match: how to phrase the task"},
            "llm_fallback": _ref("LlmFallback"),
            "learnt_from": {
                "type": "string",
                "enum": ["feedback"],
                "description": "a confirmed correction of this very task decided the route",
            },
            "execution_time_ms": _MS,
        },
    },
    "ExecuteRequest": request_schema(contracts.EXECUTE),
    "SmartExecuteRequest": request_schema(contracts.SMART_EXECUTE),
    "ToolCall": {
        "type": "object",
        "required": ["name", "duration_ms", "ok"],
        "properties": {
            "name": {"type": "string"},
            "arguments": {"type": "object"},
            "duration_ms": _MS,
            "ok": {"type": "boolean"},
            "error": {"type": "string"},
            "code": _or_null({"type": "string"}),
        },
    },
    "ExecutionResult": {
        "type": "object",
        "description": "An agent's answer. `success` false carries `error` and `code`, and, when routing "
        "was unsure, `status` with the `options` (or `suggestions`) to choose from.",
        "required": ["success"],
        "properties": {
            "success": {"type": "boolean"},
            "agent": _or_null({"type": "string"}),
            "agent_name": {"type": "string"},
            "response": {"type": "string"},
            "execution_time_ms": _MS,
            "model": _or_null({"type": "string"}),
            "mode": {"type": "string", "description": "claude, or direct (the offline fast path)"},
            "usage": _or_null({"type": "object"}),
            "cost_usd": _or_null({"type": "number"}),
            "tool_calls": {"type": "array", "items": _ref("ToolCall")},
            "data": {},
            "confidence": {"type": "integer"},
            "routing": {"type": "object"},
            "status": {"type": "string", "enum": ["multiple_matches", "no_match"]},
            "options": {"type": "array", "items": _ref("AgentMatch")},
            "suggestions": {"type": "array", "items": _ref("AgentMatch")},
            "llm_fallback": _ref("LlmFallback"),
            "error": {"type": "string"},
            "code": {"type": "string"},
        },
    },
    "Agent": {
        "type": "object",
        "required": ["id", "name", "status"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "category": {"type": "string"},
            "description": {"type": "string"},
            "status": {"type": "string", "enum": ["active", "inactive", "maintenance"]},
            "triggers": {"type": "array", "items": {"type": "string"}},
            "model": {"type": "string"},
            "cost_per_query": {"type": "string", "examples": ["$0.001"]},
            "configured": {"type": "boolean"},
        },
    },
    "AgentDetails": {
        "allOf": [_ref("Agent")],
        "type": "object",
        "properties": {
            "weak_triggers": {"type": "array", "items": {"type": "string"}},
            "examples": {"type": "array", "items": {"type": "string"}},
            "requires": {"type": "array", "items": {"type": "string"}},
            "tools": {"type": "array", "items": {"type": "object", "required": ["name"]}},
            "missing": {"type": "array", "items": {"type": "string"}},
            "message": {"type": "string"},
            "execution_mode": {"type": "string"},
        },
    },
    "Stats": {
        "type": "object",
        "required": ["total_agents", "active_agents", "categories"],
        "properties": {
            "total_agents": {"type": "integer", "minimum": 0},
            "active_agents": {"type": "integer", "minimum": 0},
            "categories": {"type": "object", "additionalProperties": {"type": "integer"}},
            "average_cost": {"type": "string", "examples": ["$0.001"]},
            "summary": {"type": "object", "properties": {"operational_status": {"type": "string"}}},
            "since": _or_null({"type": "string"}),
            "window": {
                "type": "object",
                "description": "what the ledger figures cover: the days the ledger keeps (ORCHESTRATOR_LEDGER_DAYS; "
                "null: every execution) and the start counted from, the later of `since` and that limit",
                "required": ["days", "since"],
                "properties": {
                    "days": _or_null({"type": "integer", "minimum": 1}),
                    "since": _or_null({"type": "string", "format": "date-time"}),
                },
            },
            "agents": {
                "type": "object",
                "description": "measured figures per agent, from the ledger: calls, successes, success_rate, "
                "routed_executions, selection_accuracy (of its routed executions, the share no verdict "
                "contradicts), p50_ms, p95_ms, tokens, cost_usd, last_used",
            },
            "routing_fallback": {
                "type": "object",
                "description": "model calls that settled unsure routes: calls, used, tokens, cost_usd "
                "(included in summary.measured_cost_usd)",
            },
            "routing": {
                "type": "object",
                "description": "agent selection accuracy: routed executions that no routing verdict contradicts",
                "properties": {
                    "agent_selection_accuracy": _or_null({"type": "number", "minimum": 0, "maximum": 1}),
                    "routed_executions": {"type": "integer", "minimum": 0},
                    "corrected_executions": {"type": "integer", "minimum": 0},
                    "feedback": {"type": "object"},
                },
            },
        },
    },
    "FeedbackRequest": request_schema(
        contracts.FEEDBACK, "A verdict on one routing. Unknown agents are 422; an agent id or null (no agent) each."
    ),
    "FeedbackResult": {
        "type": "object",
        "description": "The verdict as recorded, and whether routing now learns from it (see the README: "
        "the same verdict twice, or an operator's route_feedback --confirm).",
        "required": ["recorded", "task", "routed_agent", "correct_agent", "confirmed"],
        "properties": {
            "recorded": {"const": True},
            "id": {"type": "integer"},
            "task": {"type": "string"},
            "routed_agent": _or_null({"type": "string"}),
            "correct_agent": _or_null({"type": "string"}),
            "correction": {"type": "boolean", "description": "routed_agent and correct_agent differ"},
            "confirmed": {"type": "boolean", "description": "routing has learnt this verdict"},
            "confirmations": {"type": "integer", "minimum": 0},
            "confirmations_needed": {"type": "integer", "minimum": 1},
            "message": {"type": "string"},
        },
    },
    "BatchRequest": {
        "description": f'Up to {MAX_BATCH} tasks, as a bare JSON list (the guide) or {{"tasks": [...]}}; '
        "each a task string or a smart-execute request.",
        "anyOf": [
            _ref("BatchTasks"),
            {"type": "object", "required": ["tasks"], "properties": {"tasks": _ref("BatchTasks")}},
        ],
    },
    "BatchTasks": {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_BATCH,
        "items": {"anyOf": [_property(contracts.SMART_EXECUTE.field("task"), True), _ref("SmartExecuteRequest")]},
    },
    "BatchResult": {
        "type": "array",
        "description": "One smart-execute result per task, in request order (an item may be an Error).",
        "items": {"anyOf": [_ref("ExecutionResult"), _ref("Error")]},
    },
    "AsyncRequest": {
        "description": "A smart-execute request (`task`) or an execute request (`agent` and `query`).",
        "anyOf": [
            {"allOf": [_ref("SmartExecuteRequest")], "not": {"required": ["agent"]}},
            _ref("ExecuteRequest"),
        ],
    },
    "AsyncAccepted": {
        "type": "object",
        "required": ["task_id", "status"],
        "properties": {"task_id": {"type": "string"}, "status": {"const": "processing"}},
    },
    "AsyncTask": {
        "type": "object",
        "required": ["task_id", "status"],
        "properties": {
            "task_id": {"type": "string"},
            "status": {"type": "string", "enum": ["processing", "completed", "failed"]},
            "kind": {"type": "string", "enum": ["execute", "smart-execute"]},
            "created_at": {"type": "string"},
            "finished_at": _or_null({"type": "string"}),
            "attempts": {"type": "integer", "minimum": 0},
            "result": {"description": "the JSON the synchronous endpoint would have answered"},
            "http_status": {"type": "integer", "description": "the status the synchronous endpoint would have used"},
            "error": {"type": "string"},
        },
    },
    "ExecutionSummary": {
        "type": "object",
        "description": "One execution from the ledger, as GET /orchestrator/executions lists it.",
        "required": ["id", "task", "agent", "mode", "success", "duration_ms", "cost_usd", "tools", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "task": {"type": "string", "description": "the query as recorded (redacted)"},
            "agent": {"type": "string"},
            "mode": {"type": "string", "enum": ["direct", "claude"]},
            "success": {"type": "boolean"},
            "duration_ms": _MS,
            "cost_usd": {"type": "number", "minimum": 0},
            "tools": {"type": "array", "items": {"type": "string"}, "description": "the tools it ran, in order"},
            "created_at": {"type": "string", "format": "date-time"},
            "route_status": _or_null({"type": "string"}),
            "error_code": _or_null({"type": "string"}),
        },
    },
    "ExecutionList": {
        "type": "object",
        "required": ["executions", "count", "limit"],
        "properties": {
            "executions": {"type": "array", "items": _ref("ExecutionSummary"), "description": "newest first"},
            "count": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        },
    },
    "ExecutionRecord": {
        "allOf": [
            _ref("ExecutionSummary"),
            {
                "type": "object",
                "properties": {
                    "answer": _or_null({"type": "string"}),
                    "data": {"description": "the tools' data as the execute JSON had it (null when not kept)"},
                    "error": _or_null({"type": "string"}),
                    "model": _or_null({"type": "string"}),
                    "usage": {"type": "object"},
                    "tool_calls": {"type": "array", "items": {"type": "object"}},
                    "route_score": _or_null({"type": "number"}),
                },
            },
        ]
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded"]},
            "registry": {"type": "object", "properties": {"loaded": {"type": "boolean"}}},
            "ledger": {"type": "object", "properties": {"writable": {"type": "boolean"}}},
            "state_dir": {
                "type": "object",
                "description": "the state directory: writable, free_bytes, and `error` saying what to fix",
                "properties": {"writable": {"type": "boolean"}, "free_bytes": {"type": ["integer", "null"]}},
            },
            "reasons": {"type": "array", "items": {"type": "string"}, "description": "why it is degraded"},
            "agents": {"type": "array", "items": {"type": "object"}},
            "workers": {"type": "object"},
            "uptime_s": {"type": "number"},
        },
    },
}

# --- responses ----------------------------------------------------------------------------


def _script_statuses() -> set[int]:
    """Every status a script's error code can map to (skills/errors.py's http_status)."""
    return {errors.OrchestratorError.http_status} | {
        cls.http_status for cls in errors.error_classes() if not issubclass(cls, errors.ServerError)
    }


_WHY = {
    400: "Malformed JSON (or, on the WebSocket, a bad handshake header).",
    401: "ORCHESTRATOR_API_KEY is set and the request lacks `Authorization: Bearer <key>`.",
    403: "Refused for safety (a tool refused the request; on the WebSocket, an Origin not allowed).",
    404: "Not found (no such agent, task or path, or no agent for the task).",
    409: "The agent is inactive or in maintenance.",
    411: "A chunked body: send it with Content-Length.",
    413: "Request body too large.",
    415: "The body is not `application/json`.",
    422: "A field is missing or has the wrong type, or a task/query is over 5,000 characters; `field` names it.",
    426: "Not a WebSocket upgrade, or Sec-WebSocket-Version is not 13.",
    429: "Rate limit reached (ORCHESTRATOR_RATE_LIMIT per minute); retry after `Retry-After` seconds.",
    500: "The server or a script failed unexpectedly (e.g. the registry does not validate).",
    502: "The script behind this endpoint crashed or printed something that is not JSON, or an upstream failed.",
    503: "Too many requests in flight, or the agent (or Claude) is not configured here.",
    504: "The script behind this endpoint ran past its time limit.",
}
_GUARDED = {401, 429, 500, 503}  # API key, rate limit, in-flight cap, a server fault: all but /health and /
_BODY = {400, 411, 413, 415, 422}  # endpoints that take a JSON body
_SCRIPTED = {500, 502, 503, 504}  # endpoints that run a script
_EXECUTION = _script_statuses() | _SCRIPTED  # an agent run can end in any error class's status


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _errors(statuses: set[int], schema: dict | None = None) -> dict:
    responses = {}
    for status in sorted(statuses):
        response = _json(_WHY[status], schema or _ref("Error"))
        if status in (429, 503):
            response["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}}
        responses[str(status)] = response
    return responses


def _op(op_id: str, summary: str, tag: str, ok: dict, statuses: set[int], *, ok_status: str = "200", **extra) -> dict:
    responses = {ok_status: ok, **_errors(statuses - {int(ok_status)}, extra.pop("error_schema", None))}
    return {"operationId": op_id, "summary": summary, "tags": [tag], "responses": responses, **extra}


def _body(schema: str) -> dict:
    return {"required": True, "content": {JSON: {"schema": _ref(schema)}}}


# the async task id is the server's, not a script's field
_TASK_ID = {
    "name": "task_id",
    "in": "path",
    "required": True,
    "description": "from POST /orchestrator/execute-async",
    "schema": {"type": "string"},
}


_EVENT_STREAM = {
    "schema": {
        "type": "string",
        "description": "With `Accept: text/event-stream`: server-sent events `routed` (smart execute), "
        "`tool_started`, `tool_finished`, `text` (the model's output as it streams), then `done` or `error` "
        "holding {http_status, result}: result is the JSON this request answers without streaming. "
        "Refusals (401, 415, 422, 429) stay JSON. See docs/http-api.md, Live progress and history.",
    }
}
_HISTORY_PARAMS = [
    {
        "name": "agent",
        "in": "query",
        "required": False,
        "description": "only this agent's executions",
        "schema": {"type": "string", "maxLength": contracts.MAX_AGENT_ID},
    },
    _param(contracts.WORKFORCE_STATS.field("since"), "query"),
    {
        "name": "success",
        "in": "query",
        "required": False,
        "description": "only successes (true) or failures (false)",
        "schema": {"type": "string", "enum": ["true", "false"]},
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "how many, newest first (default 50)",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
    },
]
_EXECUTION_ID = {
    "name": "execution_id",
    "in": "path",
    "required": True,
    "description": "an id from GET /orchestrator/executions",
    "schema": {"type": "integer", "minimum": 1},
}


def _streamable(response: dict) -> dict:
    """A 200 that, asked for it, comes as server-sent events instead of one JSON body."""
    return {**response, "content": {**response["content"], "text/event-stream": _EVENT_STREAM}}


def _paths() -> dict:
    execution = _streamable(_json("The agent's answer.", _ref("ExecutionResult")))
    # A failed run answers with its ExecutionResult (success false, error, code) under the error's status.
    failed_run = {"anyOf": [_ref("Error"), _ref("ExecutionResult")]}
    text = {"text/plain": {"schema": {"type": "string"}}}
    public = {"security": []}
    return {
        "/orchestrator/route": {
            "post": _op(
                "routeTask",
                "Route a task to the best agent",
                "routing",
                _json("The routing decision (also for no_match and multiple_matches).", _ref("RouteResult")),
                _BODY | _GUARDED | _SCRIPTED,
                requestBody=_body("RouteRequest"),
            )
        },
        "/orchestrator/execute": {
            "post": _op(
                "executeAgent",
                "Run a query through a named agent",
                "execution",
                execution,
                _BODY | _GUARDED | _EXECUTION,
                requestBody=_body("ExecuteRequest"),
                error_schema=failed_run,
            )
        },
        "/orchestrator/smart-execute": {
            "post": _op(
                "smartExecute",
                "Route a task, then run it through the chosen agent",
                "execution",
                execution,
                _BODY | _GUARDED | _EXECUTION,
                requestBody=_body("SmartExecuteRequest"),
                error_schema=failed_run,
                description="When routing is unsure the answer has `success: false`, `status` "
                "(no_match or multiple_matches) and the `options` to choose from; call execute with one.",
            )
        },
        "/orchestrator/execute-async": {
            "post": _op(
                "executeAsync",
                "Start an execute or smart execute in the background",
                "execution",
                _json("Accepted: poll GET /orchestrator/tasks/{task_id}.", _ref("AsyncAccepted")),
                _BODY | _GUARDED,
                ok_status="202",
                requestBody=_body("AsyncRequest"),
            )
        },
        "/orchestrator/tasks/{task_id}": {
            "get": _op(
                "getTask",
                "A background task's state, and its result once finished",
                "execution",
                _json("The task.", _ref("AsyncTask")),
                {404} | _GUARDED,
                parameters=[_TASK_ID],
            )
        },
        "/orchestrator/batch": {
            "post": _op(
                "batchExecute",
                "Smart-execute several tasks with bounded concurrency",
                "execution",
                _json("One result per task, in request order.", _ref("BatchResult")),
                _BODY | _GUARDED,
                requestBody=_body("BatchRequest"),
            )
        },
        "/orchestrator/feedback": {
            "post": _op(
                "recordFeedback",
                "Record which agent should have taken a task (a routing verdict)",
                "routing",
                _json("Recorded.", _ref("FeedbackResult")),
                _BODY | _GUARDED | _SCRIPTED,
                ok_status="201",
                requestBody=_body("FeedbackRequest"),
                description="Verdicts are kept in the ledger. Routing learns a task once the same verdict on it "
                "has been recorded twice (ORCHESTRATOR_FEEDBACK_CONFIRMATIONS); the registry file never changes.",
            )
        },
        "/orchestrator/agents": {
            "get": _op(
                "listAgents",
                "The agents, optionally of one category",
                "agents",
                _json("The agents.", {"type": "array", "items": _ref("Agent")}),
                {422} | _GUARDED | _SCRIPTED,
                parameters=[_param(contracts.LIST_AGENTS.field("category"), "query")],
            )
        },
        "/orchestrator/agents/{agent_id}": {
            "get": _op(
                "agentInfo",
                "One agent in detail, with its configuration state",
                "agents",
                _json("The agent.", _ref("AgentDetails")),
                {404, 422} | _GUARDED | _SCRIPTED,
                parameters=[_param(contracts.AGENT_INFO.field("agent"), "path", "agent_id")],
            )
        },
        "/orchestrator/stats": {
            "get": _op(
                "workforceStats",
                "Workforce statistics, measured from the ledger",
                "agents",
                _json("The statistics.", _ref("Stats")),
                {422} | _GUARDED | _SCRIPTED,
                parameters=[_param(contracts.WORKFORCE_STATS.field("since"), "query")],
            )
        },
        "/orchestrator/executions": {
            "get": _op(
                "listExecutions",
                "Recent executions from the ledger, newest first",
                "execution",
                _json("The executions.", _ref("ExecutionList")),
                {422} | _GUARDED,
                parameters=_HISTORY_PARAMS,
            )
        },
        "/orchestrator/executions/{execution_id}": {
            "get": _op(
                "getExecution",
                "One execution whole: its answer, data and tool calls",
                "execution",
                _json("The execution.", _ref("ExecutionRecord")),
                {404} | _GUARDED,
                parameters=[_EXECUTION_ID],
            )
        },
        "/health": {
            "get": _op(
                "health",
                "Registry loaded, ledger writable, each agent's configuration (no API key needed)",
                "service",
                _json("Healthy.", _ref("Health")),
                {429},
                responses_extra={"503": _json("Degraded: `reasons` says why.", _ref("Health"))},
                **public,
            )
        },
        "/metrics": {
            "get": _op(
                "metrics",
                "Prometheus text-format metrics",
                "service",
                {"description": "Metrics.", "content": text},
                _GUARDED,
            )
        },
        "/openapi.json": {
            "get": _op("openapi", "This document", "service", _json("OpenAPI 3.1.", {"type": "object"}), _GUARDED)
        },
        "/": {
            "get": _op(
                "page",
                "The built-in web page",
                "service",
                {"description": "The page.", "content": {"text/html": {"schema": {"type": "string"}}}},
                {429},
                **public,
            )
        },
        "/ws/orchestrator": {
            "get": _op(
                "websocket",
                "WebSocket (RFC 6455) for tasks",
                "execution",
                {"description": "Switching Protocols: the connection is now a WebSocket."},
                {400, 403, 422, 426} | _GUARDED,
                ok_status="101",
                description='Send a task as a text frame (plain text or {"task": ...}); each answer is '
                "the smart-execute JSON in a text frame. With ?events=true each step comes first as its own "
                'message {"event", "data"} (routed, tool_started, tool_finished, text). Binary frames close '
                "with 1003, messages over 64 KiB with 1009.",
                parameters=[
                    {
                        "name": "events",
                        "in": "query",
                        "required": False,
                        "description": "send progress events",
                        "schema": {"type": "string", "enum": ["true", "false"]},
                    }
                ],
            )
        },
    }


def _finish(paths: dict) -> dict:
    for item in paths.values():
        for operation in item.values():
            operation["responses"].update(operation.pop("responses_extra", {}))
    return paths


def build_spec(*, api_key_required: bool = False) -> dict:
    """The document; `api_key_required` (ORCHESTRATOR_API_KEY is set) adds bearer auth and the 401s."""
    paths = _finish(_paths())
    spec = {
        "openapi": "3.1.0",
        "info": {
            "title": "FibreFlow Orchestrator API",
            "version": VERSION,
            "description": "Routes natural-language tasks to FibreFlow's specialised agents and runs them. "
            'Every error is JSON: {"error", "code", "field"}.',
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name} for name in ("routing", "execution", "agents", "service")],
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
    if api_key_required:
        spec["components"]["securitySchemes"] = {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "The server's ORCHESTRATOR_API_KEY."}
        }
        spec["security"] = [{"bearerAuth": []}]
    else:
        for item in paths.values():
            for operation in item.values():
                operation.pop("security", None)
                operation["responses"].pop("401", None)
    return spec


def operations(spec: dict) -> set[tuple[str, str]]:
    """(METHOD, path) pairs the document describes: what tests compare with the server's routes."""
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
