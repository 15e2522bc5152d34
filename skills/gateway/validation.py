"""What each endpoint accepts, checked before any script runs, and the HTTP error type.

Every refusal is an ApiError: an HTTP status plus the JSON body {"error", "code", "field"}
that says what to fix. The scripts check their input again (they are the source of truth);
checking here too means a bad request costs no worker time and gets a precise 4xx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from skills import json_limits
from skills.cli import MAX_TEXT  # the scripts' limit; the server refuses earlier with a 422

MAX_AGENT_ID = 100
MAX_BATCH = 50  # tasks in one batch request


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, field: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}

    def to_json(self) -> dict:
        body = {"error": self.message, "code": self.code}
        if self.field:
            body["field"] = self.field
        return body


@dataclass(frozen=True)
class Field:
    name: str
    kind: type
    required: bool = False
    max_len: int | None = None


@dataclass(frozen=True)
class Schema:
    fields: tuple[Field, ...] = field(default_factory=tuple)


_KIND_WORDS = {str: "a string", bool: "true or false", dict: "a JSON object", list: "a JSON list"}

ROUTE = Schema(
    (
        Field("task", str, True, MAX_TEXT),
        Field("auto_select", bool),
        Field("context", dict),
        Field("explain", bool),
        Field("llm_fallback", bool),  # off unless asked for
    )
)
EXECUTE = Schema((Field("agent", str, True, MAX_AGENT_ID), Field("query", str, True, MAX_TEXT), Field("context", dict)))
# llm_fallback is on unless false
SMART_EXECUTE = Schema((Field("task", str, True, MAX_TEXT), Field("context", dict), Field("llm_fallback", bool)))


FEEDBACK = Schema((Field("task", str, True, MAX_TEXT),))
FEEDBACK_AGENTS = ("routed_agent", "correct_agent")  # each an agent id, or null for "no agent"


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):  # 1e999: valid JSON, but no float holds it and no reply can say it
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def parse_json(raw: bytes):
    """The request body as JSON, or 400 bad_json saying where it broke."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise ApiError(400, "bad_json", "the request body is not UTF-8 text", field="body") from None
    except RecursionError:
        raise ApiError(400, "bad_json", "the request body nests too deeply", field="body") from None
    except ValueError as exc:
        raise ApiError(400, "bad_json", f"the request body is not valid JSON: {exc}", field="body") from None


def check(body, schema: Schema, *, prefix: str = "") -> dict:
    """The known fields of `body` after type and length checks; unknown fields are ignored."""
    if not isinstance(body, dict):
        raise ApiError(422, "bad_input", "the request body must be a JSON object", field=prefix.rstrip(".") or "body")
    clean = {}
    for spec in schema.fields:
        name = prefix + spec.name
        value = body.get(spec.name)
        if value is None:
            if spec.required:
                raise ApiError(422, "bad_input", f"field {name!r} is required", field=name)
            continue
        # bool is a subclass of int, but no field here takes numbers, so isinstance is exact enough
        if not isinstance(value, spec.kind):
            raise ApiError(422, "bad_input", f"field {name!r} must be {_KIND_WORDS[spec.kind]}", field=name)
        if spec.kind is str:
            if spec.required and not value.strip():
                raise ApiError(422, "bad_input", f"field {name!r} must not be empty", field=name)
            if spec.max_len is not None and len(value) > spec.max_len:
                raise ApiError(
                    422,
                    "bad_input",
                    f"field {name!r} is {len(value)} characters; the limit is {spec.max_len}",
                    field=name,
                )
        reason = json_limits.problem(value)
        if reason:
            raise ApiError(422, "bad_input", f"field {name!r} {reason}", field=name)
        clean[spec.name] = value
    return clean


def check_feedback(body) -> dict:
    """A routing verdict: the task, and both agents present (an id, or null for no agent)."""
    clean = check(body, FEEDBACK)
    for name in FEEDBACK_AGENTS:
        if name not in body:
            message = f"field {name!r} is required: an agent id, or null for no agent"
            raise ApiError(422, "bad_input", message, field=name)
        value = body[name]
        if value is not None and not isinstance(value, str):
            raise ApiError(422, "bad_input", f"field {name!r} must be an agent id (a string) or null", field=name)
        if isinstance(value, str) and len(value) > MAX_AGENT_ID:
            raise ApiError(422, "bad_input", f"field {name!r}: no agent has an id that long", field=name)
        clean[name] = value
    return clean


def check_async(body) -> tuple[str, dict]:
    """execute-async takes either an execute request (agent + query) or a smart one (task)."""
    if isinstance(body, dict) and "agent" in body:
        return "execute", check(body, EXECUTE)
    if isinstance(body, dict) and "task" in body:
        return "smart-execute", check(body, SMART_EXECUTE)
    if not isinstance(body, dict):
        check(body, SMART_EXECUTE)  # raises the "must be a JSON object" error
    raise ApiError(
        422, "bad_input", "give either 'agent' and 'query' (execute) or 'task' (smart execute)", field="task"
    )


def check_batch(body) -> list[dict]:
    """A bare list of task strings (the guide) or {"tasks": [...]}; items are strings or {task, context}."""
    prefix = "tasks"
    if isinstance(body, dict):
        if "tasks" not in body:
            raise ApiError(422, "bad_input", "field 'tasks' is required: a list of task strings", field="tasks")
        body = body["tasks"]
    elif not isinstance(body, list):
        raise ApiError(422, "bad_input", 'send a JSON list of tasks or {"tasks": [...]}', field="tasks")
    if not isinstance(body, list):
        raise ApiError(422, "bad_input", "field 'tasks' must be a JSON list", field="tasks")
    if not body:
        raise ApiError(422, "bad_input", "the batch is empty: give at least one task", field="tasks")
    if len(body) > MAX_BATCH:
        raise ApiError(
            422, "bad_input", f"the batch has {len(body)} tasks; the limit is {MAX_BATCH}: split it", field="tasks"
        )
    items = []
    for index, item in enumerate(body):
        where = f"{prefix}[{index}]"
        if isinstance(item, str):
            item = {"task": item}
        elif not isinstance(item, dict):
            raise ApiError(422, "bad_input", f"{where} must be a task string or an object with 'task'", field=where)
        items.append(check(item, SMART_EXECUTE, prefix=where + "."))
    return items


def check_query_text(name: str, values: list[str], *, max_len: int = MAX_AGENT_ID) -> str | None:
    """One optional query-string parameter (e.g. ?category=database)."""
    if not values:
        return None
    if len(values) > 1:
        raise ApiError(422, "bad_input", f"give '{name}' once", field=name)
    value = values[0].strip()
    if len(value) > max_len:
        raise ApiError(422, "bad_input", f"'{name}' is longer than {max_len} characters", field=name)
    return value or None
