"""Ask the model when routing is unsure: one short, forced-choice call settles a close or weak route.

`settle(registry, result, task, settings)` takes a finished route result. When it is
`multiple_matches`, or a weak `no_match` (a suggestion came at least half way to its agent's
calibrated threshold: some evidence, too little to route), and ANTHROPIC_API_KEY is set, it
sends the task and the candidates (the options or those near misses; id, name, a short
description) to the registry's cheapest model (by registry/models.yaml) with the tool
`choose_agent` forced: its only argument is one of the candidate ids or null. A candidate
routes there (`routed`); null means none fits (`no_match`).

The lexical answer stands when the call fails, answers something that is not a candidate, or
takes longer than ORCHESTRATOR_LLM_FALLBACK_TIMEOUT (2 s; no retries: a second try would
blow the budget). Either way the result says so in `llm_fallback`, and every call made is
booked in the ledger with its tokens and cost, so workforce_stats counts it.

The anthropic SDK is imported only when a call is made: routing itself stays import-light.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from skills import lazy
from skills.registry.loader import find_agent

TOOL_NAME = "choose_agent"
UNSURE = ("multiple_matches", "no_match")
NEAR_MISS = 0.5  # a no_match is weak (worth asking about) when a suggestion came half way to routing
MAX_TOKENS = 100  # a forced tool call with one short argument needs ~30
DESCRIPTION_CHARS = 200
MAX_CONTEXT_CHARS = 500
SYSTEM_PROMPT = (
    "You route a user's request to one agent of an operations team's orchestrator. Call choose_agent with "
    "the id of the one listed agent whose job covers the request, or with null when none of them should "
    "handle it. Judge by what each agent does, not by words the request happens to share with it."
)
NONE_FITS = (
    "No agent matches this task: asked to choose among the closest agents, the model judged that none fits. "
    "Rephrase it, or say which system it is about."
)


@dataclass
class Call:
    """One model call and what came of it."""

    model: str
    agent_id: str | None = None
    used: bool = False
    reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0
    duration_ms: float = 0.0

    def to_json(self) -> dict:
        # an answer that was not used chose nothing: it has a reason instead of an agent_id
        outcome = {"agent_id": self.agent_id} if self.used else {"reason": self.reason}
        return {
            "used": self.used,
            "model": self.model,
            **outcome,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "duration_ms": round(self.duration_ms, 1),
        }


def candidates_of(registry: dict, result: dict, task: str, context: dict | None = None) -> list[dict]:
    """The agents an unsure result is torn between: its options, or a no_match's near misses."""
    if result["status"] == "multiple_matches":
        return list(result.get("options") or [])
    if result["status"] == "no_match" and result.get("suggestions"):
        return near_misses(registry, result["suggestions"], task, context)
    return []


def near_misses(registry: dict, suggestions: list[dict], task: str, context: dict | None) -> list[dict]:
    """The suggestions that came at least NEAR_MISS of the way to their agent's calibrated threshold.

    Any shared stopword earns a suggestion, so a suggestion alone is no evidence: "tell me a joke"
    gets one at a sixth of the way. The route's own --explain says how far each one came (raw
    score against threshold); a suggestion without a threshold counts as evidence.
    """
    from skills.routing.decision import route

    explained = route(registry, task, context=context, explain=True).get("suggestions") or []
    margins = {item["agent_id"]: _margin(item.get("explain") or {}) for item in explained}
    return [item for item in suggestions if margins.get(item["agent_id"], 1.0) >= NEAR_MISS]


def _margin(explain: dict) -> float:
    threshold = explain.get("threshold")
    return explain.get("raw_score", 0.0) / threshold if threshold else 1.0


def settle(registry: dict, result: dict, task: str, settings, *, context: dict | None = None) -> dict:
    """`result`, settled by the model when it was unsure; always with an `llm_fallback` report."""
    if result["status"] not in UNSURE:
        return {**result, "llm_fallback": _not_used("not needed: routing was sure")}
    candidates = candidates_of(registry, result, task, context)
    if not candidates:
        return {**result, "llm_fallback": _not_used("no candidates: nothing in the task comes near any agent")}
    if not settings.anthropic_api_key:
        return {**result, "llm_fallback": _not_used("ANTHROPIC_API_KEY is not set")}

    from skills.registry.pricing import cheapest_model

    model = cheapest_model(sorted({agent["model"] for agent in registry["agents"]}), settings)
    agents = [find_agent(registry, candidate["agent_id"]) for candidate in candidates]
    call = ask_model(settings, model, task, agents, context)
    _book(settings, call, task, result["status"])
    if not call.used:
        return {**result, "llm_fallback": call.to_json()}
    if call.agent_id is None:
        return _no_match(result, candidates, call)
    return _routed(result, candidates, call)


def _not_used(reason: str) -> dict:
    return {"used": False, "reason": reason}


def _routed(result: dict, candidates: list[dict], call: Call) -> dict:
    chosen = next(c for c in candidates if c["agent_id"] == call.agent_id)
    others = [c for c in candidates if c is not chosen]
    settled = {k: v for k, v in result.items() if k not in ("options", "suggestions", "message")}
    settled.update(
        status="routed",
        agent=chosen,
        alternatives=others + list(result.get("alternatives") or []),
        llm_fallback=call.to_json(),
    )
    return settled


def _no_match(result: dict, candidates: list[dict], call: Call) -> dict:
    settled = {k: v for k, v in result.items() if k != "options"}
    settled.update(
        status="no_match",
        agent=None,
        alternatives=[],
        suggestions=result["suggestions"] if result["status"] == "no_match" else candidates,
        message=result["message"] if result["status"] == "no_match" else NONE_FITS,
        llm_fallback=call.to_json(),
    )
    return settled


# ---------------------------------------------------------------- the call


def choose_agent_tool(candidate_ids: list[str]) -> dict:
    """The tool the model must call: one of the candidates, or null."""
    return {
        "name": TOOL_NAME,
        "description": "Choose the agent that should handle the request, or null when none of them should.",
        "input_schema": {
            "type": "object",
            "properties": {
                "agent_id": {
                    "anyOf": [{"type": "string", "enum": candidate_ids}, {"type": "null"}],
                    "description": "the chosen agent's id, or null",
                }
            },
            "required": ["agent_id"],
        },
    }


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def prompt(task: str, agents: list[dict], context: dict | None) -> str:
    lines = [f"Request: {task}"]
    if context:
        lines.append("Request context: " + _short(json.dumps(context, default=str), MAX_CONTEXT_CHARS))
    lines += ["", "Candidate agents:"]
    lines += [f"- {a['id']} ({a['name']}): {_short(a['description'], DESCRIPTION_CHARS)}" for a in agents]
    return "\n".join(lines)


def ask_model(settings, model: str, task: str, agents: list[dict], context: dict | None = None) -> Call:
    """One forced `choose_agent` call; failures come back as a Call with a reason, never raised."""
    from skills.errors import ExecutionTimeout, OrchestratorError
    from skills.execution.claude_loop import anthropic_client

    ids = [agent["id"] for agent in agents]
    call = Call(model=model)
    limit = settings.llm_fallback_timeout_s
    started = time.perf_counter()
    client = anthropic_client(settings, timeout_s=limit, max_retries=0, deadline=time.monotonic() + limit)
    try:
        response = client.messages.create(
            model=model,
            max_tokens=MAX_TOKENS,
            system=SYSTEM_PROMPT,
            messages=[{"role": "user", "content": prompt(task, agents, context)}],
            tools=[choose_agent_tool(ids)],
            tool_choice={"type": "tool", "name": TOOL_NAME},
        )
    except (lazy.anthropic.APITimeoutError, ExecutionTimeout):
        call.reason = f"timeout: the model did not answer within {limit:g}s"
    except lazy.anthropic.APIStatusError as error:
        call.reason = f"api_error: the Anthropic API answered HTTP {error.status_code}"
    except lazy.anthropic.APIConnectionError:
        call.reason = "connection_error: could not reach the Anthropic API"
    except OrchestratorError as error:  # the wall-time guard refusing a long retry-after
        call.reason = f"api_error: {error.code}"
    else:
        _read_answer(call, response, ids, settings)
    finally:
        call.duration_ms = (time.perf_counter() - started) * 1000  # the client stays open: its pool is shared
    return call


def _read_answer(call: Call, response, ids: list[str], settings) -> None:
    from skills.registry.pricing import cost_usd

    usage = response.usage
    call.input_tokens = getattr(usage, "input_tokens", 0) or 0
    call.output_tokens = getattr(usage, "output_tokens", 0) or 0
    call.model = response.model or call.model
    call.cost_usd = cost_usd(
        settings, call.model, {"input_tokens": call.input_tokens, "output_tokens": call.output_tokens}
    )
    block = next((b for b in response.content if b.type == "tool_use" and b.name == TOOL_NAME), None)
    arguments = block.input if block is not None and isinstance(block.input, dict) else None
    if arguments is None or "agent_id" not in arguments:
        call.reason = f"invalid_answer: the model did not call {TOOL_NAME} with an agent_id"
    elif arguments["agent_id"] is not None and arguments["agent_id"] not in ids:
        call.reason = f"invalid_answer: the model chose {str(arguments['agent_id'])[:60]!r}, which is not a candidate"
    else:
        call.used, call.agent_id = True, arguments["agent_id"]


def _book(settings, call: Call, task: str, route_status: str) -> None:
    from skills.ledger.records import FallbackRecord, record_fallback

    record_fallback(
        settings,
        FallbackRecord(
            task=task,
            route_status=route_status,
            model=call.model,
            used=call.used,
            agent_id=call.agent_id,
            reason=call.reason,
            duration_ms=call.duration_ms,
            input_tokens=call.input_tokens,
            output_tokens=call.output_tokens,
            cost_usd=call.cost_usd or 0.0,
        ),
    )
