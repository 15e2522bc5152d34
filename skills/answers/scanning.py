"""The words of a question as items, each the list of what its words may mean.

`scan(tokens, vocabulary, today)` walks the tokens once: a phrase the schema or lexicon answers to
(longest first), a piece of generic grammar (how many, average, most, over R100k, in 2025, not,
per, or), or a filler word; whatever is none of these is returned as unknown. `change_request`
finds a request to change data by its verb; `not_found` recognises a code shaped like the codes a
table holds that it does not hold.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from skills.answers.model import Refusal
from skills.answers.vocabulary import Element, Vocabulary, is_date
from skills.answers.words import (
    AGGREGATES,
    CHANGE_OBJECT_STARTS,
    CHANGE_VERBS,
    COMPARISONS,
    CURRENCY,
    DATE_SUPERLATIVES,
    FILLER,
    NEGATIONS,
    NO_OP_PHRASES,
    NOUN_LIKE_CHANGE_VERBS,
    POLITE_OPENINGS,
    SUPERLATIVES,
    UNITS,
    read_dates,
    read_number,
    stem,
    stems,
    tokenize,
)

GROUP_WORDS = frozenset({"per", "each", "by"})
# comparisons that may compare with another column rather than a number ("spent more than the budget")
VERSUS = frozenset(
    [("more", "than"), ("greater", "than"), ("higher", "than"), ("bigger", "than"), ("larger", "than")]
    + [("less", "than"), ("fewer", "than"), ("lower", "than"), ("smaller", "than")]
    + [("over",), ("above",), ("exceeding",), ("exceeds",), ("under",), ("below",)]
)


@dataclass(frozen=True)
class Meaning:
    """One meaning of some words: a database Element, or grammar (kind: count, agg, super, not,
    group, or, number, window, versus: a comparison with the column that follows)."""

    kind: str
    words: str
    element: Element | None = None
    value: object = None  # agg: func; super: (direction, n); number: (op, Decimal, Decimal|None, currency)
    weak: bool = False
    dated: bool = False  # a superlative of time ("latest", "oldest"): it orders by a date


def change_request(tokens: list[str]) -> str | None:
    """The verb of a request to change data ("Delete all X", "please set Y to Z"), else None."""
    text = " ".join(tokens)
    for opening in sorted(POLITE_OPENINGS, key=len, reverse=True):
        if text.startswith(opening + " "):
            text = text[len(opening) + 1 :]
            break
    first, _, rest = text.partition(" ")
    if first in NOUN_LIKE_CHANGE_VERBS:
        following = rest.split(" ", 1)[0]
        return first if following in CHANGE_OBJECT_STARTS or following[:1].isdigit() else None
    if first not in CHANGE_VERBS and not (first[:2] in ("re", "un", "de") and first[2:].lstrip("-") in CHANGE_VERBS):
        return None  # "reactivate", "unassign", "deregister": a change verb again, undone or reversed
    if first == "add" and rest.startswith("up"):
        return None  # "add up the totals" is a sum
    return first


def scan(tokens: list[str], vocab: Vocabulary, today: datetime.date) -> tuple[list[list[Meaning]], list[str]]:
    """The question as a sequence of items, each the list of what its words may mean; and the words
    nothing accounts for."""
    items: list[list[Meaning]] = []
    unknown: list[str] = []
    tokens = _split_unknown_hyphens(tokens, vocab)
    i = 0
    including = None  # after "including": where the item stands whose stored values the rows may hold
    while i < len(tokens):
        quiet = _no_op_at(tokens, i)
        if quiet:
            i += quiet
            continue
        if tokens[i] == "included" and _include_before(items):
            i += 1
            continue
        if tokens[i] == "including" or tuple(tokens[i : i + 3]) == ("counting", "the", "ones"):
            including = len(items)
            i += 1 if tokens[i] == "including" else 3
            continue
        if including is not None and len(items) > including:
            _include_before(items, including)
            including = None
        found = _grammar_at(tokens, i, today)
        phrase, length = _phrase_at(tokens, i, vocab)
        if found and (not phrase or found[1] >= length):
            meanings, used = found
            items.append(meanings + (phrase if found[1] == length else []))
            i += used
            continue
        if phrase:
            extra = _grammar_word(tokens[i]) if length == 1 else None
            items.append(phrase + ([extra] if extra else []))
            i += length
            if i < len(tokens) and tokens[i] in ("date", "dates") and any(_is_date_column(m, vocab) for m in phrase):
                i += 1  # "the planned end date": the word only says that planned_end is a date
            continue
        word = _grammar_word(tokens[i])
        if word:
            items.append([word])
        elif tokens[i] not in FILLER and stem(tokens[i]) not in FILLER and not _done_as_verb(tokens, i):
            near = _adverb(tokens[i], vocab) or _misspelt(tokens[i], vocab)
            if near:
                items.append(near)
            else:
                unknown.append(tokens[i])
        i += 1
    if including is not None and len(items) > including:
        _include_before(items, including)
    return _join_split_columns(_drop_bare_grammar(items), vocab), unknown


def _join_split_columns(items: list[list[Meaning]], vocab: Vocabulary) -> list[list[Meaning]]:
    """ "How many homes have been passed": two words that each name part of a column, with only
    filler between them, and together its whole name, are that column ("homes_passed")."""
    result: list[list[Meaning]] = []
    for choices in items:
        previous = result[-1] if result else []
        joined = _whole_columns(previous, choices, vocab)
        if joined:
            result[-1] = joined
        else:
            result.append(choices)
    return result


def _whole_columns(first: list[Meaning], second: list[Meaning], vocab: Vocabulary) -> list[Meaning]:
    def columns(choices):
        return {(m.element.table, m.element.column): m for m in choices if m.element and m.element.kind == "column"}

    before, after = columns(first), columns(second)
    if not before or not after or not any(m.weak for m in first) or not any(m.weak for m in second):
        return []
    said = {stem(word) for m in (*first, *second) for word in m.words.split()}
    whole = []
    for key in before.keys() & after.keys():
        parts = {stem(part) for part in key[1].split("_")}
        if parts == said:
            whole.append(Meaning("element", f"{before[key].words} {after[key].words}", before[key].element))
    return whole


def _include_before(items: list[list[Meaning]], start: int = 0) -> bool:
    """ "POs raised this month, drafts included", "subbies and suppliers included": the stored values
    just before say which rows are not left out, rather than the only ones asked for. The run of
    items (from `start` on) that are values of one column becomes "include" meanings; False when
    there is none."""
    run = 0
    column = None
    for item in reversed(items[start:]):
        values = {(m.element.table, m.element.column) for m in item if m.element and m.element.kind == "value"}
        if len(values) != 1 or any(not m.element or m.element.kind != "value" for m in item):
            break
        if column is None:
            column = values.pop()
        elif values.pop() != column:
            break
        run += 1
    if not run:
        return False
    for at in range(len(items) - run, len(items)):
        items[at] = [Meaning("include", m.words, m.element) for m in items[at]]
    return True


def _done_as_verb(tokens: list[str], i: int) -> bool:
    """ "Which contractor has done the most installations": "done" right after "has" only makes the
    tense. Elsewhere ("how many sites are done") it says a state that the data must hold."""
    return tokens[i] == "done" and i > 0 and tokens[i - 1] in ("has", "have", "had")


def _no_op_at(tokens: list[str], i: int) -> int:
    """How many tokens at i say only "now" or "all of it" ("at the moment", "in total", "in rand"),
    or only frame a grouping that "by" says ("break the sites down by type", "a breakdown by")."""
    if tokens[i] in ("break", "breakdown") and "by" in tokens[i + 1 :]:
        return 1
    if tokens[i] == "down" and "break" in tokens[:i] and tokens[i + 1 : i + 2] == ["by"]:
        return 1
    for phrase in NO_OP_PHRASES:
        if tuple(tokens[i : i + len(phrase)]) == phrase:
            return len(phrase)
    if tokens[i] == "in" and i + 1 < len(tokens) and tokens[i + 1] in CURRENCY and len(tokens[i + 1]) > 1:
        return 2  # "the average PO value in rand": the unit of what is asked, not a condition
    if tokens[i] == "in" and i + 1 < len(tokens) and tokens[i + 1] in UNITS and len(tokens[i + 1]) > 1:
        return 2  # "the longest delay, in days"
    return 0


ADVERB_MIN_LETTERS = 7  # "actually", "currently": shorter -ly words ("only", "early") are no adverbs of a field
MISSPELT_MIN_LETTERS = 7  # shorter words are too close to other words to be corrected safely


def _adverb(token: str, vocab: Vocabulary) -> list[Meaning]:
    """ "When did it actually finish?": an adverb in -ly of a word the schema holds ("actual") means that word."""
    if not token.endswith("ly") or len(token) < ADVERB_MIN_LETTERS or not token.isalpha():
        return []
    return [Meaning("element", token[:-2], e, weak=e.partial) for e in vocab.lookup((stem(token[:-2]),))]


def _misspelt(token: str, vocab: Vocabulary) -> list[Meaning]:
    """The meanings of the one single word of the vocabulary one edit away from `token` (a letter
    missing, added, changed, or two swapped: "installtions"), as weak meanings; none when no word or
    several are that close, or the word is short."""
    if len(token) < MISSPELT_MIN_LETTERS or not token.isalpha():
        return []
    target = stem(token)
    close = {key for key in vocab.single_words() if _one_edit(target, key)}
    if len(close) != 1:
        return []
    elements = [e for e in vocab.lookup((close.pop(),)) if not e.partial]
    return [Meaning("element", token, e, weak=True) for e in elements]


def _one_edit(a: str, b: str) -> bool:
    """Whether a and b differ by one insertion, deletion, substitution or swap of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1 or min(len(a), len(b)) < MISSPELT_MIN_LETTERS - 2:
        return False
    if len(a) == len(b):
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    k = 0
    while k < len(short) and short[k] == long_[k]:
        k += 1
    return short[k:] == long_[k + 1 :]


def _split_unknown_hyphens(tokens: list[str], vocab: Vocabulary) -> list[str]:
    result = []
    for token in tokens:
        if "-" in token and not vocab.lookup((stem(token),)) and not any(c.isdigit() for c in token):
            result += [part for part in token.split("-") if part]
        else:
            result.append(token)
    return result


def _phrase_at(tokens: list[str], i: int, vocab: Vocabulary) -> tuple[list[Meaning], int]:
    for length in range(min(vocab.longest, len(tokens) - i), 0, -1):
        key = stems(tokens[i : i + length])
        elements = vocab.lookup(key)
        last = tokens[i + length - 1]
        if not elements and len(last) > 3 and last.endswith("s") and last.isalpha():
            # a plural the light stem keeps whole ("MDUs", "POSs"): the word without its s
            elements = vocab.lookup((*key[:-1], stem(last[:-1])))
        if any(e.kind == "table" and e.value is None for e in elements):
            # a table's own name is the table, not a value elsewhere; but where its own rows hold the
            # word as a kind ("contractors" of kind "contractor"), all rows and those rows are two readings
            # (unless the lexicon lists the name for the table: its owner has said the word means all rows)
            tables = {e.table for e in elements if e.kind == "table" and e.value is None}
            tables -= {e.table for e in elements if e.kind == "table" and e.value == "lexicon"}
            elements = [e for e in elements if e.kind == "table" or (e.kind == "value" and e.table in tables)]
        elements = [e for e in elements if not (e.kind == "name" and e.partial) or _said_in(tokens[i : i + length], e)]
        if length == 1:
            elements = [e for e in elements if not _participle_as_plural(tokens[i], key[0], e)]
        if elements:
            words = " ".join(tokens[i : i + length])
            return [Meaning("element", words, e, weak=e.partial) for e in elements], length
    return [], 0


def _participle_as_plural(token: str, key: str, element: Element) -> bool:
    """ "installs" is no form of installations.installed_on's "installed": a plural noun shares its
    stem with a participle in a column's name, but does not name that column."""
    if element.kind != "column" or not token.endswith("s") or token.endswith("ss"):
        return False
    return any(part.endswith("ed") and stem(part) == key for part in element.column.lower().split("_"))


def _is_date_column(meaning: Meaning, vocab: Vocabulary) -> bool:
    element = meaning.element
    return bool(element and element.kind == "column") and is_date(
        vocab.schema.table(element.table).column(element.column)
    )


def _said_in(said: list[str], element: Element) -> bool:
    """Whether words taken for part of a name are the name's own words, or their singular or plural:
    "worked" is no part of "Ithemba Civil Works", nor "cable" of "Blue Crane Cabling"."""
    own = set(tokenize(str(element.value)))
    return all(w in own or w + "s" in own or w + "es" in own or w.removesuffix("s") in own for w in said)


def _grammar_word(token: str) -> Meaning | None:
    if token in DATE_SUPERLATIVES:
        return Meaning("super", token, value=(DATE_SUPERLATIVES[token], 1), dated=True)
    if token in AGGREGATES:
        return Meaning("agg", token, value=AGGREGATES[token])
    if token in SUPERLATIVES:
        return Meaning("super", token, value=(SUPERLATIVES[token], 1))
    if token in NEGATIONS:
        return Meaning("not", token)
    if token in ("count",):
        return Meaning("count", token)
    if token in GROUP_WORDS:
        return Meaning("group", token)
    if token == "or":
        return Meaning("or", token)
    return None


def _grammar_at(tokens: list[str], i: int, today: datetime.date) -> tuple[list[Meaning], int] | None:
    """Multi-word grammar at tokens[i]: how many, number of, for each, comparisons with their
    numbers, between, top N, N biggest, date windows."""
    pair = tuple(tokens[i : i + 2])
    if pair == ("most", "recent") or pair == ("most", "recently"):
        return [Meaning("super", "most recent", value=(1, 1), dated=True)], 2
    if pair in (("how", "many"), ("number", "of"), ("how", "much")):
        return [Meaning("count", " ".join(pair), value=pair == ("how", "much"))], 2
    if tuple(tokens[i : i + 3]) == ("total", "number", "of"):
        return [Meaning("count", "total number of", value=False)], 3
    if pair in (("for", "each"), ("for", "every"), ("broken", "down"), ("grouped", "by"), ("split", "by")):
        return [Meaning("group", " ".join(pair))], 2
    window = read_dates(tokens, i, today)
    if window:
        return [Meaning("window", window.words, value=window)], window.consumed
    if tokens[i] == "between":
        low = read_number(tokens, i + 1)
        if low and i + 1 + low.consumed < len(tokens) and tokens[i + 1 + low.consumed] == "and":
            high = read_number(tokens, i + 2 + low.consumed)
            if high:
                used = 2 + low.consumed + high.consumed
                unit, used = _unit_at(tokens, i + used, used)
                value = ("between", low.value, high.value, low.currency or high.currency, unit)
                return [Meaning("number", " ".join(tokens[i : i + used]), value=value)], used
    for words, op in COMPARISONS:
        if tuple(tokens[i : i + len(words)]) == words:
            number = read_number(tokens, i + len(words))
            if number:
                unit, used = _unit_at(tokens, i + len(words) + number.consumed, len(words) + number.consumed)
                value = (op, number.value, None, number.currency, unit)
                return [Meaning("number", " ".join(tokens[i : i + used]), value=value)], used
            if words in VERSUS and i + len(words) < len(tokens):
                return [Meaning("versus", " ".join(words), value=op)], len(words)  # "over budget": another column
    if tokens[i] in ("top", "bottom", "first", "last"):
        number = read_number(tokens, i + 1)
        if number and number.value == int(number.value) and 0 < number.value <= 1000:
            direction = -1 if tokens[i] == "bottom" else 1
            return [Meaning("super", f"{tokens[i]} {tokens[i + 1]}", value=(direction, int(number.value)))], 2
    number = read_number(tokens, i)
    if number:
        following = tokens[i + number.consumed] if i + number.consumed < len(tokens) else ""
        if following in SUPERLATIVES and number.value == int(number.value) and 0 < number.value <= 1000:
            value = (SUPERLATIVES[following], int(number.value))
            return [Meaning("super", f"{tokens[i]} {following}", value=value)], number.consumed + 1
        unit, used = _unit_at(tokens, i + number.consumed, number.consumed)
        op = OPEN_ENDS.get(tuple(tokens[i + used : i + used + 2]), "=")  # "30m or more"
        used += 2 if op != "=" else 0
        words = " ".join(tokens[i : i + used])
        return [Meaning("number", words, value=(op, number.value, None, number.currency, unit))], used
    return None


# after a number, the side it is open to: "a budget of 30m or more", "5 days or less"
OPEN_ENDS = {
    **dict.fromkeys([("or", "more"), ("or", "above"), ("or", "higher"), ("or", "over"), ("and", "above")], ">="),
    **dict.fromkeys([("and", "up"), ("or", "greater"), ("or", "bigger"), ("or", "larger")], ">="),
    **dict.fromkeys([("or", "less"), ("or", "fewer"), ("or", "below"), ("or", "lower"), ("and", "below")], "<="),
    **dict.fromkeys([("or", "under"), ("or", "smaller")], "<="),
}


def _unit_at(tokens: list[str], j: int, used: int) -> tuple[str | None, int]:
    """(the unit at tokens[j], the tokens used with it): "80 m", "5 days", "12 %"."""
    if j < len(tokens) and tokens[j] in UNITS:
        return tokens[j], used + 1
    return None, used


def _drop_bare_grammar(items: list[list[Meaning]]) -> list[list[Meaning]]:
    """ "by" before no column or table is a preposition ("installations by Karoo Haulage")."""
    result = []
    for index, choices in enumerate(items):
        if len(choices) == 1 and choices[0].kind == "group" and choices[0].words == "by":
            following = items[index + 1] if index + 1 < len(items) else []
            if not any(m.element and m.element.kind in ("column", "table") for m in following):
                continue
        result.append(choices)
    return result


def not_found(unknown: list[str], question: str, vocab: Vocabulary) -> Refusal | None:
    """A code shaped like the codes a table holds ("PO-2026-99999") that it does not hold: not found."""
    shapes = {}
    for table in vocab.schema.tables:
        for column, names in table.names.items():
            for name in names[:50]:
                shapes.setdefault(_shape(name.lower()), (table.name, column))
    missing = [word for word in unknown if any(c.isdigit() for c in word) and _shape(word) in shapes]
    if missing and len(missing) == len(unknown):
        table, column = shapes[_shape(missing[0])]
        return Refusal(
            "not_found",
            f"no {table.replace('_', ' ')} has {column.replace('_', ' ')} {', '.join(w.upper() for w in missing)}",
            tuple(missing),
        )
    spans = _title_cased(unknown, question)
    if shapes and spans and len(spans) == len(unknown):
        name = question[min(start for start, _ in spans) : max(end for _, end in spans)]
        words = tuple(question[start:end].lower() for start, end in spans)
        return Refusal("not_found", f"nothing here is called '{name}': no name the data holds", words)
    return None


def _title_cased(unknown: list[str], question: str) -> list[tuple[int, int]]:
    """Where the unknown words are written as names ("Sandton", "Acme"), not first in the question: a
    name the data does not hold, rather than a word to learn. Acronyms in capitals are left as words."""
    found = []
    for word in unknown:
        for match in re.finditer(rf"\b{re.escape(word)}\b", question, re.IGNORECASE):
            said = match.group(0)
            if match.start() > 0 and said[:1].isupper() and said[1:].islower() and len(said) > 2:
                found.append(match.span())
                break
    return found


def _shape(text: str) -> str:
    return re.sub(r"[a-z]+", "a", re.sub(r"\d+", "9", text))
