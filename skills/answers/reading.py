"""Reading a person's question, and writing answers they can trust: shared by the offline planners and tools.

- what kind of question it is: a count ("how many"), a yes/no ("Is ... over budget?", "Low on disk
  space?"), a list;
- the phrase that names a thing ("the phone number of <Acme Fibre>");
- honest summaries: a list whose count and names agree ("6 running late: A, B, C, D, E and 1 more"),
  and a yes/no answered with Yes or No first, from the facts (`checks`) a tool reports.
"""

from __future__ import annotations

import re

_COUNT = re.compile(r"\b(how\s+many|number\s+of|count|tally)\b", re.IGNORECASE)
_YES_NO_START = re.compile(
    r"^\s*(is|are|was|were|does|do|did|has|have|had|any|can|will|should|am)\b|^\s*(low|short|running\s+out)\s+(on|of)\b",
    re.IGNORECASE,
)
_NAME_NOISE = re.compile(
    r"^(?:the|our|a|an)\s+|\s+(?:company|please|now|today|again|at the moment|right now)$", re.IGNORECASE
)


def is_count(query: str) -> bool:
    return bool(_COUNT.search(query))


def is_yes_no(query: str) -> bool:
    """A question that asks for yes or no: "Is the Alexandra project over budget?", "Low on disk space?"."""
    return bool(_YES_NO_START.search(query))


def has_word(query: str, *stems: str) -> bool:
    """Any word of the query starts with one of `stems` ("instal" finds "installs", "installations")."""
    words = re.findall(r"[a-z0-9]+", query.lower())
    return any(word.startswith(stem) for word in words for stem in stems)


def phrase_after(query: str, leads: str) -> str | None:
    """The words after the last lead ("phone number for <Thuthuka>"), up to punctuation or the end.

    `leads` is a regex alternation such as "for|of|at|with"; trailing "'s" and filler are dropped.
    """
    leads_found = list(re.finditer(rf"\b(?:{leads})\s+", query, re.IGNORECASE))
    if not leads_found:
        return None
    rest = query[leads_found[-1].end() :]
    phrase = re.split(r"[?!]|\.(?:\s|$)", rest, maxsplit=1)[0].strip(" ,;:'\"")
    phrase = re.sub(r"'s?$", "", phrase)
    for _ in range(3):
        phrase = _NAME_NOISE.sub("", phrase).strip(" ,;:'\"")
    return phrase if len(phrase) >= 2 else None


def listing(items: list[str], shown: int = 8) -> str:
    """ "A, B and C"; above `shown` items: "A, B, ..., H and 3 more", so the count always agrees."""
    items = [str(item) for item in items]
    if not items:
        return ""
    if len(items) > shown:
        return ", ".join(items[:shown]) + f" and {len(items) - shown} more"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def statuses_said(rows: list[dict], key: str = "status", usual: str = "active") -> str:
    """ "(1 suspended, 2 inactive)" for the rows whose status changes what the list means; "" when none."""
    counts: dict[str, int] = {}
    for row in rows:
        status = row.get(key)
        if status and status != usual:
            counts[status] = counts.get(status, 0) + 1
    if not counts:
        return ""
    return " (" + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items())) + ")"


def answer_yes_no(query: str, checks: dict[str, bool] | None) -> str | None:
    """ "Yes" or "No" for a yes/no question, from the tool's facts whose words the question uses.

    `checks` maps a phrase ("over budget", "low on disk space", "active") to whether it holds; the
    phrase whose words the question holds most of decides. None when the question is not a yes/no
    one or no fact fits it (the summary is then given as it is).
    """
    if not checks or not is_yes_no(query):
        return None
    said = {_stem(w) for w in re.findall(r"[a-z0-9]+", query.lower())}
    best, best_score = None, 0.0
    for phrase, holds in checks.items():
        words = [_stem(w) for w in re.findall(r"[a-z0-9]+", phrase.lower())]
        score = sum(w in said for w in words) / len(words) if words else 0
        if score > best_score:
            best, best_score = holds, score
    if best is None or best_score < 0.5:
        return None
    return "Yes" if best else "No"


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word
