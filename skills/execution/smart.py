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
from skills.errors import AmbiguousTask, NoMatch, OrchestratorError


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
    from skills.execution.request import one_request

    with one_request():  # the data agents read the task once, to settle routing and to answer
        return _smart_execute(registry, settings, task, context, direct, llm_fallback)


def _smart_execute(
    registry: dict, settings, task: str, context: dict | None, direct: bool, llm_fallback: bool
) -> tuple[dict, int]:
    from skills.execution.execute import execute
    from skills.routing import route as route_task

    started = time.perf_counter()
    decision = route_task(registry, task, context=context)
    if decision["agent"] is None and llm_fallback:
        from skills.execution.fallback import settle

        decision = settle(registry, decision, task, settings, context=context)
    decision = settle_among_data_agents(registry, settings, decision, task)
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
    if "settled_by" in decision:
        result["routing"]["settled_by"] = decision["settled_by"]
    result["execution_time_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result, 0


# ---------------------------------------------------------------- data agents settle between themselves


def _data_agent(registry: dict, settings, agent_id: str) -> dict | None:
    from skills.execution.readiness import missing_requirements
    from skills.registry.loader import find_agent

    agent = find_agent(registry, agent_id)
    if not agent or not agent.get("data") or agent["status"] != "active" or missing_requirements(agent, settings):
        return None
    return agent


def _reading_of(settings, agent: dict, task: str):
    """The agent's interpreter on the task (a Reading or a Refusal); None when its database cannot be read."""
    from skills.execution.data import read_question

    try:
        return read_question(settings, agent, task, None)[0]
    except OrchestratorError:
        return None


def _pick(candidates: list[tuple[dict, dict]], settings, task: str) -> tuple[dict, str] | None:
    """(routing entry, agent) pairs: (the entry to run, why) when one agent reads the task as one query
    (or all read the same query on the same database), all refuse it as a change, or only one knows
    every word of it; None when none or several differ."""
    from skills.answers.model import Reading

    readings = [(entry, agent, _reading_of(settings, agent, task)) for entry, agent in candidates]
    if readings and all(r is not None and not isinstance(r, Reading) and r.code == "read_only" for _, _, r in readings):
        return readings[0][0], "read_only"  # a change asked of read-only agents: the first one says so
    answered = [(entry, agent, r) for entry, agent, r in readings if isinstance(r, Reading)]
    queries = {(agent["data"].get("url_env"), r.sql, repr(r.params)) for _, agent, r in answered}
    if len(queries) == 1:
        return answered[0][0], "reads the whole task"
    understood = [entry for entry, _, r in readings if r is not None and r.code != "model_required"]
    if not answered and len(understood) == 1:  # the one agent that knows every word: its refusal is the answer
        return understood[0], "knows every word of the task"
    return None


def settle_among_data_agents(registry: dict, settings, decision: dict, task: str) -> dict:
    """Data agents answer from their schemas, so routing's doubt between them can be settled by
    reading: of several equally fit data agents (multiple_matches), the one whose interpreter reads
    the whole task; of a routed data agent that cannot read it (words or tables it does not have),
    the one other data agent on the same database that can. Anything else is left as routed."""
    if decision["agent"] is None and decision.get("status") == "multiple_matches":
        options = decision.get("options") or []
        candidates = [(o, _data_agent(registry, settings, o["agent_id"])) for o in options]
        if not options or any(agent is None for _, agent in candidates):
            return decision
        chosen = _pick(candidates, settings, task)
        if chosen is None:
            return decision
        entry, why = chosen
        why = why if why == "read_only" else f"the only data agent that {why}"
        return {**decision, "status": "routed", "agent": entry, "settled_by": why}
    routed = decision.get("agent")
    first = routed and _data_agent(registry, settings, routed["agent_id"])
    if not first:
        return decision
    reading = _reading_of(settings, first, task)
    if reading is None or getattr(reading, "code", None) != "model_required":
        return decision
    others = [
        agent
        for agent in registry["agents"]
        if agent["id"] != first["id"]
        and agent.get("data", {}).get("url_env") == first["data"].get("url_env")
        and _data_agent(registry, settings, agent["id"])
    ]
    entries = [({**routed, "agent_id": agent["id"], "agent_name": agent["name"]}, agent) for agent in others]
    chosen = _pick(entries, settings, task)
    if chosen is None or chosen[1] == "read_only":
        return decision
    return {**decision, "agent": chosen[0], "settled_by": f"{first['id']} could not read the task"}
