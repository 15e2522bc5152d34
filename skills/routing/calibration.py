"""When is a similarity strong enough to route? Learnt from the registry itself, not tuned by hand.

The registry holds no out-of-scope requests, but it can stand in for them: route each agent's
examples with that agent taken out, and they are requests that no remaining agent should take
(leave-one-agent-out). The requests that should be taken are the examples themselves, each
routed with only itself taken out (leave-one-out), once as written and once without their own
agent's trigger evidence (the same request in words that are not the trigger words). The threshold is the similarity that gets
the most of both right: wrong routes and wrong refusals cost the same. Confirmed "nothing
should have taken this" corrections (feedback) join the unrelated side as real out-of-scope.

Each agent gets its own threshold where it has enough examples; fewer examples pull it toward
the registry-wide one. Change the examples and the thresholds move.

Both held-out scores are computed from the fitted statistics in closed form (no refitting), so
calibration costs about one route per sampled example. Large registries are sampled.
"""

from __future__ import annotations

import itertools
import operator

from skills.routing.fitting import Fit
from skills.routing.lexical import trigger_strength
from skills.routing.model import combined_similarity, similarities

BETAS = (0.0, 0.25, 0.5, 0.75, 1.0)  # how much trigger evidence may add to example similarity
SAMPLE_LIMIT = 1500  # held-out examples scored at most (spread evenly over the registry)
SHRINK = 100.0  # an agent with this many held-out scores weighs its own threshold half
# Before any data: about one clear trigger word (raw evidence 0.65) of an agent. A registry with
# few examples moves from there as far as its data allows: the prior counts as PRIOR_COUNT samples.
PRIOR_THRESHOLD = 0.35
PRIOR_COUNT = 50.0
NO_ENTITY = trigger_strength(0.0)  # what agent_score adds for an agent without entity evidence
NO_TRIGGER = trigger_strength(0.0)  # and for one without trigger evidence


def _held_out(fit: Fit, table: dict, document: int) -> tuple[dict[int, float], dict[int, float]]:
    """(similarities with the document left out of its agent, with its agent left out entirely).

    Other agents are read from the index rows, as a route reads them; the own agent's counts
    and centroid are corrected for the missing document in closed form."""
    own, found = fit.documents[document]
    weights = {feature: fit.weight(feature) for feature in found}
    total = sum(weights.values())
    norm = sum(value * value for value in weights.values()) ** 0.5
    if not total or not norm:
        return {}, {}
    own_documents = fit.agent_documents[own]
    own_centroid = fit.centroids[own]
    loo_dot = 0.0  # the task's unit vector against the own agent's unnormalised centroid
    cosine: dict[int, float] = {}
    coverage_loo: dict[int, float] = {}
    coverage_lao: dict[int, float] = {}
    for feature, weight in weights.items():
        row = table.get(feature)
        if row is None:
            continue
        _, total_rate, postings = row
        own_count = fit.agent_counts[own].get(feature, 0)
        own_rate = own_count / own_documents
        own_rate_loo = (own_count - 1) / (own_documents - 1) if own_documents > 1 else 0.0
        loo_total = total_rate - own_rate + max(own_rate_loo, 0.0)
        lao_total = total_rate - own_rate
        loo_dot += weight / norm * own_centroid.get(feature, 0.0)
        if own_rate_loo > 0 and loo_total > 0:
            coverage_loo[own] = coverage_loo.get(own, 0.0) + weight * own_rate_loo / loo_total
        for position, centroid_weight, rate in postings:
            if position == own:
                continue
            cosine[position] = cosine.get(position, 0.0) + weight / norm * centroid_weight
            if loo_total > 0:
                coverage_loo[position] = coverage_loo.get(position, 0.0) + weight * rate / loo_total
            if lao_total > 0:
                coverage_lao[position] = coverage_lao.get(position, 0.0) + weight * rate / lao_total
    left_out = {p: combined_similarity(c, coverage_lao.get(p, 0.0), total) for p, c in cosine.items()}
    kept = {p: combined_similarity(c, coverage_loo.get(p, 0.0), total) for p, c in cosine.items()}
    own_norm_sq = fit.centroid_norms[own] ** 2 - 2 * loo_dot + 1.0
    if own_norm_sq > 1e-9:
        kept[own] = combined_similarity((loo_dot - 1.0) / own_norm_sq**0.5, coverage_loo.get(own, 0.0), total)
    return kept, left_out


class _Candidates:
    """One held-out request's candidate agents, lowest position first, scored for any beta.

    A sample is scored for every beta in BETAS, so what does not depend on beta (each agent's
    trigger strength) is worked out once. `best` scores as `agent_score` does, term for term and
    in its order (similarity + beta x trigger strength + entity strength, with no entity evidence
    here), so the thresholds fit the route's own scores to the last bit."""

    def __init__(self, similarity: dict[int, float], lexical: dict[int, float]) -> None:
        self.positions = sorted(similarity.keys() | lexical.keys())
        self.similarities = [similarity.get(position, 0.0) for position in self.positions]
        strengths = {position: trigger_strength(raw) for position, raw in lexical.items()}  # a few
        self.strengths = [strengths.get(position, NO_TRIGGER) for position in self.positions]

    def best(self, beta: float) -> tuple[int | None, float]:
        """(position, score) of the best-scoring agent (the lowest position of a tie), or (None, 0.0)."""
        if not self.positions:
            return None, 0.0
        weighted = map(operator.mul, itertools.repeat(beta), self.strengths)
        scores = list(map(operator.add, map(operator.add, self.similarities, weighted), itertools.repeat(NO_ENTITY)))
        score = max(scores)
        return self.positions[scores.index(score)], score


def _sample(documents: list[int]) -> list[int]:
    if len(documents) <= SAMPLE_LIMIT:
        return documents
    step = len(documents) / SAMPLE_LIMIT
    return [documents[int(i * step)] for i in range(SAMPLE_LIMIT)]


def _best_threshold(accepted: list[tuple[float, bool]], refused: list[float]) -> tuple[float, float] | None:
    """(threshold, value): the cut that maximises right routes / routes + refusals / unrelated."""
    if not accepted or not refused:
        return None
    events = sorted([(score, 0, correct) for score, correct in accepted] + [(score, 1, False) for score in refused])
    # sweep the cut upwards: everything below it is refused
    right = sum(1 for _, correct in accepted if correct)
    refusals = 0
    best = (events[0][0], right / len(accepted))
    index = 0
    while index < len(events):
        score = events[index][0]
        while index < len(events) and events[index][0] == score:
            _, kind, correct = events[index]
            refusals += kind
            right -= kind == 0 and correct
            index += 1
        cut = (score + events[index][0]) / 2 if index < len(events) else score + 1e-6
        value = right / len(accepted) + refusals / len(refused)
        if value > best[1] + 1e-12:
            best = (cut, value)
    return best


class _Samples:
    """Held-out scores for calibration, gathered once and combined for each beta."""

    def __init__(self, fit: Fit, table: dict, lexical, unrelated: list[str]) -> None:
        self.positives = []  # (own position, candidates with the example left out)
        # the same requests with none of their own agent's trigger words: users often do not use
        # them ("the box is crawling"), and a threshold fitted only on examples written with
        # triggers would refuse every request that is not
        self.masked = []
        self.negatives = []  # candidates with the own agent left out
        for document in _sample(sorted(fit.examples)):
            own = fit.documents[document][0]
            kept, left_out = _held_out(fit, table, document)
            scores = lexical(fit.examples[document])
            self.positives.append((own, _Candidates(kept, scores)))
            self.masked.append((own, _Candidates(kept, {p: v for p, v in scores.items() if p != own})))
            if fit.n_agents > 1:
                self.negatives.append(_Candidates(left_out, {p: v for p, v in scores.items() if p != own}))
        for task in unrelated:
            self.negatives.append(_Candidates(similarities(task, table, fit.max_idf), lexical(task)))

    def split(self, beta: float, masked: bool = False) -> tuple[list, list, dict]:
        """(accepted, refused, per agent) scores at `beta`; `masked` adds the trigger-less positives."""
        accepted, refused, per_agent = [], [], {}
        for own, candidates in self.positives + (self.masked if masked else []):
            position, score = candidates.best(beta)
            accepted.append((score, position == own))
            per_agent.setdefault(own, ([], []))[0].append((score, position == own))
        for candidates in self.negatives:
            position, score = candidates.best(beta)
            refused.append(score)
            if position is not None:
                per_agent.setdefault(position, ([], []))[1].append(score)
        return accepted, refused, per_agent


def calibrate(fit: Fit, table: dict, lexical, unrelated: list[str]) -> dict:
    """How much to trust triggers (beta) and the thresholds, fitted on held-out examples.

    `lexical(task) -> {position: raw trigger evidence}`. Returns plain values for the index:
    {"beta", "threshold", "agents": {position: threshold}, "samples": {...}}.
    """
    samples = _Samples(fit, table, lexical, unrelated)
    fitted = []
    for beta in BETAS:
        accepted, refused, per_agent = samples.split(beta)
        found = _best_threshold(accepted, refused)
        if found:
            key = (round(found[1], 9), sum(1 for _, correct in accepted if correct))
            fitted.append((key, beta, found[0], per_agent))
    if not fitted:
        return {"beta": 1.0, "threshold": PRIOR_THRESHOLD, "agents": {}, "samples": _counts(samples)}
    # the best held-out score, then the most examples ranked right; a tie (small registries
    # score the same over a range of weights) takes the middle of the tied range, and when
    # the examples cannot tell the weights apart at all, triggers count fully (the prior)
    top = max(key for key, *_ in fitted)
    tied = [entry for entry in fitted if entry[0] == top]
    _, beta, learnt, per_agent = tied[-1] if len(tied) == len(fitted) else tied[(len(tied) - 1) // 2]
    # beta is chosen on the examples as written; the threshold must also take them without triggers
    accepted, refused, per_agent = samples.split(beta, masked=True)
    learnt = _best_threshold(accepted, refused)[0]
    n_samples = len(samples.positives) + len(samples.negatives)
    # the prior is "one clear trigger", which means as much as triggers count (beta)
    prior = beta * PRIOR_THRESHOLD + (1 - beta) * learnt
    overall = (n_samples * learnt + PRIOR_COUNT * prior) / (n_samples + PRIOR_COUNT)
    agents = {}
    for position, (own_accepted, own_refused) in per_agent.items():
        own = _best_threshold(own_accepted, own_refused)
        if own is None:
            continue
        weight = (len(own_accepted) + len(own_refused)) / SHRINK
        agents[str(position)] = round((weight * own[0] + overall) / (weight + 1), 5)
    return {"beta": beta, "threshold": round(overall, 5), "agents": agents, "samples": _counts(samples)}


def _counts(samples: _Samples) -> dict:
    return {"examples": len(samples.positives), "unrelated": len(samples.negatives)}
