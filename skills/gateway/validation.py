"""What each endpoint accepts, checked before any script runs.

The fields, their kinds and limits are the scripts' own declarations (skills/contracts.py); a
request is checked against the `Request` of its endpoint. Every refusal is an error of the one
family in skills/errors.py (BadInput 422, BadJson 400) whose JSON {"error", "code", "field"}
says what to fix. The scripts check their input again (they are the source of truth); checking
here too means a bad request costs no worker time and gets a precise 4xx.
"""

from __future__ import annotations

import json

from skills import json_limits
from skills.contracts import (
    AGENT_INFO,
    EXECUTE,
    FEEDBACK,
    FLAG,
    MAX_BATCH,
    OBJECT,
    SMART_EXECUTE,
    TEXT,
    WORKFORCE_STATS,
    Field,
    Request,
)
from skills.errors import BadInput, BadJson
from skills.ledger.history import DEFAULT_LIMIT, MAX_LIMIT
from skills.ledger.stats import parse_since

_KIND_TYPES = {TEXT: str, FLAG: bool, OBJECT: dict}
_KIND_WORDS = {TEXT: "a string", FLAG: "true or false", OBJECT: "a JSON object"}


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
        raise BadJson("the request body is not UTF-8 text", field="body") from None
    except RecursionError:
        raise BadJson("the request body nests too deeply", field="body") from None
    except ValueError as exc:
        raise BadJson(f"the request body is not valid JSON: {exc}", field="body") from None


def check(body, request: Request, *, prefix: str = "") -> dict:
    """The known fields of `body` after type and length checks; unknown fields are ignored.

    A nullable field (a feedback's agents) is left to its endpoint's own check: null is its value."""
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object", field=prefix.rstrip(".") or "body")
    clean = {}
    for spec in request.fields:
        if spec.nullable:
            continue
        name = prefix + spec.name
        required = spec.name in request.required
        value = body.get(spec.name)
        if value is None:
            if required:
                raise BadInput(f"field {name!r} is required", field=name)
            continue
        # bool is a subclass of int, but no field here takes numbers, so isinstance is exact enough
        if not isinstance(value, _KIND_TYPES[spec.kind]):
            raise BadInput(f"field {name!r} must be {_KIND_WORDS[spec.kind]}", field=name)
        if spec.kind == TEXT:
            if required and not value.strip():
                raise BadInput(f"field {name!r} must not be empty", field=name)
            if spec.max_len is not None and len(value) > spec.max_len:
                raise BadInput(f"field {name!r} is {len(value)} characters; the limit is {spec.max_len}", field=name)
        reason = json_limits.problem(value)
        if reason:
            raise BadInput(f"field {name!r} {reason}", field=name)
        clean[spec.name] = value
    return clean


def check_feedback(body) -> dict:
    """A routing verdict: the task, and both agents present (an id, or null for no agent)."""
    clean = check(body, FEEDBACK)
    for spec in FEEDBACK.fields:
        if not spec.nullable:
            continue
        name = spec.name
        if name not in body:
            raise BadInput(f"field {name!r} is required: an agent id, or null for no agent", field=name)
        value = body[name]
        if value is not None and not isinstance(value, str):
            raise BadInput(f"field {name!r} must be an agent id (a string) or null", field=name)
        if isinstance(value, str) and len(value) > spec.max_len:
            raise BadInput(f"field {name!r}: no agent has an id that long", field=name)
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
    raise BadInput("give either 'agent' and 'query' (execute) or 'task' (smart execute)", field="task")


def check_batch(body) -> list[dict]:
    """A bare list of task strings (the guide) or {"tasks": [...]}; items are strings or {task, context}."""
    prefix = "tasks"
    if isinstance(body, dict):
        if "tasks" not in body:
            raise BadInput("field 'tasks' is required: a list of task strings", field="tasks")
        body = body["tasks"]
    elif not isinstance(body, list):
        raise BadInput('send a JSON list of tasks or {"tasks": [...]}', field="tasks")
    if not isinstance(body, list):
        raise BadInput("field 'tasks' must be a JSON list", field="tasks")
    if not body:
        raise BadInput("the batch is empty: give at least one task", field="tasks")
    if len(body) > MAX_BATCH:
        raise BadInput(f"the batch has {len(body)} tasks; the limit is {MAX_BATCH}: split it", field="tasks")
    items = []
    for index, item in enumerate(body):
        where = f"{prefix}[{index}]"
        if isinstance(item, str):
            item = {"task": item}
        elif not isinstance(item, dict):
            raise BadInput(f"{where} must be a task string or an object with 'task'", field=where)
        items.append(check(item, SMART_EXECUTE, prefix=where + "."))
    return items


def check_query_text(spec: Field, values: list[str]) -> str | None:
    """One optional query-string parameter (e.g. ?category=database), the script's field of that name."""
    name, max_len = spec.name, spec.max_len
    if not values:
        return None
    if len(values) > 1:
        raise BadInput(f"give '{name}' once", field=name)
    value = values[0].strip()
    if len(value) > max_len:
        raise BadInput(f"'{name}' is longer than {max_len} characters", field=name)
    return value or None


_FLAG_WORDS = {"true": True, "false": False}  # exactly these, as the OpenAPI document says


def check_query_flag(name: str, values: list[str]) -> bool | None:
    """One optional true/false query-string parameter (?events=true, ?success=false); None when absent."""
    if not values:
        return None
    if len(values) > 1:
        raise BadInput(f"give '{name}' once", field=name)
    value = _FLAG_WORDS.get(values[0])
    if value is None:
        raise BadInput(f"'{name}' must be true or false", field=name)
    return value


def _query_limit(values: list[str]) -> int:
    if not values:
        return DEFAULT_LIMIT
    if len(values) > 1:
        raise BadInput("give 'limit' once", field="limit")
    text = values[0].strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
        raise BadInput(f"'limit' must be a whole number from 1 to {MAX_LIMIT}", field="limit")
    return int(text)


def check_history_query(query: dict[str, list[str]]) -> dict:
    """GET /orchestrator/executions's filters: agent, since (as for the stats), success, limit."""
    since = check_query_text(WORKFORCE_STATS.field("since"), query.get("since", []))
    return {
        "agent": check_query_text(AGENT_INFO.field("agent"), query.get("agent", [])),
        "since": parse_since(since) if since else None,
        "success": check_query_flag("success", query.get("success", [])),
        "limit": _query_limit(query.get("limit", [])),
    }
