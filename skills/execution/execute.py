"""Running a query through an agent: with Claude, or on the offline fast path.

- With Claude (ANTHROPIC_API_KEY set, not --direct): the agent's prompt and tools go to the
  model named in the registry and the tool loop runs (skills/execution/claude_loop.py).
- Offline (no key, or --direct): the agent's planner (`plan_offline` in its tools module) reads
  names and filters from the query with the database's vocabulary and picks the tool(s); without
  one, or when it has no plan, the tools the query asks for are picked with the router's own
  matching over the tool triggers in the registry and their arguments read by each tool's
  `parse`. The tools' summaries are the answer; a yes/no question gets Yes or No first, from
  the facts (`checks`) the tool reports.

A data agent (registry `data:`) is answered by the interpreter instead (skills/execution/data.py):
one SQL query from its schema and lexicon, run directly with or without a key; only what the
interpreter cannot read goes to the model.

Either way the run is recorded in the ledger with its timings, tokens, cost and tool calls.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from skills.answers.reading import answer_yes_no
from skills.errors import AgentNotConfigured, AgentUnavailable, ModelRequired, NotFound, OrchestratorError
from skills.execution.readiness import how_to_configure, missing_requirements
from skills.execution.tools import (
    ToolCall,
    ToolContext,
    load_agent_prompt,
    load_agent_tools,
    load_offline_planner,
    load_question_check,
    run_tool,
)
from skills.ledger.records import ExecutionRecord, record_or_warn
from skills.registry.loader import find_agent
from skills.registry.pricing import cost_usd
from skills.routing.lexical import build_lexical, score_evidence

TOOL_MATCH_THRESHOLD = 0.3
SECOND_TOOL_THRESHOLD = 0.9  # a further tool needs a trigger of its own, not just example words
SECOND_TOOL_RATIO = 0.9  # and about as much evidence as the best: "CPU and memory"
MAX_DIRECT_TOOLS = 3


@dataclass
class Outcome:
    """What an execution produced, before it becomes JSON."""

    response: str
    mode: str
    model: str | None = None
    data: object = None
    usage: dict = field(default_factory=lambda: {"input_tokens": 0, "output_tokens": 0})
    tool_calls: list[ToolCall] = field(default_factory=list)
    interpretation: str | None = None  # a data agent's answer: the reading in words
    sql: str | None = None  # and the statement as run, parameters inline


# ---------------------------------------------------------------- offline fast path


_PROPER_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][a-z][\w'-]*(?:\s+[A-Z][a-z][\w'-]*)+")


def without_names(query: str, known_words: set[str]) -> str:
    """The query without proper names: runs of two or more capitalised words holding a word the tools
    do not know ("Mzansi Aerial Networks"; not "Check Disk Space"). A company whose name holds
    "Networks" is not a question about the network."""

    def name_or_words(match: re.Match) -> str:
        words = re.findall(r"[a-z0-9]+", match.group(0).lower())
        return " " if any(word not in known_words for word in words) else match.group(0)

    return _PROPER_NAME.sub(name_or_words, query)


def pick_tools(agent: dict, query: str) -> list[str]:
    """The agent's tools the query asks for, best first: "CPU and memory" asks for two.

    Scored with the router's own matching over each tool's triggers and examples; a tool
    counts when it has clear evidence of its own (close to the best one's), at most three.
    """
    entries = agent.get("tools", [])
    if not entries:
        return []
    pseudo_agents = [
        {"triggers": entry.get("triggers", []), "examples": entry.get("examples", [])} for entry in entries
    ]
    known = {
        word
        for entry in entries
        for text in [*entry.get("triggers", []), *entry.get("examples", [])]
        for word in re.findall(r"[a-z0-9]+", text.lower())
    }
    scores = score_evidence(build_lexical(pseudo_agents), without_names(query, known))
    ranked = sorted(((score, -position) for position, score in scores.items()), reverse=True)
    if not ranked or ranked[0][0] < TOOL_MATCH_THRESHOLD:
        default = agent.get("default_tool")
        return [default] if default else []
    floor = max(SECOND_TOOL_THRESHOLD, ranked[0][0] * SECOND_TOOL_RATIO)
    chosen = [ranked[0]] + [pair for pair in ranked[1:] if pair[0] >= floor]
    return [entries[-position]["name"] for _, position in chosen[:MAX_DIRECT_TOOLS]]


def _model_required(agent: dict, why: str, *, field: str | None = None) -> ModelRequired:
    """What the offline path cannot do, and the tools and phrasings that do work offline."""
    entries = agent.get("tools", [])
    phrasings = [f"{e['name']} ({e['examples'][0]!r})" for e in entries if e.get("examples")]
    return ModelRequired(
        f"{agent['name']} {why}. Set ANTHROPIC_API_KEY to let Claude answer it, or ask what a tool answers "
        f"offline: {'; '.join(phrasings)}.",
        field=field,
        details={"tools": [{"name": e["name"], "examples": e.get("examples", [])} for e in entries]},
    )


def plan_direct(
    agent: dict, tools: dict, query: str, ctx: ToolContext, *, planner: bool = True
) -> list[tuple[str, dict]]:
    """(tool, arguments) pairs for the query: the agent's planner first, else the tool triggers."""
    planner = load_offline_planner(ctx.settings.agents_dir, agent["id"]) if planner else None
    plan = [(name, args) for name, args in (planner(ctx, query) if planner else []) if name in tools]
    if plan:
        return plan
    names = [name for name in pick_tools(agent, query) if name in tools]
    if not names:
        raise _model_required(agent, "cannot answer this offline: no tool of its matches the question")
    for rank, name in enumerate(names):
        tool = tools[name]
        arguments = tool.parse(query) if tool.parse else {}
        missing = [arg for arg in tool.input_schema.get("required", []) if arg not in arguments]
        if missing and rank > 0:
            continue  # a runner-up tool the question gives no arguments for was not really asked for
        if missing:  # e.g. run_query without SQL in the question: writing it is the model's job
            raise _model_required(
                agent, f"needs Claude to work out the {missing[0]!r} for {name} from this question", field=missing[0]
            )
        plan.append((name, arguments))
    return plan


def run_direct(agent: dict, tools: dict, query: str, ctx: ToolContext, *, planner: bool = True) -> Outcome:
    summaries, data, calls, checks = [], {}, [], {}
    for name, arguments in plan_direct(agent, tools, query, ctx, planner=planner):
        result, call, error = run_tool(tools[name], ctx, arguments)
        calls.append(call)
        if error is not None:
            error.details.setdefault("tool_calls", [c.to_json() for c in calls])
            raise error
        summaries.append(result.summary)
        data[name] = result.data
        checks.update(result.checks or {})
    response = " ".join(summaries)
    verdict = answer_yes_no(query, checks)
    if verdict:
        response = f"{verdict}. {response}"
    # one tool: its data as it is; several: keyed by tool name
    shaped = next(iter(data.values())) if len(data) == 1 else data
    return Outcome(response=response, mode="direct", data=shaped, tool_calls=calls)


# ---------------------------------------------------------------- with Claude


def run_with_claude(
    agent: dict,
    tools: dict,
    query: str,
    context: dict | None,
    ctx: ToolContext,
    settings,
    system_prompt: str | None = None,
) -> Outcome:
    from skills.execution.claude_loop import run_tool_loop  # imports anthropic: only on this path

    loop = run_tool_loop(
        settings=settings,
        model=agent["model"],
        system_prompt=system_prompt or load_agent_prompt(settings.agents_dir, agent["id"]),
        tools=tools,
        query=query,
        context=context,
        ctx=ctx,
    )
    _refuse_unknown_names(loop)
    return Outcome(response=loop.text, mode="claude", model=loop.model, usage=loop.usage, tool_calls=loop.tool_calls)


def _refuse_unknown_names(loop) -> None:
    """A run whose tools only ever refused a name (NotFound) is a not found, whatever the model wrote.

    The model may explain the refusal well, but its text cannot make an answer about a thing that
    does not exist a success: the caller gets exit 1 / 404, with the model's words kept in details.
    """
    missing = [error for error in loop.refusals if isinstance(error, NotFound)]
    if not missing or any(call.ok for call in loop.tool_calls):
        return
    error = missing[0]
    error.details.update(
        answer=loop.text, usage=dict(loop.usage), tool_calls=[call.to_json() for call in loop.tool_calls]
    )
    raise error


# ---------------------------------------------------------------- a data agent

CATALOGUE_WORDS = {"table", "tables", "database", "databases", "db", "schema", "schemas", "column", "columns", "sql"}


def run_data_agent(agent: dict, query: str, context: dict | None, settings, mode: str, deadline: float) -> Outcome:
    """The interpreter's answer (mode direct, no model, with a key too), else its refusal, else, for
    words it does not understand: the model with the schema summary (key), or offline the catalogue
    tools when the question is about the catalogue ("describe table rfqs", SQL in backticks)."""
    from skills.answers import data_tools
    from skills.answers.model import Reading
    from skills.execution import data as data_answers

    scoped = settings.for_data(agent["data"])
    ctx = ToolContext(scoped, agent["id"], deadline, tuple(agent["data"].get("tables") or ()))
    own = data_answers.agent_tools_module(settings.agents_dir, agent)
    tools = data_answers.agent_tools(settings.agents_dir, agent)
    reading, schema = data_answers.read_question(settings, agent, query, deadline)
    if isinstance(reading, Reading):
        try:
            answer = data_answers.answer_reading(settings, agent, reading, deadline)
        except ModelRequired:
            if mode != "claude" or not reading.guesses:
                raise
            # nothing matched a name guessed from part of its words: the model may know better
            base = _prompt_or_default(settings, agent)
            prompt = data_answers.system_prompt(settings, agent, schema, base)
            return run_with_claude(agent, tools, query, context, ctx, settings, system_prompt=prompt)
        return Outcome(
            response=answer["response"],
            mode="direct",
            data=answer["data"],
            interpretation=answer["interpretation"],
            sql=answer["sql"],
        )
    if reading.code != "model_required":
        raise data_answers.refusal_error(agent, reading)  # read_only, ambiguous, not_found: no tool, no model
    if mode == "claude":
        base = _prompt_or_default(settings, agent)
        prompt = data_answers.system_prompt(settings, agent, schema, base)
        return run_with_claude(agent, tools, query, context, ctx, settings, system_prompt=prompt)
    said = set(re.findall(r"[a-z]+", query.lower()))
    if said & CATALOGUE_WORDS or "`" in query:
        entries = agent.get("tools") or data_tools.TOOL_ENTRIES
        try:
            return run_direct({**agent, "tools": entries, "default_tool": None}, tools, query, ctx, planner=own)
        except ModelRequired as error:
            if error.field:  # a catalogue tool fits but lacks an argument ("sql"): that is the more precise refusal
                error.details["words"] = list(reading.words)
                raise
            # no catalogue tool fits either: the interpreter's words say what was not understood
    raise data_answers.refusal_error(agent, reading)


def _prompt_or_default(settings, agent: dict) -> str:
    import os

    if os.path.isfile(os.path.join(settings.agents_dir, agent["id"], "prompt.md")):
        return load_agent_prompt(settings.agents_dir, agent["id"])
    from skills.execution.data import default_prompt

    return default_prompt(agent)


# ---------------------------------------------------------------- the entry point


def _check_runnable(agent: dict, settings) -> None:
    if agent["status"] != "active":
        raise AgentUnavailable(
            f"agent {agent['id']!r} is {agent['status']}: set its status to active in the registry to use it",
            field="agent",
        )
    missing = missing_requirements(agent, settings)
    if missing:
        raise AgentNotConfigured(
            f"{agent['name']} is not configured: " + "; ".join(how_to_configure(m, agent) for m in missing),
            details={"missing": missing},
        )


def _success_json(agent: dict, outcome: Outcome, elapsed_ms: float, cost: float | None) -> dict:
    return {
        "success": True,
        "agent": agent["id"],
        "agent_name": agent["name"],
        "response": outcome.response,
        "execution_time_ms": round(elapsed_ms, 1),
        "model": outcome.model,
        "mode": outcome.mode,
        "usage": outcome.usage,
        "cost_usd": cost,
        "tool_calls": [call.to_json() for call in outcome.tool_calls],
        "data": outcome.data,
        **({"interpretation": outcome.interpretation} if outcome.interpretation is not None else {}),
        **({"sql": outcome.sql} if outcome.sql is not None else {}),
    }


def execute(
    registry: dict,
    settings,
    agent_id: str,
    query: str,
    *,
    context: dict | None = None,
    direct: bool = False,
    route: dict | None = None,
) -> dict:
    """Run `query` through `agent_id`; returns the result JSON or raises an OrchestratorError.

    Both outcomes are written to the ledger. `route` (the routing decision, for smart
    execute) adds its status and score to the ledger row.
    """
    agent = find_agent(registry, agent_id)
    started = time.perf_counter()
    mode = "claude" if settings.anthropic_api_key and not direct else "direct"
    entry = ExecutionRecord(agent_id=agent["id"], query=query, mode=mode, success=False, duration_ms=0.0)
    if route and route.get("agent"):
        entry.route_status, entry.route_score = route["status"], route["agent"]["score"]
    try:
        _check_runnable(agent, settings)
        deadline = time.monotonic() + settings.agent_timeout_s
        if agent.get("data"):
            outcome = run_data_agent(agent, query, context, settings, mode, deadline)
        else:
            tools = load_agent_tools(settings.agents_dir, agent["id"])
            ctx = ToolContext(settings, agent["id"], deadline)
            check = load_question_check(settings.agents_dir, agent["id"])
            if check is not None:
                check(ctx, query)  # a question about a thing that does not exist is refused on either path
            if mode == "claude":
                outcome = run_with_claude(agent, tools, query, context, ctx, settings)
            else:
                outcome = run_direct(agent, tools, query, ctx)
    except OrchestratorError as error:
        entry.duration_ms = (time.perf_counter() - started) * 1000
        entry.error_code, entry.error = error.code, error.message
        entry.tool_calls = error.details.get("tool_calls", [])
        spent = error.details.get("usage") or {}  # a loop that failed midway still cost tokens
        entry.input_tokens, entry.output_tokens = spent.get("input_tokens", 0), spent.get("output_tokens", 0)
        entry.cost_usd = cost_usd(settings, agent["model"], {"input_tokens": 0, "output_tokens": 0, **spent}) or 0.0
        record_or_warn(settings, entry)
        raise
    elapsed_ms = (time.perf_counter() - started) * 1000
    cost = cost_usd(settings, outcome.model or agent["model"], outcome.usage)
    entry.success, entry.duration_ms, entry.model = True, elapsed_ms, outcome.model
    entry.mode = outcome.mode  # a data agent answers directly with a key too
    entry.input_tokens = outcome.usage.get("input_tokens", 0)
    entry.output_tokens = outcome.usage.get("output_tokens", 0)
    entry.cost_usd = cost or 0.0
    entry.tool_calls = [call.to_json() for call in outcome.tool_calls]
    entry.answer, entry.data = outcome.response, outcome.data
    result = _success_json(agent, outcome, elapsed_ms, cost)
    warning = record_or_warn(settings, entry)
    if warning:
        result["warnings"] = [warning]
    return result
