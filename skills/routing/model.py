"""What routing learns from an agent's examples: a small vector-space model fitted with the index.

Every example request (the agent's own, its tools', confirmed corrections) and every trigger
(the agent's and its tools') is a short document of its agent. A task is compared with each agent in two ways, and the agent's similarity is
the geometric mean of both:
- `cosine`: the task's tf-idf vector against the agent's centroid (how much it reads like the
  agent's examples, as a whole);
- `coverage`: the share of the task's informative words that point at the agent, each word
  credited by how much more often the agent's documents use it than other agents' do. Words
  that no agent knows count against every agent, so an unrelated request that shares one word
  with an agent stays low.

Features are every word (stemmed; stopwords kept, since idf weighs them: "who are you" is all
stopwords and still means something), five-letter prefixes of longer words (a cheap way to meet
"reservation" with "reserve" and "cancelling" with "cancellation") and adjacent word pairs. An
unknown long word one letter off a known one is read as that word (misspellings).

Everything is plain values in str-keyed tables (skills/routing/__init__.py: the index shape), so
a route reads only the rows of its own features.
"""

from skills.text import STOPWORDS, all_terms

PREFIX = 5  # words longer than this also count by their first PREFIX letters
UNKNOWN_FUNCTION_WEIGHT = 0.5  # an unseen stopword or word pair says little either way
SPELLING_MIN = 7  # words this long or longer are matched one letter off
MAX_POSTINGS = 256  # a feature shared by more agents keeps its strongest ones (large registries)


# ---------------------------------------------------------------- features


def features(text: str) -> list[str]:
    """The distinct features of a text: words, prefixes ("reser~") and word pairs ("health check")."""
    words = [word for word in all_terms(text) if not word.isdigit()]
    found = dict.fromkeys(words)
    for word in words:
        if len(word) > PREFIX:
            found[word[:PREFIX] + "~"] = None
    # zip, not itertools.pairwise: importing itertools costs a route_task process 0.5 M instructions
    for first, second in zip(words, words[1:]):  # noqa: RUF007
        found[f"{first} {second}"] = None
    return list(found)


def is_sentence_feature(feature: str) -> bool:
    """Stopwords and word pairs: they occur in sentences, never in trigger lists."""
    return " " in feature or feature in STOPWORDS


def unknown_weight(feature: str, max_idf: float) -> float:
    """Weight of a feature no agent has: a new content word (and its prefix) counts fully
    against every agent; an unseen stopword or word pair says little either way."""
    return UNKNOWN_FUNCTION_WEIGHT if is_sentence_feature(feature) else max_idf


# ---------------------------------------------------------------- fitting


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
    """The fitted statistics, kept in full while building (calibration needs them)."""

    def __init__(self, agents: list[dict], extra_examples: dict) -> None:
        self.n_agents = len(agents)
        self.documents, self.examples = _documents(agents, extra_examples)
        n_documents = len(self.documents) or 1
        # Function words and word pairs only ever occur in sentences: their rarity is counted
        # among the examples, or trigger lists (no sentences) would make "the" look rare.
        n_sentences = len(self.examples) or 1
        self.max_idf = _idf(0, n_documents)
        self.agent_documents = [0] * self.n_agents
        counts: dict[str, dict[int, int]] = {}
        for position, found in self.documents:
            self.agent_documents[position] += 1
            for feature in found:
                per_agent = counts.get(feature)
                if per_agent is None:
                    counts[feature] = {position: 1}
                else:
                    per_agent[position] = per_agent.get(position, 0) + 1
        self.counts = counts
        self.idf = {
            feature: _idf(sum(per_agent.values()), n_sentences if is_sentence_feature(feature) else n_documents)
            for feature, per_agent in counts.items()
        }
        idf = self.idf
        self.centroids: list[dict[str, float]] = [{} for _ in range(self.n_agents)]
        for position, found in self.documents:
            values = [idf[feature] for feature in found]
            norm = sum(value * value for value in values) ** 0.5 or 1.0
            centroid = self.centroids[position]
            for feature, value in zip(found, values, strict=True):
                centroid[feature] = centroid.get(feature, 0.0) + value / norm
        self.centroid_norms = [sum(v * v for v in c.values()) ** 0.5 or 1.0 for c in self.centroids]

    def weight(self, feature: str) -> float:
        known = self.idf.get(feature)
        return known if known is not None else unknown_weight(feature, self.max_idf)

    def table(self) -> dict[str, tuple]:
        """feature -> (idf, sum of rates, ((position, centroid weight, rate), ...)) for the index.

        The rate is the share of the agent's documents that use the feature."""
        rows = {}
        centroids, norms, sizes = self.centroids, self.centroid_norms, self.agent_documents
        for feature, per_agent in self.counts.items():
            postings = [
                (position, centroids[position][feature] / norms[position], count / sizes[position])
                for position, count in per_agent.items()
            ]
            total_rate = sum(rate for _, _, rate in postings)
            if len(postings) > MAX_POSTINGS:
                postings.sort(key=lambda posting: -posting[2])
                postings = postings[:MAX_POSTINGS]
            rows[feature] = (self.idf[feature], total_rate, tuple(postings))
        return rows


# ---------------------------------------------------------------- scoring


def content_words(table) -> list[str]:
    """The table's words (not prefixes, stopwords or pairs): what a misspelling may be meant as."""
    return [f for f in table if len(f) >= SPELLING_MIN and not f.endswith("~") and not is_sentence_feature(f)]


def _respelt(word: str, table, near) -> str | None:
    """The known word one edit away from an unknown one (the most used when several are)."""
    from skills.routing.lexical import near_words

    found = near_words(word, table, near)
    if not found:
        return None
    return max(found, key=lambda known: -table[known][0])


def query_weights(task: str, table, max_idf: float, near=None) -> list[tuple[float, tuple | None]]:
    """(weight, table row or None) for each feature of the task; a misspelt word counts as the
    word it was meant to be."""
    out = []
    for feature in features(task):
        row = table.get(feature)
        if row is None and near is not None and len(feature) >= SPELLING_MIN and " " not in feature:
            known = None if feature.endswith("~") or feature in STOPWORDS else _respelt(feature, table, near)
            row = table.get(known) if known else None
        out.append((row[0] if row else unknown_weight(feature, max_idf), row))
    return out


def similarities(task: str, table, max_idf: float, near=None) -> dict[int, float]:
    """Agent position -> similarity in [0, 1]: sqrt(cosine x coverage). `near`: a deletion table
    (skills/routing/lexical.py) for misspellings."""
    weighted = query_weights(task, table, max_idf, near)
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
        position: combined_similarity(value / norm, coverage[position], total)
        for position, value in cosine.items()
        if value > 0
    }


def combined_similarity(cosine: float, coverage: float, total: float) -> float:
    """sqrt(cosine x coverage share): the one formula a route and calibration both use."""
    return (cosine * coverage / total) ** 0.5 if cosine > 0 and coverage > 0 else 0.0


def matched_words(task: str, table, position: int, limit: int = 5) -> list[str]:
    """The task's words that the agent's examples use, most telling first (shown as keywords)."""
    found = []
    for feature in features(task):
        if feature.endswith("~") or is_sentence_feature(feature):
            continue
        row = table.get(feature)
        if row is None:
            continue
        for agent, centroid_weight, _ in row[2]:
            if agent == position:
                found.append((-row[0] * centroid_weight, feature))
    return [feature for _, feature in sorted(found)[:limit]]
