"""What a tool is: an ordinary typed function with a docstring, plus the schema derived from it.

An agent's tools live in `agents/<agent-id>/tools.py` as functions decorated with `@tool`.
The first parameter is always `ctx: ToolContext` (settings and limits; never shown to the
model). The other parameters become the JSON schema the model sees, derived once from the
signature and the docstring's `Args:` section, so it is never hand-copied elsewhere.

A tool returns `ToolResult(summary, data)`: `summary` is a short sentence a person reads
(the offline fast path answers with it), `data` is plain JSON-able values. A tool signals
failure by raising one of `skills.errors` (ToolRefused, UpstreamUnavailable, BadInput, ...).

`@tool(parse=fn)` gives the offline fast path a way to pull arguments out of the user's
words: `fn(query: str) -> dict` of keyword arguments (missing ones take their defaults).

A tools module may also define `check_question(ctx, query)`, which refuses a question that
names a thing that does not exist (skills.errors.NotFound) before any tool or model runs.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import time
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skills import progress
from skills.errors import BadInput, OrchestratorError, RegistryInvalid


@dataclass
class ToolResult:
    summary: str
    data: Any = None
    # Facts a yes/no question may ask about ("over budget": False), so the offline answer can start
    # with Yes or No (skills/answers/reading.answer_yes_no). Not sent to the model: the summary says them too.
    checks: dict[str, bool] | None = None


@dataclass
class ToolContext:
    settings: Any  # skills.config.Settings
    agent_id: str = ""
    deadline: float | None = None  # time.monotonic() value by which the tool must give up
    tables: tuple[str, ...] = ()  # a data agent's own tables (registry `data.tables`); () = all the role reads


@dataclass
class ToolCall:
    """What one tool call did, as reported to the user and written to the ledger."""

    name: str
    arguments: dict
    duration_ms: float
    ok: bool
    error: str | None = None
    error_code: str | None = None

    def to_json(self) -> dict:
        body = {
            "name": self.name,
            "arguments": self.arguments,
            "duration_ms": round(self.duration_ms, 1),
            "ok": self.ok,
        }
        if self.error:
            body["error"] = self.error
            body["code"] = self.error_code
        return body


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: dict
    function: Callable[..., ToolResult]
    parse: Callable[[str], dict] | None = None

    def schema_for_model(self) -> dict:
        """The Anthropic Messages API `tools` entry."""
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema}

    def call(self, ctx: ToolContext, arguments: dict) -> ToolResult:
        allowed = set(self.input_schema.get("properties", {}))
        unknown = sorted(set(arguments) - allowed)
        if unknown:
            raise BadInput(f"tool {self.name} has no argument {unknown[0]!r}", field=unknown[0])
        missing = [name for name in self.input_schema.get("required", []) if name not in arguments]
        if missing:
            raise BadInput(f"tool {self.name} needs argument {missing[0]!r}", field=missing[0])
        return self.function(ctx, **arguments)


_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array"}


def _json_type(annotation: Any) -> dict:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        values = list(typing.get_args(annotation))
        return {"type": _JSON_TYPES[type(values[0])], "enum": values}
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _json_type(options[0])
    if origin in (list, tuple):
        args = typing.get_args(annotation)
        return {"type": "array", "items": _json_type(args[0])} if args else {"type": "array"}
    if annotation in _JSON_TYPES:
        return {"type": _JSON_TYPES[annotation]}
    raise TypeError(f"unsupported tool parameter type {annotation!r}")


def _docstring_parts(doc: str) -> tuple[str, dict[str, str]]:
    """Split a docstring into its description and the `Args:` section's per-name text."""
    description, _, args_block = inspect.cleandoc(doc or "").partition("\nArgs:")
    params: dict[str, str] = {}
    current = None
    for line in args_block.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        name, sep, text = stripped.partition(":")
        if sep and " " not in name and line.startswith(("    ", "\t")) and not line.startswith("        "):
            current = name.strip()
            params[current] = text.strip()
        elif current:
            params[current] += " " + stripped
    return " ".join(description.split()), params


def build_schema(function: Callable) -> dict:
    signature = inspect.signature(function)
    hints = typing.get_type_hints(function)
    _, param_docs = _docstring_parts(function.__doc__ or "")
    properties: dict[str, dict] = {}
    required: list[str] = []
    for name, parameter in list(signature.parameters.items())[1:]:  # skip ctx
        prop = _json_type(hints[name])
        if name in param_docs:
            prop["description"] = param_docs[name]
        if parameter.default is inspect.Parameter.empty:
            required.append(name)
        elif parameter.default is not None:
            prop["default"] = parameter.default
        properties[name] = prop
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def tool(function: Callable | None = None, *, parse: Callable[[str], dict] | None = None):
    """Mark a function as a tool; usable as `@tool` or `@tool(parse=...)`."""

    def mark(fn: Callable) -> Callable:
        description, _ = _docstring_parts(fn.__doc__ or "")
        fn.__tool__ = Tool(fn.__name__, description, build_schema(fn), fn, parse)
        return fn

    return mark(function) if function is not None else mark


def _agent_module(agents_dir: str, agent_id: str) -> types.ModuleType:
    """`agents/<agent_id>/tools.py`, imported once per process."""
    path = os.path.join(agents_dir, agent_id, "tools.py")
    if not os.path.isfile(path):
        raise RegistryInvalid(
            f"the registry lists agent {agent_id!r} but {path} does not exist: add its tools module",
            details={"agent": agent_id},
        )
    module_name = "agents_" + agent_id.replace("-", "_") + "_tools"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return module


def load_agent_tools(agents_dir: str, agent_id: str) -> dict[str, Tool]:
    """Import `agents/<agent_id>/tools.py` and return its tools by name."""
    module = _agent_module(agents_dir, agent_id)
    return {
        obj.__tool__.name: obj.__tool__ for obj in vars(module).values() if callable(obj) and hasattr(obj, "__tool__")
    }


def load_offline_planner(agents_dir: str, agent_id: str) -> Callable[[ToolContext, str], list] | None:
    """The agent's `plan_offline(ctx, query) -> [(tool name, arguments), ...]`, if it has one.

    A planner reads names and filters from the question; an empty plan leaves the choice to the
    tool triggers in the registry. (Data agents have none: the interpreter reads their questions.)
    """
    return getattr(_agent_module(agents_dir, agent_id), "plan_offline", None)


def load_question_check(agents_dir: str, agent_id: str) -> Callable[[ToolContext, str], None] | None:
    """The agent's `check_question(ctx, query)`, if it has one: it refuses a question before any tool
    or model runs (vps-monitor: a server that is not configured), on both the offline and Claude paths."""
    return getattr(_agent_module(agents_dir, agent_id), "check_question", None)


def load_agent_prompt(agents_dir: str, agent_id: str) -> str:
    path = os.path.join(agents_dir, agent_id, "prompt.md")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        raise RegistryInvalid(
            f"the registry lists agent {agent_id!r} but {path} cannot be read: add its system prompt",
            details={"agent": agent_id},
        ) from None


def run_tool(
    tool: Tool, ctx: ToolContext, arguments: dict
) -> tuple[ToolResult | None, ToolCall, OrchestratorError | None]:
    """Call a tool, timing it; an OrchestratorError becomes a failed ToolCall instead of escaping.

    Unexpected exceptions (bugs) are not swallowed: they propagate.
    """
    progress.emit("tool_started", {"name": tool.name, "arguments": arguments})
    started = time.perf_counter()
    try:
        result = tool.call(ctx, arguments)
    except OrchestratorError as error:
        elapsed = (time.perf_counter() - started) * 1000
        call = ToolCall(tool.name, arguments, elapsed, False, error.message, error.code)
        progress.emit("tool_finished", call.to_json())
        return None, call, error
    elapsed = (time.perf_counter() - started) * 1000
    call = ToolCall(tool.name, arguments, elapsed, True)
    progress.emit("tool_finished", call.to_json())
    return result, call, None
