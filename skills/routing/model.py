"""What routing learns from an agent's examples: a small vector-space model fitted with the index.

Every example request (the agent's own, its tools', confirmed corrections) and every trigger
is a short document of its agent. A task is compared with each agent in two ways, and the agent's similarity is
the geometric mean of both:
- `cosine`: the task's tf-idf vector against the agent's centroid (how much it reads like the
  agent's examples, as a whole);
- `coverage`: the share of the task's informative words that point at the agent, each word
  credited by how much more often the agent's documents use it than other agents' do. Words
  that no agent knows count against every agent, so an unrelated request that shares one word
  with an agent stays low.

Features are every word (stemmed; stopwords kept, since idf weighs them: "who are you" is all
stopwords and still means something), five-letter prefixes of longer words (a cheap way to meet
"reservation" with "reserve" and "cancelling" with "cancellation") and adjacent word pairs.

Everything is plain values in str-keyed tables (skills/routing/__init__.py: the index shape), so
a route reads only the rows of its own features.
"""

from __future__ import annotations

import itertools

from skills.text import STOPWORDS, all_terms

PREFIX = 5  # words longer than this also count by their first PREFIX letters
UNKNOWN_FUNCTION_WEIGHT = 0.5  # an unseen stopword or word pair says little either way
MAX_POSTINGS = 256  # a feature shared by more agents keeps its strongest ones (large registries)
TRIGGER_DOCUMENT_WEIGHT = 1.0  # a trigger counts as one short example
SENTENCE_KINDS = (1, 3)  # stopwords and word pairs


# ---------------------------------------------------------------- features


def features(text: str) -> dict[str, int]:
    """Feature -> kind (0 word, 1 stopword, 2 prefix, 3 pair) for one text."""
    words = [word for word in all_terms(text) if not word.isdigit()]
    found: dict[str, int] = {}
    for word in words:
        found[word] = 1 if word in STOPWORDS else 0
        if len(word) > PREFIX:
            found.setdefault(word[:PREFIX] + "~", 2)
    for first, second in itertools.pairwise(words):
        found.setdefault(f"{first} {second}", 3)
    return found


def _unknown_weight(kind: int, max_idf: float) -> float:
    """Weight of a feature no agent has: a new content word counts fully against every agent."""
    if kind == 0:
        return max_idf
    if kind == 2:
        return max_idf  # an unseen word's prefix: unseen too, so the new word counts twice
    return UNKNOWN_FUNCTION_WEIGHT


# ---------------------------------------------------------------- fitting


def _documents(agents: list[dict], extra_examples: dict) -> tuple[list[tuple[int, dict, float]], dict[int, str]]:
    """(agent position, features, document weight) for every example and trigger, and which
    of them are examples (requests in users' words, as opposed to trigger words): {index: text}."""
    documents = []
    examples = {}
    for position, agent in enumerate(agents):
        texts = list(agent.get("examples", ())) + list(extra_examples.get(agent["id"], ()))
        texts += [text for tool in agent.get("tools", ()) for text in tool.get("examples", ())]
        for text in texts:
            found = features(text)
            if found:
                examples[len(documents)] = text
                documents.append((position, found, 1.0))
        for trigger in agent.get("triggers", ()):
            found = features(trigger)
            if any(kind == 3 for kind in found.values()):  # a phrase counts as its word pairs only:
                found = {feature: kind for feature, kind in found.items() if kind == 3}  # apart, not the phrase
            if found:
                documents.append((position, found, TRIGGER_DOCUMENT_WEIGHT))
    return documents, examples


def _idf(document_frequency: float, n_documents: float) -> float:
    import math  # index building only

    return math.log((n_documents + 1) / (document_frequency + 0.5))


class Fit:
    """The fitted statistics, kept in full while building (calibration needs them)."""

    def __init__(self, agents: list[dict], extra_examples: dict) -> None:
        self.n_agents = len(agents)
        self.documents, self.examples = _documents(agents, extra_examples)
        self.n_documents = sum(weight for _, _, weight in self.documents) or 1.0
        # Function words and word pairs only ever occur in sentences: their rarity is counted
        # among the examples, or trigger lists (no sentences) would make "the" look rare.
        self.n_sentences = float(len(self.examples)) or 1.0
        self.max_idf = _idf(0, self.n_documents)
        self.agent_documents = [0.0] * self.n_agents
        frequency: dict[str, float] = {}
        kinds: dict[str, int] = {}
        counts: dict[str, dict[int, float]] = {}
        for position, found, weight in self.documents:
            self.agent_documents[position] += weight
            for feature, kind in found.items():
                kinds[feature] = kind
                frequency[feature] = frequency.get(feature, 0.0) + weight
                per_agent = counts.setdefault(feature, {})
                per_agent[position] = per_agent.get(position, 0.0) + weight
        self.counts = counts
        self.idf = {
            feature: max(_idf(df, self.n_sentences if kinds[feature] in SENTENCE_KINDS else self.n_documents), 0.05)
            for feature, df in frequency.items()
        }
        self.vectors = [self.vector(found) for _, found, _ in self.documents]
        self.centroids = [{} for _ in range(self.n_agents)]
        for (position, _, weight), vector in zip(self.documents, self.vectors):
            centroid = self.centroids[position]
            for feature, value in vector.items():
                centroid[feature] = centroid.get(feature, 0.0) + weight * value
        self.centroid_norms = [sum(v * v for v in c.values()) ** 0.5 or 1.0 for c in self.centroids]

    def weight(self, feature: str, kind: int) -> float:
        known = self.idf.get(feature)
        return known if known is not None else _unknown_weight(kind, self.max_idf)

    def vector(self, found: dict) -> dict[str, float]:
        """Unit-length tf-idf vector of a document (binary term frequency: texts are short)."""
        weights = {feature: self.weight(feature, kind) for feature, kind in found.items()}
        norm = sum(v * v for v in weights.values()) ** 0.5 or 1.0
        return {feature: value / norm for feature, value in weights.items()}

    def rate(self, feature: str, position: int) -> float:
        """How often the agent's documents use the feature (share of its documents)."""
        return self.counts[feature].get(position, 0.0) / (self.agent_documents[position] or 1.0)

    def table(self) -> dict[str, tuple]:
        """feature -> (idf, sum of rates, ((position, centroid weight, rate), ...)) for the index."""
        rows = {}
        for feature, per_agent in self.counts.items():
            postings = []
            for position in per_agent:
                centroid_weight = self.centroids[position].get(feature, 0.0) / self.centroid_norms[position]
                postings.append((position, round(centroid_weight, 5), round(self.rate(feature, position), 5)))
            total_rate = sum(rate for _, _, rate in postings)
            if len(postings) > MAX_POSTINGS:
                postings.sort(key=lambda posting: -posting[2])
                postings = postings[:MAX_POSTINGS]
            rows[feature] = (round(self.idf[feature], 5), round(total_rate, 5), tuple(postings))
        return rows


# ---------------------------------------------------------------- scoring


def query_weights(task: str, table, max_idf: float) -> list[tuple[float, tuple | None]]:
    """(weight, table row or None) for each feature of the task."""
    out = []
    for feature, kind in features(task).items():
        row = table.get(feature)
        out.append((row[0] if row else _unknown_weight(kind, max_idf), row))
    return out


def similarities(task: str, table, max_idf: float) -> dict[int, float]:
    """Agent position -> similarity in [0, 1]: sqrt(cosine x coverage)."""
    weighted = query_weights(task, table, max_idf)
    total = sum(weight for weight, _ in weighted)
    norm = sum(weight * weight for weight, _ in weighted) ** 0.5
    if not total or not norm:
        return {}
    cosine: dict[int, float] = {}
    coverage: dict[int, float] = {}
    for weight, row in weighted:
        if row is None:
            continue
        _, total_rate, postings = row
        for position, centroid_weight, rate in postings:
            cosine[position] = cosine.get(position, 0.0) + weight * centroid_weight
            coverage[position] = coverage.get(position, 0.0) + weight * rate / total_rate
    return {
        position: (max(value, 0.0) / norm * coverage[position] / total) ** 0.5
        for position, value in cosine.items()
        if value > 0
    }


def matched_words(task: str, table, position: int, limit: int = 5) -> list[str]:
    """The task's words that the agent's examples use, most telling first (shown as keywords)."""
    found = []
    for feature, kind in features(task).items():
        if kind != 0:
            continue
        row = table.get(feature)
        if row is None:
            continue
        for agent, centroid_weight, _ in row[2]:
            if agent == position:
                found.append((-row[0] * centroid_weight, feature))
    return [feature for _, feature in sorted(found)[:limit]]
