"""From a question to one SQL query over any PostgreSQL schema, or an honest refusal.

The method is PRECISE's (Popescu, Etzioni and Kautz, IUI 2003): every content word must map to
one database element (a table, a column, a stored value, a named row) or to a piece of generic
English grammar (how many, average, most, over, not, per, in 2025), and the mapping must give one
query. Each word may mean several things; every combination is tried (`_choose`), the ones that
make a coherent plan (planning.py, finishing.py) are written as SQL (`query.to_sql`), and:

- one distinct SQL left: a `Reading`;
- several: `Refusal("ambiguous")` with each reading in words, and the readings themselves when few
  (execution/data.py runs them: the same rows are one answer);
- a word no element or grammar accounts for: `Refusal("model_required")` naming it;
- a name shaped like the data's names that the data does not hold: `Refusal("not_found")`;
- a request to change data: `Refusal("read_only")`, before anything else is read.

Weak matches (a name from some of its words, a column from one word of its name) count against a
reading: when a reading needs none, the ones that do are dropped. `say` turns rows into words.
Open `words.py` for the English, `vocabulary.py` for the phrases a schema answers to,
`scanning.py` for how a question becomes items of possible meanings, `planning.py` and
`finishing.py` for how one combination becomes a plan, `query.py` for how a plan becomes SQL,
`saying.py` for the reading and the answer in words.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass

from skills.answers.finishing import speaks_of_one
from skills.answers.model import Lexicon, Reading, Refusal, Schema
from skills.answers.planning import plan as plan_of
from skills.answers.query import (
    Forks,
    Plan,
    Unread,
    Unusable,
    average_choice,
    describe_path,
    shortest_paths,
    to_sql,
    void_choice,
)
from skills.answers.saying import describe, say
from skills.answers.scanning import change_request, not_found, scan
from skills.answers.vocabulary import Vocabulary, vocabulary
from skills.answers.words import (
    COMPANY_SUFFIXES,
    COMPARISONS,
    FILLER,
    YES_NO_STARTS,
    read_number,
    tokenize,
)

__all__ = ["interpret", "say"]

MAX_READINGS = 512  # combinations of word meanings tried before the question counts as too loose to read
MAX_COMPARED = 4  # readings of an ambiguous question few enough to run, so that equal results count as one answer


def interpret(
    question: str, schema: Schema, lexicon: Lexicon, *, today: datetime.date, vocabulary_dir: str | None = None
) -> Reading | Refusal:
    """The one query the question means over `schema`, or why there is none (see the module docstring).
    `vocabulary_dir`: where the schema's vocabulary may be kept between processes."""
    tokens = tokenize(question)
    if not tokens:
        return Refusal("model_required", "the question has no words to read", ())
    change = change_request(tokens)
    if change:
        return Refusal(
            "read_only",
            f"nothing was changed: '{change}' asks to change data, and this database is only read",
            (change,),
        )
    elsewhere = _outside_table(tokens, schema, lexicon)
    if elsewhere:
        words, table = elsewhere
        return Refusal(
            "model_required",
            f"'{words}' are rows of the table {table}, which this agent does not read: ask the agent that owns it",
            (words,),
        )
    vocab = vocabulary(schema, lexicon, vocabulary_dir)
    items, unknown = scan(tokens, vocab, today)
    unknown += _worth_asked(tokens)
    company = _unheld_company(tokens, items)
    if company:
        return Refusal("not_found", f"no name held here is '{company}'", (company,))
    if unknown:
        missing = not_found(unknown, question, vocab)
        if missing:
            return missing
        return Refusal("model_required", f"not understood: {', '.join(unknown)}", tuple(unknown))
    if not any(m.element for choices in items for m in choices):
        return Refusal("model_required", "the question names nothing this database holds", ())
    yes_no = tokens[0] in YES_NO_STARTS
    return _choose(items, schema, vocab, yes_no, tokens, today)


# --- choosing one reading ------------------------------------------------------------------------


@dataclass
class _Candidate:
    sql: str
    params: tuple
    words: str
    shape: str
    table: str
    cost: int
    grouped: bool = False  # "per X", "in each X": several rows are the answer
    guesses: tuple[str, ...] = ()
    pinned: bool = False  # a yes/no about one row: its answer names it, and several rows are no answer


def _choose(
    items, schema: Schema, vocab: Vocabulary, yes_no: bool, tokens: list[str], today: datetime.date
) -> Reading | Refusal:
    combos = 1
    for choices in items:
        combos *= len(choices)
    if combos > MAX_READINGS:
        return Refusal("ambiguous", "too many words here mean several things at once: say more exactly", ())
    candidates: list[_Candidate] = []
    failures: list[str] = []
    for combination in itertools.product(*items):
        try:
            plan, shape, cost = plan_of(list(combination), schema, yes_no, tokens, today)
        except Unread as problem:
            failures.append(problem.args[0])
            continue
        candidates += _write(plan, schema, shape, cost, failures)
    if not candidates:
        words = tuple(dict.fromkeys(failures))[:3]
        return Refusal("model_required", "no single query reads the whole question: " + "; ".join(words), ())
    best = min(c.cost for c in candidates)
    distinct = {}
    for candidate in candidates:
        if candidate.cost == best:
            distinct.setdefault((candidate.sql, repr(candidate.params)), candidate)
    readings = [_reading(c, items, tokens) for c in distinct.values()]
    if len(readings) > 1:
        options = tuple(dict.fromkeys(r.interpretation for r in readings))
        runnable = tuple(readings) if len(readings) <= MAX_COMPARED else ()
        return Refusal("ambiguous", "the question can be read in more than one way", (), options, runnable)
    return readings[0]


def _reading(chosen: _Candidate, items, tokens: list[str]) -> Reading:
    one = chosen.pinned or (
        chosen.shape in ("list", "value") and not chosen.grouped and speaks_of_one(items, chosen.table, tokens)
    )
    return Reading(chosen.sql, chosen.params, chosen.words, chosen.shape, chosen.table, one, chosen.guesses)


# what may follow "worth" when an amount comes: a comparison's first word, or these
AMOUNT_STARTS = frozenset(words[0] for words, _ in COMPARISONS) | {"between", "about", "around"}


def _worth_asked(tokens: list[str]) -> list[str]:
    """ "What's the Soweto project worth?": "worth" (or "valued") with no amount after it asks for a
    measure the question does not name (its budget? its spend? its contracts?): a word not understood.
    Before an amount ("RFQs worth over R1.5m") it only says the amount is the row's value."""
    asked = []
    for k, token in enumerate(tokens):
        if token not in ("worth", "valued"):
            continue
        if k + 1 == len(tokens) or not (tokens[k + 1] in AMOUNT_STARTS or read_number(tokens, k + 1)):
            asked.append(token)
    return asked


def _outside_table(tokens: list[str], schema: Schema, lexicon: Lexicon) -> tuple[str, str] | None:
    """(the words, the table) when the question names, in the plural, a table of the database that is
    not the agent's: read against the agent's own tables, "installations" could only be taken for
    something else (a specialty called "installation"), an answer about another thing than asked."""
    own = {table.name.replace("_", " ") for table in schema.tables}
    own |= {word.lower() for words in lexicon.tables.values() for word in words}
    text = " " + " ".join(tokens) + " "
    for table in schema.outside:
        words = table.replace("_", " ").lower()
        if words.endswith("s") and words not in own and f" {words} " in text:
            return words, table
    return None


def _unheld_company(tokens: list[str], items) -> str | None:
    """ "the rating of Soweto Splicing Co": a company suffix says a name was meant; when no name of
    the data was read, the words before it are a name the data does not hold (not a city and a trade)."""
    at = next((k for k, token in enumerate(tokens) if token in COMPANY_SUFFIXES and k > 0), None)
    if at is None or any(m.element and m.element.kind == "name" for choices in items for m in choices):
        return None
    start = at
    while start > 0 and at - start < 4 and tokens[start - 1] not in FILLER:
        start -= 1
    return " ".join(tokens[start : at + 1]) if start < at else None


def _write(plan: Plan, schema: Schema, shape: str, cost: int, failures: list[str]) -> list[_Candidate]:
    """The plan as SQL, once per choice of join path where the schema leaves that open."""
    found, queue = [], [{}]
    while queue:
        picks = queue.pop()
        try:
            sql, params = to_sql(plan, schema, picks)
        except Forks as fork:
            queue += [{**picks, fork.key: n} for n in range(len(fork.options))]
            continue
        except Unusable as problem:
            failures.append(str(problem))
            continue
        words = describe(plan, shape) + (_path_words(picks, plan, schema) if picks else "")
        found.append(
            _Candidate(
                sql, params, words, shape, plan.subject, cost, bool(plan.group), tuple(plan.guesses), bool(plan.pins)
            )
        )
    return found


def _path_words(picks: dict[str, int], plan: Plan, schema: Schema) -> str:
    parts = []
    for key, index in sorted(picks.items()):
        if key.startswith("void "):  # a total over rows that can be cancelled: all of them, or without those
            parts.append(void_choice(schema, key, index))
            continue
        if key.startswith("average "):  # "above the average": of the rows asked about, or of all
            parts.append(average_choice(key, index))
            continue
        start, _, goal = key.removeprefix("path ").partition("->")
        parts.append(describe_path(shortest_paths(schema, start, goal)[index]))
    return " (" + "; ".join(parts) + ")"
