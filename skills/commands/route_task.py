"""route_task: which agent should handle a task."""

import time

from skills.cli import FLAG, OBJECT, TEXT, Option, require_text, run_script
from skills.registry.loader import entity_names_due, load_registry
from skills.routing import route

OPTIONS = [
    Option("--task", "task", TEXT, "the task in the user's words (required)"),
    Option("--auto-select", "auto_select", FLAG, "always pick the best agent when any matches"),
    Option("--context", "context", OBJECT, 'request context, e.g. {"page": "monitoring"}'),
    Option("--explain", "explain", FLAG, "show what contributed to each candidate's score"),
    Option("--llm-fallback", "llm_fallback", FLAG, "when unsure, let the cheapest model choose (ANTHROPIC_API_KEY)"),
]


def handle(fields: dict, settings) -> tuple[dict, int]:
    started = time.perf_counter()
    task = require_text(fields, "task")
    registry = load_registry(settings.registry_path, settings.state_dir)
    if entity_names_due(settings, registry["index"]):
        from skills.routing.names.refresh import refresh_names  # and the readers: only when the names are due

        registry = refresh_names(settings, registry)
    result = route(
        registry,
        task,
        auto_select=bool(fields.get("auto_select")),
        context=fields.get("context"),
        explain=bool(fields.get("explain")),
    )
    if fields.get("llm_fallback"):
        from skills.execution.fallback import settle  # lazy: the plain route path stays light

        result = settle(registry, result, task, settings, context=fields.get("context"))
    result["execution_time_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result, 1 if result["status"] == "no_match" else 0


def main(argv: list[str] | None = None) -> int:
    return run_script(
        "route_task", "Route a task to the best agent; prints the routing decision as JSON.", OPTIONS, handle, argv
    )
