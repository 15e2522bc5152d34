"""Fitting the example model (skills/routing/model.py) when the index is built: never on a route's path.

The model's statistics come from every example request and trigger of every agent (each a
short document): how rare each feature is (idf), each agent's centroid and how many of its
documents use each feature. `Fit.table()` turns them into the index's `features` rows that
model.py's `similarities` reads; calibration.py keeps the whole `Fit` to score held-out examples.

At 10,000 agents there are close to a million (feature, document) pairs, so the work is done a
whole agent at a time, in C (Counter, zip, map) where the sums allow, with every float summed
in the same order as before (the thresholds are fitted to these exact values).
"""

from __future__ import annotations

import itertools
import operator
from collections import Counter

from skills.routing.model import features, unknown_weight
from skills.text import STOPWORDS

MAX_POSTINGS = 256  # a feature shared by more agents keeps its strongest ones (large registries)


def _document_features(trigger: str, known: dict) -> list[str]:
    """A trigger's features; a phrase counts as its word pairs only (its words apart are not the
    phrase). Remembered per trigger: large registries repeat them."""
    found = known.get(trigger)
    if found is None:
        found = features(trigger)
        found = known[trigger] = [feature for feature in found if " " in feature] or found
    return found


def _documents(agents: list[dict], extra_examples: dict) -> tuple[list[tuple[int, list]], dict[int, str]]:
    """(agent position, features) for every example and trigger, and which of them are
    examples (requests in users' words, as opposed to trigger words): {index: text}."""
    documents = []
    examples = {}
    known: dict[str, list] = {}
    for position, agent in enumerate(agents):
        texts = list(agent.get("examples", ())) + list(extra_examples.get(agent["id"], ()))
        texts += [text for tool in agent.get("tools", ()) for text in tool.get("examples", ())]
        for text in texts:
            found = features(text)
            if found:
                examples[len(documents)] = text
                documents.append((position, found))
        # a tool's triggers are words of the agent's domain too ("quotes" for RFQs); shared ones
        # ("list", "how many") get a low idf from appearing under every agent
        tool_triggers = [trigger for tool in agent.get("tools", ()) for trigger in tool.get("triggers", ())]
        for trigger in list(agent.get("triggers", ())) + tool_triggers:
            found = _document_features(trigger, known)
            if found:
                documents.append((position, found))
    return documents, examples


def _idf(document_frequency: float, n_documents: float) -> float:
    import math  # index building only

    return max(math.log((n_documents + 1) / (document_frequency + 0.5)), 0.05)


class Fit:
    """The fitted statistics, kept in full while building (calibration needs them).

    Per agent: its documents' count, its centroid (feature -> summed unit-vector weight) and
    how many of its documents use each feature. Built a whole agent at a time, with the
    per-feature work in C (Counter, zip, map) where the sums allow: at 10,000 agents there are
    close to a million (feature, document) pairs."""

    def __init__(self, agents: list[dict], extra_examples: dict) -> None:
        self.n_agents = len(agents)
        self.documents, self.examples = _documents(agents, extra_examples)
        # Function words and word pairs only ever occur in sentences: their rarity is counted
        # among the examples, or trigger lists (no sentences) would make "the" look rare.
        self.max_idf = _idf(0, len(self.documents) or 1)
        frequency = Counter(itertools.chain.from_iterable(found for _, found in self.documents))
        self.idf = _idf_table(frequency, len(self.examples) or 1, len(self.documents) or 1)
        self.agent_documents = [0] * self.n_agents
        self.centroids: list[dict[str, float]] = [{} for _ in range(self.n_agents)]
        self.agent_counts: list[dict[str, int]] = [{} for _ in range(self.n_agents)]
        self._each_once = [True] * self.n_agents  # no feature in two of the agent's documents
        units: dict[int, list[float]] = {}  # a repeated trigger's document (one list) -> its unit vector
        for position, group in itertools.groupby(self.documents, key=operator.itemgetter(0)):
            found = [features for _, features in group]  # the agent's documents are consecutive
            self.agent_documents[position] = len(found)
            self.centroids[position], self.agent_counts[position] = self._centroid(found, units)
            self._each_once[position] = len(self.agent_counts[position]) == sum(map(len, found))
        self.centroid_norms = [_norm(centroid.values()) for centroid in self.centroids]

    def _unit(self, found: list[str]) -> list[float]:
        """The document's tf-idf vector divided by its norm."""
        values = list(map(self.idf.__getitem__, found))
        return list(map(operator.truediv, values, itertools.repeat(_norm(values))))

    def _centroid(self, documents: list[list[str]], units: dict) -> tuple[dict[str, float], dict[str, int]]:
        """(feature -> sum of the documents' unit-vector weights, feature -> documents using it)."""
        every = list(itertools.chain.from_iterable(documents))
        scaled: list[float] = []
        for found in documents:
            unit = units.get(id(found))
            if unit is None:
                unit = units[id(found)] = self._unit(found)
            scaled += unit
        centroid = dict(zip(every, scaled, strict=True))
        if len(centroid) == len(every):  # no feature in two of its documents: nothing to add up
            return centroid, dict.fromkeys(every, 1)
        centroid = {}
        for feature, value in zip(every, scaled, strict=True):  # in document order, as the sums always were
            centroid[feature] = centroid.get(feature, 0.0) + value
        return centroid, Counter(every)

    def weight(self, feature: str) -> float:
        known = self.idf.get(feature)
        return known if known is not None else unknown_weight(feature, self.max_idf)

    def table(self) -> dict[str, tuple]:
        """feature -> (idf, sum of rates, ((position, centroid weight, rate), ...)) for the index.

        The rate is the share of the agent's documents that use the feature. Postings are in
        agent order, rows in the order features were first met."""
        postings: dict[str, list] = {}
        get = postings.get
        for position, centroid in enumerate(self.centroids):
            counts, size = self.agent_counts[position], self.agent_documents[position]
            weights = map(operator.truediv, centroid.values(), itertools.repeat(self.centroid_norms[position]))
            if self._each_once[position]:  # every count is 1: one rate (1 / size) serves them all
                rates = itertools.repeat(1 / size)
            else:
                rates = map(operator.truediv, map(counts.__getitem__, centroid), itertools.repeat(size))
            for feature, posting in zip(centroid, zip(itertools.repeat(position), weights, rates)):
                found = get(feature)
                if found is None:
                    postings[feature] = [posting]
                else:
                    found.append(posting)
        rows = {}
        idf, rate = self.idf, operator.itemgetter(2)
        for feature, found in postings.items():
            total_rate = sum(map(rate, found))
            if len(found) > MAX_POSTINGS:
                found.sort(key=lambda posting: -posting[2])
                del found[MAX_POSTINGS:]
            rows[feature] = (idf[feature], total_rate, tuple(found))
        return rows


def _norm(values) -> float:
    """The Euclidean norm (1.0 for none), summed left to right as the route's own sums are."""
    values = list(values)
    return sum(map(operator.mul, values, values)) ** 0.5 or 1.0


def _idf_table(frequency: Counter, n_sentences: int, n_documents: int) -> dict[str, float]:
    """feature -> idf; only a few distinct (count, sentence feature?) pairs occur, each computed once."""
    table: dict[str, float] = {}
    known: dict[tuple, float] = {}
    for feature, count in frequency.items():
        key = (count, " " in feature or feature in STOPWORDS)
        value = known.get(key)
        if value is None:
            value = known[key] = _idf(count, n_sentences if key[1] else n_documents)
        table[feature] = value
    return table
