"""Smart execute: route a task, let the model settle an unsure route, then run the chosen agent.

It never guesses: with no agent (no_match) or several equally fit (ambiguous_task) it answers
with the suggestions or options instead of running anything. The model is asked only when
`llm_fallback` is on and ANTHROPIC_API_KEY is set (skills/execution/fallback.py). The
execute_agent command (given a task), the HTTP and MCP smart-execute calls through it, and the
answers evaluation all run this one function.
"""

from __future__ import annotations

import time

from skills import progress
from skills.errors import AmbiguousTask, NoMatch


def _unsure(route: dict) -> tuple[dict, int]:
    """Smart execute does not guess: it hands back the choices."""
    if route["status"] == "no_match":
        payload = {
            "success": False,
            "status": "no_match",
            "code": NoMatch.code,
            "error": route["message"],
            "task": route["task"],
            "suggestions": route.get("suggestions", []),
        }
        status = NoMatch.exit_status
    else:
        payload = {
            "success": False,
            "status": "multiple_matches",
            "code": AmbiguousTask.code,
            "error": "Several agents fit this task equally well: choose one of the options and call execute with it.",
            "task": route["task"],
            "options": route.get("options", []),
        }
        status = AmbiguousTask.exit_status
    if "llm_fallback" in route:
        payload["llm_fallback"] = route["llm_fallback"]
    return payload, status


def _who(candidate: dict) -> dict:
    return {
        "agent": candidate["agent_id"],
        "agent_name": candidate.get("agent_name"),
        "confidence": candidate.get("confidence"),
    }


def routed_event(decision: dict) -> dict:
    """The `routed` progress event: the chosen agent, how sure routing is, and who came close."""
    agent = decision["agent"]
    return {
        **_who(agent),
        "confidence_level": agent.get("confidence_level"),
        "status": decision["status"],
        "alternatives": [_who(other) for other in decision.get("alternatives") or []],
    }


def smart_execute(
    registry: dict, settings, task: str, context: dict | None, direct: bool, llm_fallback: bool = True
) -> tuple[dict, int]:
    """(the execution result, or the unsure route's choices; the exit status) for `task`."""
    from skills.execution.execute import execute
    from skills.routing import route as route_task

    started = time.perf_counter()
    decision = route_task(registry, task, context=context)
    if decision["agent"] is None and llm_fallback:
        from skills.execution.fallback import settle

        decision = settle(registry, decision, task, settings, context=context)
    if decision["agent"] is None:
        return _unsure(decision)
    agent = decision["agent"]
    progress.emit("routed", routed_event(decision))
    result = execute(registry, settings, agent["agent_id"], task, context=context, direct=direct, route=decision)
    result["confidence"] = agent["confidence"]
    result["routing"] = {key: agent[key] for key in ("score", "confidence_level", "matched_keywords")}
    result["routing"]["status"] = decision["status"]
    if "llm_fallback" in decision:
        result["routing"]["llm_fallback"] = decision["llm_fallback"]
    result["execution_time_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result, 0
