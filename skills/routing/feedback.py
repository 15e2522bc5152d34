"""Corrections as evidence: confirmed routing verdicts become examples of the agent they name.

The `feedback` routing input (written by skills/corrections.py, never the registry file) holds
`{"examples": {agent_id: [task, ...]}, "unrelated": [task, ...]}`. Here the examples join their
agent's own `examples` for the index only: `registry["agents"]` (what list_agents shows) keeps
the registry's own. `unrelated` is for the no-match calibration (skills/routing/decision.py).
Runs when the index is built, never per route.
"""

from __future__ import annotations


def feedback_examples(inputs: dict | None) -> dict[str, list[str]]:
    """agent_id -> confirmed tasks for it; {} when nothing was learnt or the input is malformed."""
    value = (inputs or {}).get("feedback")
    examples = value.get("examples") if isinstance(value, dict) else None
    return examples if isinstance(examples, dict) else {}


def agents_with_feedback(agents: list[dict], inputs: dict | None) -> list[dict]:
    """The agents to index: copies with their confirmed tasks added as examples, the rest as they are."""
    learnt = feedback_examples(inputs)
    if not learnt:
        return agents
    out = []
    for agent in agents:
        extra = [task for task in learnt.get(agent["id"], ()) if isinstance(task, str) and task.strip()]
        out.append({**agent, "examples": [*agent.get("examples", ()), *extra]} if extra else agent)
    return out
