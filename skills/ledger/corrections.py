"""Learning from corrections: record verdicts on routings, decide which are confirmed, teach the router.

A verdict says, for one task, which agent routing chose (`routed_agent`) and which one should have
taken it (`correct_agent`; None = no agent should have). Verdicts live in the ledger (the source of
truth); verdicts on the same request are grouped by the normalised task (`task_key`).

When a verdict counts as confirmed (and only then does routing learn from it):
- the latest verdict on a task is the one that counts; once it has been given at least
  `feedback_confirmations` times (ORCHESTRATOR_FEEDBACK_CONFIRMATIONS, default 2) it is confirmed.
  One bad click teaches nothing, and a later contradicting verdict withdraws what was taught
  until it is settled again;
- an operator on the server itself settles a task at once with `route_feedback --confirm`
  (the HTTP API cannot: its key is shared by every UI user, so it does not identify an admin).
  The latest operator verdict outranks any number of HTTP ones.

Confirmed verdicts are handed to routing as the `feedback` routing input (skills/registry/loader.py):
`{"examples": {agent_id: [task, ...]}, "unrelated": [task, ...]}`; writing it rebuilds the index on
the next route. The registry file is never touched.

Agent selection accuracy (workforce_stats, /metrics, the page) is measured from the same facts:
the share of routed executions (smart execute chose the agent) whose agent the verdict that counts
for that task does not contradict. Executions nobody gave a verdict on count as right.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from skills.errors import BadInput
from skills.ledger.records import FeedbackRecord, feedback, record_feedback
from skills.redaction import redact
from skills.registry.loader import read_routing_inputs, routing_input_path, write_routing_input
from skills.text import task_key

NO_AGENT_WORDS = ("none", "null")  # how a command line says "no agent"


def agent_or_none(value, registry: dict, field: str) -> str | None:
    """An agent id of the registry, or None for null / "none"; anything else is a 422 naming `field`."""
    if value is None or (isinstance(value, str) and value.strip().lower() in NO_AGENT_WORDS):
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"field {field!r} must be an agent id, or null (none) for no agent", field=field)
    agent_id = value.strip()
    known = [agent["id"] for agent in registry["agents"]]
    if agent_id not in known:
        raise BadInput(f"field {field!r}: no agent {agent_id[:100]!r}; known agents: {', '.join(known)}", field=field)
    return agent_id


@dataclass
class Verdict:
    """The verdict that counts for one task: the latest (an operator's outranks the others)."""

    task: str
    routed_agent: str | None
    correct_agent: str | None
    support: int  # how many verdicts on this task name the same correct agent
    confirmed: bool


def verdicts(rows: list[dict], needed: int) -> dict[str, Verdict]:
    """task_key -> the verdict that counts, from ledger rows (oldest first)."""
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["task_key"], []).append(row)
    out = {}
    for key, group in grouped.items():
        by_operator = [row for row in group if row["confirmed"]]
        latest = (by_operator or group)[-1]
        support = sum(row["correct_agent"] == latest["correct_agent"] for row in group)
        out[key] = Verdict(
            task=latest["task"],
            routed_agent=latest["routed_agent"],
            correct_agent=latest["correct_agent"],
            support=support,
            confirmed=bool(by_operator) or support >= needed,
        )
    return out


def routing_input(counted: dict[str, Verdict]) -> dict:
    """The `feedback` routing input: confirmed verdicts as examples of their agent or as unrelated tasks."""
    examples: dict[str, list[str]] = {}
    unrelated: list[str] = []
    for key in sorted(counted):
        verdict = counted[key]
        if not verdict.confirmed:
            continue
        if verdict.correct_agent is None:
            unrelated.append(verdict.task)
        else:
            examples.setdefault(verdict.correct_agent, []).append(verdict.task)
    return {"examples": examples, "unrelated": unrelated}


def publish(settings) -> dict:
    """Write the confirmed verdicts as the routing input, when they changed; returns them.

    Under a lock: two verdicts recorded at once must not leave the older view on disk.
    """
    import fcntl

    lock_path = routing_input_path(settings.state_dir, "feedback") + ".lock"
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        value = routing_input(verdicts(feedback(settings), settings.feedback_confirmations))
        if read_routing_inputs(settings.state_dir).get("feedback") != value:
            write_routing_input(settings.state_dir, "feedback", value)
    return value


def record(registry: dict, settings, fields: dict, *, source: str, operator_confirmed: bool = False) -> dict:
    """Check and record one verdict, then republish what routing learns; returns the answer JSON."""
    task = redact(fields["task"], settings)
    routed = agent_or_none(fields.get("routed_agent"), registry, "routed_agent")
    correct = agent_or_none(fields.get("correct_agent"), registry, "correct_agent")
    key = task_key(task)
    if not key:
        raise BadInput("field 'task' has no words to learn from", field="task")
    entry = FeedbackRecord(task, key, routed, correct, source, confirmed=operator_confirmed)
    feedback_id = record_feedback(settings, entry)
    publish(settings)
    needed = settings.feedback_confirmations
    verdict = verdicts([row for row in feedback(settings) if row["task_key"] == key], needed)[key]
    agrees = verdict.correct_agent == correct
    return {
        "recorded": True,
        "id": feedback_id,
        "task": task,
        "routed_agent": routed,
        "correct_agent": correct,
        "correction": routed != correct,
        "confirmed": verdict.confirmed and agrees,
        "confirmations": verdict.support if agrees else 0,
        "confirmations_needed": needed,
        "message": _message(verdict, correct, needed),
    }


def _message(verdict: Verdict, correct: str | None, needed: int) -> str:
    if verdict.correct_agent != correct:
        kept = verdict.correct_agent or "no agent"
        return f"Recorded; an operator's verdict ({kept}) still counts for this task."
    if verdict.confirmed:
        return f"Recorded and confirmed: routing now learns that this task goes to {correct or 'no agent'}."
    return f"Recorded ({verdict.support} of {needed} needed): routing learns it once the same verdict is confirmed."


def selection_accuracy(routed: int, judged: list[tuple[str, str, int]], counted: dict[str, Verdict]) -> dict:
    """Agent selection accuracy over `routed` executions; `judged`: (task_key, agent_id, how many) of
    those whose task has verdicts (skills/ledger/records.py: routed_executions). The verdict that counts for a
    task contradicts its executions by another agent; the rest count as right."""
    wrong = 0
    for key, agent_id, executions in judged:
        verdict = counted.get(key)
        if verdict is not None and verdict.correct_agent != agent_id:
            wrong += executions
    return {
        "agent_selection_accuracy": round(1 - wrong / routed, 4) if routed else None,
        "routed_executions": routed,
        "corrected_executions": wrong,
    }


def accuracy_by_agent(
    routed: dict[str, int], judged: list[tuple[str, str, int]], counted: dict[str, Verdict]
) -> dict[str, float | None]:
    """Each agent's selection accuracy: the share of the executions routing chose it for that no
    verdict contradicts (None when routing chose it for none). `routed`: agent id -> routed
    executions; `judged` and `counted` as for selection_accuracy, so the figures add up to it."""
    wrong: dict[str, int] = {}
    for key, agent_id, executions in judged:
        verdict = counted.get(key)
        if verdict is not None and verdict.correct_agent != agent_id:
            wrong[agent_id] = wrong.get(agent_id, 0) + executions
    return {
        agent_id: round(1 - wrong.get(agent_id, 0) / count, 4) if count else None for agent_id, count in routed.items()
    }


def feedback_summary(rows: list[dict], counted: dict[str, Verdict]) -> dict:
    """For workforce_stats: verdicts and corrections among `rows` (the window), and how many tasks
    routing has learnt (confirmed verdicts, from any time)."""
    return {
        "recorded": len(rows),
        "corrections": sum(row["routed_agent"] != row["correct_agent"] for row in rows),
        "confirmed_tasks": sum(verdict.confirmed for verdict in counted.values()),
    }
