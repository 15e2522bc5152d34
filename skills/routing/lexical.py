"""Lexical evidence: what the task's words say about each agent.

Evidence, strongest first:
- a trigger phrase of the agent ("load average", "behind schedule");
- a trigger word ("cpu", "contractor"), weighted by how few agents share it (a word only
  one agent has says more than one three agents have);
- a word from the agent's example requests, so a task that reads like an agent's examples
  goes there without trigger words;
- a weak trigger ("table", "job"), which counts only beside other evidence for that agent;
- a near-miss spelling of any of these (one letter off), at a discount;
- the request's context (e.g. page: monitoring), a nudge for agents that already have evidence.

The index (term -> postings) is built once per registry version and cached with it, so a
route touches only the postings of the task's own words: fast for 5 agents or 10,000.
"""

import math

from skills.text import all_terms, phrase_terms, terms

TRIGGER, WEAK, EXAMPLE = 0, 1, 2
KIND_NAMES = ("trigger", "weak", "example")
BASE_WEIGHT = {TRIGGER: 1.0, WEAK: 0.35, EXAMPLE: 0.3}
PHRASE_WEIGHT = 1.5
TYPO_DISCOUNT = 0.7


# ---------------------------------------------------------------- index building


def _idf(df: int, n_agents: int) -> float:
    """1.0 for a term one agent has, shrinking as more agents share it."""
    if n_agents <= 1:
        return 1.0
    return math.log(1 + n_agents / df) / math.log(1 + n_agents)


def _agent_terms(agent: dict, example_words: bool, parsed: dict) -> tuple[dict, dict]:
    """(single term -> (kind, display), phrase tuple -> display) for one agent; strongest kind wins.
    `parsed` remembers each trigger's terms: a large registry repeats its trigger words."""
    singles: dict[str, tuple[int, str]] = {}
    phrases: dict[tuple, str] = {}

    def add(term: str, kind: int, display: str) -> None:
        if term not in singles or singles[term][0] > kind:
            singles[term] = (kind, display)

    for kind, key in ((TRIGGER, "triggers"), (WEAK, "weak_triggers")):
        for trigger in agent.get(key, ()):
            parts = parsed.get(trigger)
            if parts is None:
                parts = parsed[trigger] = phrase_terms(trigger)
            if len(parts) == 1:
                add(parts[0], kind, trigger)
            elif parts:
                phrases[parts] = trigger
    for example in agent.get("examples", ()) if example_words else ():
        for term in terms(example):
            add(term, EXAMPLE, term)
    return singles, phrases


def _deletions(term: str) -> set[str]:
    return {term[:i] + term[i + 1 :] for i in range(len(term))}


def build_lexical(agents: list[dict], example_words: bool = True, near: bool = True) -> dict:
    """Postings for every term and phrase, weighted by rarity; plain values so marshal can cache them.

    Routing leaves example words to the model (skills/routing/model.py); picking a tool inside
    an agent, with a handful of examples per tool, counts them here. `near` (deletion variant ->
    terms, for spellings one letter off) is left out when the caller builds one shared table.
    """
    parsed: dict[str, tuple] = {}
    per_agent = [_agent_terms(agent, example_words, parsed) for agent in agents]
    # Rarity is counted separately for triggers and for any evidence: an example sentence
    # that happens to use another agent's trigger word must not water that trigger down.
    trigger_df: dict = {}
    any_df: dict = {}
    for singles, phrases in per_agent:
        for key, (kind, _) in singles.items():
            any_df[key] = any_df.get(key, 0) + 1
            if kind != EXAMPLE:
                trigger_df[key] = trigger_df.get(key, 0) + 1
        for key in phrases:
            trigger_df[key] = trigger_df.get(key, 0) + 1
    n = len(agents)
    weights: dict[tuple, float] = {}  # (base weight, df) -> weight: a handful of distinct values

    def weight(base: float, df: int) -> float:
        found = weights.get((base, df))
        if found is None:
            found = weights[(base, df)] = round(base * _idf(df, n), 4)
        return found

    postings: dict[str, list] = {}
    phrase_postings: dict[str, list] = {}
    for position, (singles, phrases) in enumerate(per_agent):
        for term, (kind, display) in singles.items():
            df = any_df[term] if kind == EXAMPLE else trigger_df[term]
            entry = (position, kind, weight(BASE_WEIGHT[kind], df), display)
            found = postings.get(term)
            if found is None:
                postings[term] = [entry]
            else:
                found.append(entry)
        for parts, display in phrases.items():
            phrase_postings.setdefault(parts[0], []).append(
                (parts, position, weight(PHRASE_WEIGHT, trigger_df[parts]), display)
            )
    index = {"postings": postings, "phrases": phrase_postings}
    if near:
        index["near"] = deletion_table(postings)
    return index


NEAR_MIN = 6  # shorter words are too often one letter from another real word


def deletion_table(words) -> dict[str, tuple]:
    """Deletion variant -> the words (NEAR_MIN letters or more) it comes from: finds a word one
    letter missing, extra or swapped."""
    variants: dict[str, tuple] = {}
    get = variants.get
    for word in words:
        if len(word) >= NEAR_MIN:
            for variant in _deletions(word):
                found = get(variant)  # nearly always None: most variants come from one word
                variants[variant] = (word,) if found is None else (*found, word)
    return variants


def near_words(word: str, known, near) -> list[str]:
    """Words of `known` (a table) one edit away from `word`, by a deletion table `near`."""
    found = {w for w in near.get(word, ()) if w in known}  # the word is missing a letter
    for variant in _deletions(word):
        if variant in known:  # the word has an extra letter
            found.add(variant)
        found.update(w for w in near.get(variant, ()) if w in known)  # one letter swapped
    found.discard(word)
    return sorted(found)


# ---------------------------------------------------------------- scoring


def _near_terms(term: str, index: dict) -> list[str]:
    """Known terms one edit away (missing, extra or swapped letter) from an unknown word."""
    if len(term) < NEAR_MIN:
        return []
    return near_words(term, index["postings"], index["near"])


def trigger_strength(raw: float) -> float:
    """Lexical (trigger) evidence mapped into [0, 1): 0.8 -> 0.41, 2 -> 0.74, 3 -> 0.86."""
    return 1 - math.exp(-raw / 1.5)


def agent_score(similarity: float, trigger_raw: float, beta: float, entity_raw: float = 0.0) -> float:
    """An agent's routing score: example similarity + beta x trigger strength + entity strength.
    The decision and its calibration both score with this, so the thresholds fit the scores."""
    return similarity + beta * trigger_strength(trigger_raw) + trigger_strength(entity_raw)


class Evidence:
    """What points at one agent: strong and weak weight, the keywords shown to users, and (with
    explain) each contribution.

    A plain class, not a dataclass: `dataclasses` brings `inspect` and `re` with it, ~15 ms of imports
    against a route_task process's 5 ms budget over `python -c pass` (docs/speed.md)."""

    def __init__(self) -> None:
        self.score = 0.0
        self.strong = 0.0
        self.weak = 0.0
        self.entity = 0.0  # names from the agent's own data count apart (skills/routing/names/evidence.py)
        self.keywords: list[str] = []
        self.parts: list[tuple] = []

    def __repr__(self) -> str:
        return f"Evidence(score={self.score}, strong={self.strong}, weak={self.weak}, entity={self.entity})"

    def add(
        self, kind: str, weight: float, display: str | None, source: str, explain: bool, weak: bool = False
    ) -> None:
        """Credit `weight`; `display` (a trigger, an entity name) joins the matched keywords."""
        if kind == "entity":
            self.entity += weight
        elif weak:
            self.weak += weight
        else:
            self.strong += weight
        if display and display not in self.keywords:
            self.keywords.append(display)
        if explain:
            self.parts.append((source, kind, round(weight, 3)))


def evidence_for(found: dict, position: int) -> Evidence:
    evidence = found.get(position)
    if evidence is None:
        evidence = found[position] = Evidence()
    return evidence


def collect(task: str, index: dict, explain: bool) -> dict[int, Evidence]:
    """Lexical evidence per agent position (`score` is set: weak words count only beside strong)."""
    postings = index["postings"]
    found: dict[int, Evidence] = {}

    def credit(position: int, kind: int, weight: float, display: str, source: str) -> None:
        evidence_for(found, position).add(
            KIND_NAMES[kind] if kind >= 0 else "phrase",
            weight,
            display if kind != EXAMPLE else None,
            source,
            explain,
            weak=kind == WEAK,
        )

    for term in dict.fromkeys(terms(task)):
        hits = postings.get(term)
        if hits:
            for position, kind, weight, display in hits:
                credit(position, kind, weight, display, term)
            continue
        for near_term in _near_terms(term, index):
            for position, kind, weight, display in postings[near_term]:
                credit(position, kind, weight * TYPO_DISCOUNT, display, f"{term}~{near_term}")

    sequence = all_terms(task)
    seen_phrases = set()
    for start, term in enumerate(sequence):
        for parts, position, weight, display in index["phrases"].get(term, ()):
            if tuple(sequence[start : start + len(parts)]) == tuple(parts) and (parts, position) not in seen_phrases:
                seen_phrases.add((parts, position))
                credit(position, -1, weight, display, " ".join(parts))

    for evidence in found.values():
        # weak words only count beside real evidence
        evidence.score = evidence.strong + (evidence.weak if evidence.strong > 0 else 0.0)
    return found


def score_evidence(index: dict, task: str) -> dict[int, float]:
    """Raw evidence per entry of a `build_lexical` index (picks an agent's tool with the same matching)."""
    return {position: evidence.score for position, evidence in collect(task, index, False).items()}
