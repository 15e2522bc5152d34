"""Confirmed corrections (the `feedback` routing input) decide the very tasks they were given for.

skills/ledger/corrections.py writes `{"examples": {agent_id: [task, ...]}, "unrelated": [task, ...]}`.
The model (model.py) learns from those tasks like from any examples, which helps similar requests;
but one example among an agent's dozens barely moves its centroid, so the corrected task itself
could still be refused or sent elsewhere. A careful user expects a confirmed correction to hold for
that task, so the index also keeps a `corrections` table: normalised task -> agent position (-1 =
no agent), and `route()` answers a task found there with that verdict. Same words, any case,
punctuation or spacing (`task_key`); everything else is decided by the evidence as usual.
"""

from __future__ import annotations

from skills.text import task_key

NO_AGENT = -1


def corrections_table(agents: list[dict], inputs: dict | None) -> dict[str, int]:
    """{task_key: agent position or NO_AGENT} from the confirmed corrections; agents since removed are skipped."""
    value = (inputs or {}).get("feedback")
    if not isinstance(value, dict):
        return {}
    positions = {agent["id"]: position for position, agent in enumerate(agents)}
    table: dict[str, int] = {}
    examples = value.get("examples")
    for agent_id, tasks in (examples if isinstance(examples, dict) else {}).items():
        for task in tasks if agent_id in positions and isinstance(tasks, list) else ():
            if isinstance(task, str) and task_key(task):
                table[task_key(task)] = positions[agent_id]
    unrelated = value.get("unrelated")
    for task in unrelated if isinstance(unrelated, list) else ():
        if isinstance(task, str) and task_key(task):
            table[task_key(task)] = NO_AGENT
    return table


def corrected_route(registry: dict, task: str, auto_select: bool) -> dict | None:
    """The route JSON a confirmed correction gives `task`, or None when none applies (or its agent
    is not active: an inactive agent is never chosen, so the evidence decides)."""
    table = registry["index"]["corrections"]
    position = table.get(task_key(task))
    if position is None:
        return None
    if position == NO_AGENT:
        return {
            "status": "no_match",
            "task": task,
            "agent": None,
            "alternatives": [],
            "suggestions": [],
            "message": "A confirmed correction says none of the agents handles this task.",
            "learnt_from": "feedback",
        }
    agent = registry["agents"][position]
    if agent["status"] != "active":
        return None
    chosen = {
        "agent_id": agent["id"],
        "agent_name": agent["name"],
        "category": agent["category"],
        "confidence": 0,
        "score": 1.0,
        "confidence_level": "high",
        "matched_keywords": [],
    }
    status = "routed" if auto_select else "high_confidence"
    return {"status": status, "task": task, "agent": chosen, "alternatives": [], "learnt_from": "feedback"}
