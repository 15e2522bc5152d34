"""execute_agent: run a query through an agent, or route a task and run it (smart execute).

Smart execute itself is skills/execution/smart.py; it lets the cheapest model settle a route that
lexical routing is unsure of unless told not to; without ANTHROPIC_API_KEY it never asks.
"""

from __future__ import annotations

import sys

from skills.cli import require_text, run_script
from skills.contracts import EXECUTE_AGENT, LOOKED_UP_ID
from skills.errors import BadInput
from skills.execution.smart import smart_execute
from skills.registry.loader import load_registry

OPTIONS = EXECUTE_AGENT.fields

ROUTE_STATUSES = ("routed", "high_confidence", "multiple_matches", "no_match")


def accept_route_result(fields: dict) -> dict:
    """`route_task ... | execute_agent --json -`: take the agent and task from a routing result.

    Only what execution needs is kept (the rest of a route result, e.g. alternatives or
    suggestions, describes routing), so the pipe keeps working when routing says more.
    A result without an agent (multiple_matches, no_match) leaves the task for smart execute,
    which routes it again and answers with the options or suggestions.
    """
    if fields.get("status") not in ROUTE_STATUSES:
        return fields  # the caller's own fields: unknown ones are refused by the shared check
    agent = fields.get("agent")
    kept = {name: fields[name] for name in ("task", "query", "context", "direct", "no_llm_fallback") if name in fields}
    if isinstance(agent, dict):
        kept["agent"] = agent.get("agent_id")
        kept.setdefault("query", fields.get("task"))
    elif isinstance(agent, str):  # --agent on the command line wins over the piped choice
        kept["agent"] = agent
    return kept


def wants_llm_fallback(fields: dict) -> bool:
    """Smart execute asks the model when unsure unless told not to (--no-llm-fallback, "llm_fallback": false)."""
    value = fields.get("llm_fallback")
    if value is not None and not isinstance(value, bool | dict):  # a dict: the report of a piped route result
        raise BadInput("field 'llm_fallback' must be true or false", field="llm_fallback")
    return not fields.get("no_llm_fallback") and value is not False


def handle(fields: dict, settings) -> tuple[dict, int]:
    from skills.execution.execute import execute

    registry = load_registry(settings.registry_path, settings.state_dir)
    context, direct = fields.get("context"), bool(fields.get("direct"))
    if not fields.get("agent"):
        from skills.routing.names.refresh import refresh_if_due

        registry = refresh_if_due(settings, registry)
        task = require_text(fields, EXECUTE_AGENT.field("task"))
        return smart_execute(registry, settings, task, context, direct, wants_llm_fallback(fields))
    agent_id = require_text(fields, EXECUTE_AGENT.field("agent"), limit=LOOKED_UP_ID)
    asked = "query" if fields.get("query") or not fields.get("task") else "task"
    query = require_text(fields, EXECUTE_AGENT.field(asked))
    return execute(registry, settings, agent_id, query, context=context, direct=direct), 0


def _preload_sdk_for_a_worker(argv: list[str]) -> None:
    """A `--jsonl` worker with a key imports the Anthropic SDK before its first line, not inside it.

    The import takes seconds on a busy machine; inside a request it would eat that request's
    ORCHESTRATOR_AGENT_TIMEOUT and the first caller after a (re)start would wait for it.
    """
    if "--jsonl" not in argv:
        return
    from skills.config import load_settings

    if load_settings().anthropic_api_key:
        import anthropic  # noqa: F401  (imported for its side effect: warm module cache)


def main(argv: list[str] | None = None) -> int:
    _preload_sdk_for_a_worker(sys.argv[1:] if argv is None else argv)
    return run_script(EXECUTE_AGENT, handle, argv, prepare=accept_route_result)
