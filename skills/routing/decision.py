"""The routing decision: gather the evidence for each agent, then route, ask or refuse.

`route()` returns the guide's route JSON: `routed` / `high_confidence` with one agent,
`multiple_matches` with options when the best two are too close to call, `no_match` when
nothing is strong enough. Context (e.g. page: monitoring) is only a nudge for agents that
already have evidence; inactive and maintenance agents are never chosen.
"""

from __future__ import annotations

from skills.routing.lexical import Evidence, collect
from skills.text import stem

_E = 2.718281828459045
MATCH_THRESHOLD = 0.65  # below this best score: no_match
CLOSE_RATIO = 0.75  # runner-up within this fraction of the best: too close to call
HIGH_SCORE = 2.0
MEDIUM_SCORE = 1.2
CONTEXT_BONUS = 0.6


def _context_matches(agent: dict, context: dict | None) -> bool:
    hints = agent.get("context")
    if not hints or not context:
        return False
    for key, wanted in hints.items():
        value = context.get(key)
        if isinstance(value, str) and stem(value.strip().lower()) in {stem(w.lower()) for w in wanted}:
            return True
    return False


def confidence_level(score: float, clear: bool) -> str:
    if score >= HIGH_SCORE and clear:
        return "high"
    if score >= MEDIUM_SCORE:
        return "medium"
    return "low"


def normalised_score(raw: float) -> float:
    """Raw evidence mapped into [0, 1): 0.8 -> 0.41, 2 -> 0.74, 3 -> 0.86."""
    return round(1 - _E ** (-raw / 1.5), 3)


def _candidate(agent: dict, evidence: Evidence, level: str, explain: bool) -> dict:
    out = {
        "agent_id": agent["id"],
        "agent_name": agent["name"],
        "category": agent["category"],
        "confidence": len(evidence.keywords),
        "score": normalised_score(evidence.score),
        "confidence_level": level,
        "matched_keywords": evidence.keywords,
    }
    if explain:
        out["explain"] = {
            "raw_score": round(evidence.score, 3),
            "contributions": [{"term": t, "kind": k, "weight": w} for t, k, w in evidence.parts],
        }
    return out


def route(
    registry: dict, task: str, *, auto_select: bool = False, context: dict | None = None, explain: bool = False
) -> dict:
    """Decide where `task` goes. Returns the guide's route JSON (without timing)."""
    agents = registry["agents"]
    found = collect(task, registry["index"], explain)
    for position, evidence in found.items():
        if evidence.score > 0 and _context_matches(agents[position], context):
            evidence.score += CONTEXT_BONUS
            if explain:
                evidence.parts.append(("context", "context", CONTEXT_BONUS))

    ranked = sorted(
        ((e, p) for p, e in found.items() if agents[p]["status"] == "active" and e.score > 0),
        key=lambda pair: (-pair[0].score, pair[1]),
    )
    matched = [(e, p) for e, p in ranked if e.score >= MATCH_THRESHOLD]
    if not matched:
        return {
            "status": "no_match",
            "task": task,
            "agent": None,
            "alternatives": [],
            "suggestions": [_candidate(agents[p], e, "low", explain) for e, p in ranked[:3]],
            "message": "No agent matches this task. Say which system it is about: a server, the database, "
            "tasks, contractors or projects.",
        }

    best_score = matched[0][0].score
    close = [(e, p) for e, p in matched if e.score >= best_score * CLOSE_RATIO]
    clear = len(close) == 1
    level = confidence_level(best_score, clear)
    top = _candidate(agents[matched[0][1]], matched[0][0], level, explain)
    others = [_candidate(agents[p], e, confidence_level(e.score, False), explain) for e, p in matched[1:]]

    if clear or auto_select:
        status = "high_confidence" if (level == "high" and not auto_select) else "routed"
        return {"status": status, "task": task, "agent": top, "alternatives": others}
    return {
        "status": "multiple_matches",
        "task": task,
        "agent": None,
        "options": [top] + others[: len(close) - 1],
        "alternatives": others[len(close) - 1 :],
    }
