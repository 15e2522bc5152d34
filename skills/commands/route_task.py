"""route_task: which agent should handle a task."""

import time

from skills.cli import require_text, run_script
from skills.contracts import ROUTE_TASK
from skills.registry.loader import entity_names_due, load_registry
from skills.routing import route

OPTIONS = ROUTE_TASK.fields


def handle(fields: dict, settings) -> tuple[dict, int]:
    started = time.perf_counter()
    task = require_text(fields, ROUTE_TASK.field("task"))
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
    return run_script(ROUTE_TASK, handle, argv)
