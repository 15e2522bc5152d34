"""The routing decision: gather the evidence for each agent, then route, ask or refuse.

An agent's score is its similarity to the agent's examples (skills/routing/model.py) plus
beta x the strength of its trigger evidence (skills/routing/lexical.py), plus names from its
data (entities). Beta and each agent's threshold are fitted from the registry's own examples
(skills/routing/calibration.py), so no constant here decides what is out of scope.

`route()` returns the guide's route JSON: `routed` / `high_confidence` with one agent,
`multiple_matches` with options when the best two are too close to call, `no_match` when no
agent reaches its threshold. Context (e.g. page: monitoring) is only a nudge for agents that
already have evidence; inactive and maintenance agents are never chosen.
"""

from skills.routing.feedback import corrected_route
from skills.routing.lexical import Evidence, agent_score, collect
from skills.routing.model import matched_words, similarities
from skills.routing.names.evidence import credit_entities
from skills.text import stem

CLOSE_RATIO = 0.8  # runner-up within this fraction of the best: too close to call
HIGH_MARGIN = 2.0  # score at least this many times the agent's threshold: high confidence
MEDIUM_MARGIN = 1.3
CONTEXT_NUDGE = 0.2  # an agent the request's context points at scores this much more


def _context_matches(agent: dict, context: dict) -> bool:
    hints = agent.get("context")
    if not hints:
        return False
    for key, wanted in hints.items():
        value = context.get(key)
        if isinstance(value, str) and stem(value.strip().lower()) in {stem(w.lower()) for w in wanted}:
            return True
    return False


def confidence_level(margin: float, clear: bool) -> str:
    if margin >= HIGH_MARGIN and clear:
        return "high"
    if margin >= MEDIUM_MARGIN:
        return "medium"
    return "low"


class _Scored:
    """One agent with evidence: its position in the registry and its score against its threshold.
    (Plain, not a dataclass, for the reason Evidence gives.)"""

    def __init__(self, position: int, evidence: Evidence, similarity: float, threshold: float) -> None:
        self.position = position
        self.evidence = evidence
        self.similarity = similarity
        self.threshold = threshold
        self.score = 0.0

    @property
    def margin(self) -> float:
        return self.score / self.threshold if self.threshold > 0 else self.score


def _score_agents(registry: dict, task: str, context: dict | None, explain: bool) -> list[_Scored]:
    """Every agent with evidence, best first; inactive ones too (`_active` drops them where it matters)."""
    agents = registry["agents"]
    index = registry["index"]
    header = index["header"]
    beta = header["beta"]
    found = collect(task, index, explain)
    if index.get("entity_count"):  # names from the agents' data
        credit_entities(found, index, task, explain)
    similarity = similarities(task, index["features"], header["max_idf"], index["near"])
    scored = []
    for position in set(found) | set(similarity):
        evidence = found.get(position) or Evidence()
        threshold = index["thresholds"].get(str(position), header["threshold"])
        item = _Scored(position, evidence, similarity.get(position, 0.0), threshold)
        item.score = agent_score(item.similarity, evidence.score, beta, evidence.entity)
        if item.score > 0 and context and _context_matches(agents[position], context):
            item.score *= 1 + CONTEXT_NUDGE
            if explain:
                evidence.parts.append(("context", "context", CONTEXT_NUDGE))
        if item.score > 0:
            scored.append(item)
    scored.sort(key=lambda item: (-item.score, item.position))
    return scored


def _active(registry: dict, scored: list[_Scored], limit: int | None = None) -> list[_Scored]:
    """The items of active agents, in order (at most `limit`). Checked only for the items a route
    reports on: each agent is read (unpacked from the index file) on first use, and most agents
    with some evidence are far below their threshold."""
    agents = registry["agents"]
    kept = []
    for item in scored:
        if limit is not None and len(kept) >= limit:
            break
        if agents[item.position]["status"] == "active":
            kept.append(item)
    return kept


def _candidate(registry: dict, task: str, item: _Scored, level: str, explain: bool) -> dict:
    agent = registry["agents"][item.position]
    header = registry["index"]["header"]
    keywords = item.evidence.keywords
    out = {
        "agent_id": agent["id"],
        "agent_name": agent["name"],
        "category": agent["category"],
        "confidence": len(keywords),
        "score": round(min(item.score / (1 + header["beta"]), 1.0), 3),
        "confidence_level": level,
        "matched_keywords": keywords,
    }
    if explain:
        parts = [{"term": t, "kind": k, "weight": w} for t, k, w in item.evidence.parts]
        parts.append({"term": "(examples)", "kind": "similarity", "weight": round(item.similarity, 3)})
        out["explain"] = {
            "raw_score": round(item.score, 3),
            "example_words": matched_words(task, registry["index"]["features"], item.position),
            "threshold": item.threshold,
            "trigger_weight": header["beta"],
            "contributions": parts,
        }
    return out


def route(
    registry: dict, task: str, *, auto_select: bool = False, context: dict | None = None, explain: bool = False
) -> dict:
    """Decide where `task` goes. Returns the guide's route JSON (without timing)."""
    if registry["index"]["header"].get("corrections"):
        learnt = corrected_route(registry, task, auto_select)  # a confirmed correction of this very task
        if learnt is not None:
            return learnt
    scored = _score_agents(registry, task, context, explain)
    matched = _active(registry, [item for item in scored if item.score >= item.threshold])
    if not matched:
        return {
            "status": "no_match",
            "task": task,
            "agent": None,
            "alternatives": [],
            "suggestions": [_candidate(registry, task, item, "low", explain) for item in _active(registry, scored, 3)],
            "message": "No agent matches this task. Say which system it is about: a server, the database, "
            "tasks, contractors or projects.",
        }

    best = matched[0]
    close = [item for item in matched if item.score >= best.score * CLOSE_RATIO]
    clear = len(close) == 1
    level = confidence_level(best.margin, clear)
    top = _candidate(registry, task, best, level, explain)
    others = [_candidate(registry, task, item, confidence_level(item.margin, False), explain) for item in matched[1:]]

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
