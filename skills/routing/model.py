"""What routing learns from an agent's examples: a small vector-space model fitted with the index
(skills/routing/fitting.py fits it; this module turns texts into features and scores tasks).

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


# ---------------------------------------------------------------- features


class _Prefixes(dict):
    """word -> its prefix feature ("reser~"), or None for a short word; one string per word, made
    on first use, so a large registry's index does not make a new one for every use of the word."""

    def __missing__(self, word: str) -> str | None:
        found = self[word] = word[:PREFIX] + "~" if len(word) > PREFIX else None
        return found


_prefix_of = _Prefixes().__getitem__


def features(text: str) -> list[str]:
    """The distinct features of a text: words, prefixes ("reser~") and word pairs ("health check")."""
    words = [word for word in all_terms(text) if not word.isdigit()]
    found = dict.fromkeys(words)
    found.update(dict.fromkeys(filter(None, map(_prefix_of, words))))
    # zip, not itertools.pairwise: importing itertools costs a route_task process 0.5 M instructions
    found.update(dict.fromkeys(map(" ".join, zip(words, words[1:]))))  # noqa: RUF007
    return list(found)


def is_sentence_feature(feature: str) -> bool:
    """Stopwords and word pairs: they occur in sentences, never in trigger lists."""
    return " " in feature or feature in STOPWORDS


def unknown_weight(feature: str, max_idf: float) -> float:
    """Weight of a feature no agent has: a new content word (and its prefix) counts fully
    against every agent; an unseen stopword or word pair says little either way."""
    return UNKNOWN_FUNCTION_WEIGHT if is_sentence_feature(feature) else max_idf


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
