"""From a question to one SQL query over any PostgreSQL schema, or an honest refusal.

The method is PRECISE's (Popescu, Etzioni and Kautz, IUI 2003): every content word must map to
one database element (a table, a column, a stored value, a named row) or to a piece of generic
English grammar (how many, average, most, over, not, per, in 2025), and the mapping must give one
query. Each word may mean several things; every combination is tried (`_readings`), the ones that
make a coherent plan are written as SQL (`query.to_sql`), and:

- one distinct SQL left: a `Reading`;
- several: `Refusal("ambiguous")` with each reading in words;
- a word no element or grammar accounts for: `Refusal("model_required")` naming it;
- a name shaped like the data's names that the data does not hold: `Refusal("not_found")`;
- a request to change data: `Refusal("read_only")`, before anything else is read.

Weak matches (a name from some of its words, a column from one word of its name) count against a
reading: when a reading needs none, the ones that do are dropped. `say` turns rows into words.
Open `words.py` for the English, `vocabulary.py` for the phrases a schema answers to,
`scanning.py` for how a question becomes items of possible meanings, `query.py` for how a plan
becomes SQL, `saying.py` for the reading and the answer in words.
"""

from __future__ import annotations

import datetime
import itertools
import re
from dataclasses import dataclass, replace

from skills.answers.model import Lexicon, Reading, Refusal, Schema

__all__ = ["interpret", "say"]
from skills.answers.query import Filter, Forks, Nested, Plan, Unusable, describe_path, fans_out, shortest_paths, to_sql
from skills.answers.saying import describe, say
from skills.answers.scanning import Meaning, change_request, not_found, scan
from skills.answers.vocabulary import Element, Vocabulary, is_date, is_key, is_numeric, vocabulary
from skills.answers.words import (
    COMPANY_SUFFIXES,
    FILLER,
    UNITS,
    YES_NO_STARTS,
    stem,
    tokenize,
)

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
            plan, shape, cost = _plan(list(combination), schema, yes_no, tokens, today)
        except _Unread as problem:
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
    one = chosen.shape in ("list", "value") and not chosen.grouped and _speaks_of_one(items, chosen.table, tokens)
    return Reading(chosen.sql, chosen.params, chosen.words, chosen.shape, chosen.table, one, chosen.guesses)


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


def _speaks_of_one(items, table: str, tokens: list[str]) -> bool:
    """Whether the question names its table in the singular after "the" ("show me the Durban project"):
    it presupposes one row, so a list of several is not its answer (the caller refuses as ambiguous)."""
    for choices in items:
        for meaning in choices:
            if not (meaning.element and meaning.element.kind == "table" and meaning.element.table == table):
                continue
            said = meaning.words.split()
            if not said or said[-1].endswith("s"):
                continue  # plural (or a word that looks it): a list is what was asked
            for at in range(len(tokens) - len(said) + 1):
                if tokens[at : at + len(said)] == said and "the" in tokens[max(0, at - 3) : at]:
                    return True
    return False


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
        found.append(_Candidate(sql, params, words, shape, plan.subject, cost, bool(plan.group), tuple(plan.guesses)))
    return found


def _path_words(picks: dict[str, int], plan: Plan, schema: Schema) -> str:
    parts = []
    for key, index in sorted(picks.items()):
        start, _, goal = key.removeprefix("path ").partition("->")
        parts.append(describe_path(shortest_paths(schema, start, goal)[index]))
    return " (" + "; ".join(parts) + ")"


class _Unread(Exception):
    """This combination of meanings is not one coherent question."""


@dataclass
class _State:
    plan: Plan
    negate: bool = False
    agg: str | None = None
    count_open: bool = False  # "how many"/"how much" not yet followed by a table: a number column is summed
    how_much: bool = False
    group: bool = False
    superlative: tuple[int, int] | None = None
    last_column: Element | None = None  # a column that a following number or date may compare
    dated: bool = False  # the superlative is one of time ("latest"): it orders by a date
    either: bool = False  # "or" seen: the next value joins the previous filter
    versus: tuple[str, str] | None = None  # (operator, words): "over" waiting for the column it compares with
    today: datetime.date = datetime.date.min
    cost: int = 0  # readings that stretch a word (a value also taken as the hint of a date) cost more


def _subject(meanings: list[Meaning]) -> str:
    """The table the answer is about: the first one named, unless it is what a count is grouped
    by ("total fee per doctor" is about the fees); else the first named row's, column's or value's."""
    grouped = {i + 1 for i, m in enumerate(meanings) if m.kind == "group"}
    for kind in ("table", "name", "column", "value", "adjective"):
        for index, meaning in enumerate(meanings):
            if meaning.element and meaning.element.kind == kind and not (kind == "table" and index in grouped):
                return meaning.element.table
    raise _Unread("nothing to ask about")


def _plan(
    meanings: list[Meaning], schema: Schema, yes_no: bool, tokens: list[str], today: datetime.date
) -> tuple[Plan, str, int]:
    subject = _subject(meanings)
    mentioned = {m.element.table for m in meanings if m.element and m.element.kind in ("table", "name")}
    state = _State(Plan(subject, yes_no=yes_no), today=today)
    used_tables: set[str] = {subject}
    cost = sum(1 for m in meanings if m.weak)
    named = [m.element.table for m in meanings if m.element and m.element.kind == "table"]
    cost += len(named) - len(set(named))  # a table said twice is likelier a value spelt like its synonym
    meanings = _limit_before_table(meanings)
    skip = set()
    for index, meaning in enumerate(meanings):
        if index in skip:
            continue
        following = meanings[index + 1] if index + 1 < len(meanings) else None
        if _compares_next(meaning, following, state, schema):
            state.last_column = following.element  # "more than 200 homes planned": the number's column follows
            skip.add(index + 1)
        element = meaning.element
        if (
            element
            and mentioned
            and element.kind in ("column", "value", "adjective")
            and element.table not in mentioned
        ):
            cost += 1  # a column or value of a table the question names is the likelier meaning
        if meaning.kind == "element":
            cost += _element(state, meaning, following, schema, used_tables, tokens)
        else:
            _grammar(state, meaning, schema, tokens)
    first = next((m for m in meanings if m.element), None)
    plural = first is not None and first.element.kind == "column" and _plural(first.words.split()[-1])
    if plural and (
        tokens[0] in ("which", "what") or not any(m.element and m.element.kind == "table" for m in meanings)
    ):
        _only_values(state.plan)  # "which warehouses do we have", "which cities do we have projects in"
    _finish(state, schema, used_tables)
    _how_big(state.plan, tokens)
    _of_the_one(state.plan, meanings, tokens)
    cost += state.cost
    plan = state.plan
    for item in plan.filters:
        if item.table not in mentioned and any(map(fans_out, shortest_paths(schema, plan.subject, item.table))):
            raise _Unread(f"'{item.words}' is not about {plan.subject.replace('_', ' ')} themselves")
    for meaning in meanings:
        if meaning.element and meaning.element.kind == "table" and meaning.element.table not in used_tables:
            raise _Unread(f"'{meaning.words}' is not tied to the rest of the question")
    return plan, _shape_of(plan), cost


def _limit_before_table(meanings: list[Meaning]) -> list[Meaning]:
    """ "Which 3 contractors have the most crews": a bare whole number just before a table, with a
    superlative after it, is how many of the top rows are asked for."""
    for index, meaning in enumerate(meanings[:-1]):
        following = meanings[index + 1]
        if not (meaning.kind == "number" and meaning.value[0] == "=" and not meaning.value[3] and not meaning.value[4]):
            continue
        count = meaning.value[1]
        if not (following.element and following.element.kind == "table" and count == int(count) and 0 < count <= 1000):
            continue
        later = [k for k in range(index + 2, len(meanings)) if meanings[k].kind == "super"]
        if len(later) == 1 and meanings[later[0]].value[1] == 1:
            top = meanings[later[0]]
            changed = replace(top, value=(top.value[0], int(count)), words=f"{meaning.words} {top.words}")
            return [*meanings[:index], *meanings[index + 1 : later[0]], changed, *meanings[later[0] + 1 :]]
    return meanings


def _compares_next(meaning: Meaning, following: Meaning | None, state: _State, schema: Schema) -> bool:
    """Whether a comparison with no column before it names its column just after ("over 200 homes")."""
    if meaning.kind != "number" or state.last_column is not None or not following or not following.element:
        return False
    element = following.element
    return element.kind == "column" and is_numeric(schema.table(element.table).column(element.column))


def _element(
    state: _State, meaning: Meaning, following: Meaning | None, schema: Schema, used: set[str], tokens: list[str]
) -> int:
    element, plan = meaning.element, state.plan
    if element.kind == "table":
        state.count_open = False
        if state.superlative and element.table != plan.subject:
            direction, limit = state.superlative
            plan.related, plan.order_related, plan.limit = ("count", element.table, None), direction, limit
            state.superlative = None
            used.add(element.table)
        elif state.group and element.table != plan.subject:
            plan.group, state.group = (element.table, None), False
            used.add(element.table)
        elif state.superlative and element.table == plan.subject and _next_is_measure(following):
            pass  # "the biggest project by budget": the column that follows says by what
        elif state.superlative and not state.dated and _grouping_column(plan, schema):
            # "which province has the most projects": the projects are counted per province
            plan.group = _grouping_column(plan, schema)
            plan.attributes.remove(plan.group)
        elif state.superlative:
            measure = (_date_column if state.dated else _measure_column)(schema, element.table, meaning.words)
            _superlative_on(state, measure, schema, used)
        return 0
    if element.kind == "name":
        op = "<>" if state.negate else "="
        state.negate = False
        if element.table == plan.subject and plan.count and not plan.aggregate and op == "=":
            # "how many rivers does colorado have": a count of rows by their own name is never what is
            # asked (it is 1, or how often a name repeats); the name more likely stands for something
            # the data holds elsewhere, in a column whose values are not all known
            raise _Unread(f"'{element.value}' names {plan.subject.replace('_', ' ')} themselves")
        _add_filter(state, Filter(element.table, element.column, op, (element.value,), f"{element.value}"), used)
        if meaning.weak:
            plan.guesses.append(f"'{meaning.words}' for {element.value}")
        if element.table == plan.subject and not plan.count:
            plan.record = True
        return 0
    if element.kind == "value":
        _value(state, element, used)
        return 0
    if element.kind == "adjective":
        if following and following.element and following.element.kind == "column":
            described = schema.table(following.element.table).column(following.element.column)
            if not (is_numeric(described) or is_date(described)):
                # "the largest capital": the adjective describes the capital, which has no size here
                raise _Unread(f"'{meaning.words} {following.words}' has no measure")
        _superlative_on(state, element, schema, used, direction=element.value * (state.superlative or (1, 1))[0])
        return 0
    return _column(state, meaning, following, schema, used, tokens)


def _next_is_measure(following: Meaning | None) -> bool:
    """A column (or "by" and a column) says what a superlative on a table orders by."""
    if following and following.kind == "group" and following.words == "by":
        return True
    return bool(following and following.element and following.element.kind == "column")


def _value(state: _State, element: Element, used: set[str]) -> None:
    column = element.column
    if isinstance(element.value, bool):  # a yes/no column named by its word ("active", "inactive")
        op = "not true" if state.negate == element.value else "true"
        state.negate = False
        _add_filter(state, Filter(element.table, column, op, (), element.column), used)
        return
    if state.either:
        previous = _last_filter(state)
        if not previous or (previous.table, previous.column) != (element.table, element.column):
            raise _Unread("'or' between things of different kinds")
        _replace_last(
            state,
            replace(
                previous, op="in" if previous.op in ("=", "in") else "not in", values=(*previous.values, element.value)
            ),
        )
        state.either = False
        return
    op = "<>" if state.negate else "="
    state.negate = False
    _add_filter(state, Filter(element.table, column, op, (element.value,), str(element.value)), used)


def _column(
    state: _State, meaning: Meaning, following: Meaning | None, schema: Schema, used: set[str], tokens: list[str]
) -> int:
    element, plan = meaning.element, state.plan
    column = schema.table(element.table).column(element.column)
    if state.versus:
        _versus(state, element, schema, used)
        return 0
    if state.agg:
        if state.agg in ("sum", "avg") and not is_numeric(column):
            raise _Unread(f"{element.column} is not a number to {state.agg}")
        plan.aggregate, state.agg = (state.agg, element.table, element.column), None
        used.add(element.table)
        return 0
    numbered = following is not None and following.kind in ("number", "window", "versus")
    if state.count_open and is_numeric(column) and not plan.aggregate and not numbered:
        plan.aggregate, plan.count, state.count_open = ("sum", element.table, element.column), False, False
        used.add(element.table)  # "how many homes passed": the column counts, so its total is the answer
        return 0
    if state.superlative:
        _superlative_on(state, element, schema, used)
        return 0
    if state.group:
        plan.group, state.group = (element.table, element.column), False
        used.add(element.table)
        return 0
    if (
        following
        and following.element
        and following.element.kind == "value"
        and following.element.column == element.column
    ):
        return 0  # "insurer Discovery": the column word says whose value follows
    if numbered:
        state.last_column = element
        return 0
    if _happened(column, meaning, state, tokens):
        # "how many poles have been erected": the event's date is recorded and not in the future
        if state.negate:
            raise _Unread(f"'not {meaning.words}'")
        window = (None, state.today + datetime.timedelta(days=1))
        _add_filter(state, Filter(element.table, element.column, "window", window, f"{meaning.words} by today"), used)
        return 0
    if plan.order and plan.order[:2] == (element.table, element.column):
        return 0  # "the biggest project by budget"
    if any((f.table, f.column) == (element.table, element.column) for f in plan.filters):
        return 0  # "the projects Johan Botha is managing": the word says whose the name is
    plan.attributes.append((element.table, element.column))
    used.add(element.table)
    return 1


def _versus(state: _State, other: Element, schema: Schema, used: set[str]) -> None:
    """ "Projects over budget": the column compared is the one named before, else the table's only other
    number of the same type (spend, beside budget); both of one table, compared row by row."""
    op, words = state.versus
    state.versus = None
    table = schema.table(other.table)
    against = table.column(other.column)
    if not is_numeric(against):
        raise _Unread(f"'{words} {other.column}' compares with no number")
    if state.last_column and state.last_column.table == other.table:
        compared, state.last_column = state.last_column.column, None
    else:
        alike = [
            c.name
            for c in table.columns
            if c.name != other.column and not is_key(table, c) and c.type.split("(")[0] == against.type.split("(")[0]
        ]
        if len(alike) != 1:
            raise _Unread(f"'{words} {other.column.replace('_', ' ')}' does not say what is compared with it")
        compared = alike[0]
    if state.negate:
        op, state.negate = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}[op], False
    words = f"{compared.replace('_', ' ')} {op} {other.column.replace('_', ' ')}"
    _add_filter(state, Filter(other.table, compared, "column " + op, (other.column,), words), used)


PLANNED_WORDS = frozenset(stem(word) for word in ("scheduled", "planned", "expected", "due", "forecast", "target"))


def _happened(column, meaning: Meaning, state: _State, tokens: list[str]) -> bool:
    """Whether a date column named by a past participle ("erected", "delivered") says that the event
    happened, rather than asking for its date ("when was it delivered", "delivery date"). Where the
    word is also a stored value ("delivered" status) both readings stand, and differ only if the rows do."""
    said = meaning.words.split()
    if not is_date(column) or not said or not said[0].endswith("ed") or state.superlative or state.group or state.agg:
        return False
    if PLANNED_WORDS & {stem(part) for part in column.name.split("_")}:
        return False  # "scheduled for", "expected on": the date of a plan, which is no event that happened
    return tokens[0] != "when" and "date" not in tokens and "dates" not in tokens


def _superlative_on(state: _State, element: Element, schema: Schema, used: set[str], direction: int | None = None):
    plan = state.plan
    column = schema.table(element.table).column(element.column)
    if not (is_numeric(column) or is_date(column)) or (state.dated and not is_date(column)):
        raise _Unread(f"{element.column} has no order of {'time' if state.dated else 'size'}")
    state.dated = False
    sign, limit = state.superlative or (1, 1)
    direction = direction if direction is not None else sign
    state.superlative = None
    used.add(element.table)
    if element.table == plan.subject:
        if plan.group or plan.related:
            raise _Unread("a superlative on top of a grouping")
        plan.order, plan.limit = (element.table, element.column, direction), limit
        return
    own = tuple(f for f in plan.filters if f.table == element.table)
    plan.filters = [f for f in plan.filters if f.table != element.table]
    plan.nested.append(Nested(element.table, element.column, direction, limit, own))


def _grouping_column(plan: Plan, schema: Schema) -> tuple[str, str] | None:
    """The one field asked for before a superlative on the subject's rows ("which province ... the
    most projects"): a text column of the subject, which the rows can be counted by."""
    if plan.group or plan.related or plan.count or plan.aggregate or len(plan.attributes) != 1:
        return None
    table, column = plan.attributes[0]
    if table != plan.subject:
        return None
    kind = schema.table(table).column(column)
    return None if is_numeric(kind) or is_date(kind) else (table, column)


def _date_column(schema: Schema, table_name: str, words: str) -> Element:
    """The one date a superlative of time on a whole table can mean ("the latest PO")."""
    dates = [c for c in schema.table(table_name).columns if is_date(c)]
    if len(dates) != 1:
        raise _Unread(f"'{words}' does not say by which date")
    return Element("column", table_name, dates[0].name)


def _name_columns(schema: Schema, table_name: str) -> set[str]:
    """The columns that name the table's own rows: "name", "<table>_name", or its only name column
    ("state_name" names a city's state, not the city)."""
    table = schema.table(table_name)
    names = [column.name for column in table.columns if column.is_name]
    singular = table.name.lower().removesuffix("s")
    own = [n for n in names if n == "name" or n.split("_")[0] in (table.name.lower(), singular)]
    return set(own or (names if len(names) == 1 else []))


def _measure_column(schema: Schema, table_name: str, words: str) -> Element:
    """The one measure a superlative on a whole table can mean ("the biggest POs"): its only
    non-key number. Several: the question must say which."""
    table = schema.table(table_name)
    numbers = [c for c in table.columns if is_numeric(c) and not is_key(table, c)]
    pool = numbers if len(numbers) == 1 else [c for c in numbers if _is_money(c.type)]
    if len(pool) != 1:
        raise _Unread(f"'{words}' does not say by which measure")
    return Element("column", table_name, pool[0].name)


def _is_money(type_name: str) -> bool:
    """Money is kept in cents: numeric(p,2) or money (a rating's numeric(2,1) is no amount)."""
    return type_name == "money" or bool(re.fullmatch(r"numeric\(\d+,\s*2\)", type_name))


def _add_filter(state: _State, item: Filter, used: set[str]) -> None:
    plan = state.plan
    for other in (*plan.filters, *plan.related_filters):
        if (other.table, other.column, other.op, item.op) == (
            item.table,
            item.column,
            "=",
            "=",
        ) and other.values != item.values:
            raise _Unread(f"'{other.words}' and '{item.words}' cannot both be its {item.column.replace('_', ' ')}")
    used.add(item.table)
    if plan.related and item.table != plan.subject:
        plan.related_filters.append(item)
    elif plan.nested and item.table == plan.nested[-1].table and item.table != plan.subject:
        last = plan.nested[-1]
        plan.nested[-1] = replace(last, filters=(*last.filters, item))
    else:
        plan.filters.append(item)


def _last_filter(state: _State) -> Filter | None:
    plan = state.plan
    pool = plan.related_filters if plan.related and plan.related_filters else plan.filters
    return pool[-1] if pool else None


def _replace_last(state: _State, item: Filter) -> None:
    plan = state.plan
    pool = plan.related_filters if plan.related and plan.related_filters else plan.filters
    pool[-1] = item


def _grammar(state: _State, meaning: Meaning, schema: Schema, tokens: list[str]) -> None:
    plan = state.plan
    if meaning.kind == "count":
        plan.count = not meaning.value
        state.count_open, state.how_much = True, bool(meaning.value)
    elif meaning.kind == "agg":
        state.agg = meaning.value
    elif meaning.kind == "super":
        state.superlative, state.dated = meaning.value, meaning.dated
    elif meaning.kind == "not":
        state.negate = True
    elif meaning.kind == "group":
        state.group = not (state.superlative and meaning.words == "by")  # "top 2 doctors by rating" orders
    elif meaning.kind == "or":
        state.either = True
    elif meaning.kind == "number":
        _number(state, meaning, schema)
    elif meaning.kind == "window":
        _window(state, meaning, schema, tokens)
    elif meaning.kind == "versus":
        state.versus = (meaning.value, meaning.words)


def _number(state: _State, meaning: Meaning, schema: Schema) -> None:
    op, low, high, currency, unit = meaning.value
    target = state.last_column
    state.last_column = None
    if target is None:
        target = _measure_for_number(schema, state.plan.subject, currency, meaning.words, unit)
    column = schema.table(target.table).column(target.column)
    if not is_numeric(column):
        raise _Unread(f"{target.column} is not a number to compare with {meaning.words}")
    if state.negate:
        op = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "=": "<>", "between": "not between"}[op]
        state.negate = False
    words = f"{target.column} {meaning.words}"
    if op == "between":
        _add_filter(state, Filter(target.table, target.column, ">=", (low,), words), set())
        _add_filter(state, Filter(target.table, target.column, "<=", (high,), words), set())
    elif op == "not between":
        raise _Unread("'not between'")
    else:
        _add_filter(state, Filter(target.table, target.column, op, (low,), words), set())


def _measure_for_number(schema: Schema, table_name: str, currency: bool, words: str, unit: str | None) -> Element:
    """The one number a comparison with no column named can compare: the table's only measure, its
    only amount of money for a sum in rand, its only column named in the number's unit ("80 m")."""
    table = schema.table(table_name)
    numbers = [c for c in table.columns if is_numeric(c) and not is_key(table, c)]
    if currency:  # its money column; a table with one number and no money type: that number ("value numeric")
        numbers = [c for c in numbers if _is_money(c.type)] or (numbers if len(numbers) == 1 else [])
    if unit:
        numbers = [c for c in numbers if c.name.lower().rsplit("_", 1)[-1] in UNITS[unit]]
    if len(numbers) != 1:
        raise _Unread(f"'{words}' does not say which number it compares")
    return Element("column", table_name, numbers[0].name)


def _window(state: _State, meaning: Meaning, schema: Schema, tokens: list[str]) -> None:
    window = meaning.value
    target = state.last_column
    state.last_column = None
    if target is None:
        table = schema.table(state.plan.subject)
        dates = [c for c in table.columns if is_date(c)]
        if len(dates) > 1:
            hinted = {stem(t) for t in tokens}
            dates = [c for c in dates if any(stem(part) in hinted for part in c.name.split("_"))] or dates
        if len(dates) != 1:
            raise _Unread(f"'{meaning.words}' does not say which date")
        target = Element("column", table.name, dates[0].name)
        parts = {stem(part) for part in dates[0].name.split("_")}
        if parts & {stem(w) for f in state.plan.filters if f.op in ("=", "<>") for w in str(f.words).split()}:
            state.cost += 1  # "connected this month": the word that names the date was read as a value
    column = schema.table(target.table).column(target.column)
    if not is_date(column):
        raise _Unread(f"{target.column} is not a date")
    values = (window.start, window.end)
    if state.negate:
        raise _Unread(f"'not {meaning.words}'")
    _add_filter(state, Filter(target.table, target.column, "window", values, f"{target.column} {window.words}"), set())


def _finish(state: _State, schema: Schema, used: set[str]) -> None:
    plan = state.plan
    if state.negate:
        raise _Unread("'not' with nothing after it to deny")
    if state.agg:
        table = schema.table(plan.subject)
        numbers = [c for c in table.columns if is_numeric(c) and not is_key(table, c)]
        if state.agg == "sum" and plan.count is False and len(numbers) == 1:
            plan.aggregate = ("sum", plan.subject, numbers[0].name)
        else:
            raise _Unread(f"'{state.agg}' of what")
    if state.superlative:
        if plan.group and not plan.order:
            plan.order, plan.limit = (plan.subject, "", state.superlative[0]), state.superlative[1]
        else:
            raise _Unread("a superlative with nothing to order by")
    if state.group:
        raise _Unread("'per' with nothing to group by")
    if state.last_column:
        raise _Unread(f"{state.last_column.column} compared with nothing")
    if state.versus:
        raise _Unread(f"'{state.versus[1]}' compared with nothing")
    if state.how_much and not plan.aggregate:
        raise _Unread("'how much' of what")
    if plan.group and not (plan.count or plan.aggregate):
        plan.count = True
    if plan.group and plan.group[1] is None:
        _group_as_related(plan)
    if plan.related:
        plan.related_filters += [f for f in plan.filters if f.table != plan.subject]
        plan.filters = [f for f in plan.filters if f.table == plan.subject]
    if plan.related and plan.group:
        raise _Unread("two groupings")
    if plan.yes_no and (plan.aggregate or plan.group or plan.related or plan.attributes or plan.order):
        raise _Unread("a yes/no question about a total")
    if plan.order and any(
        f.table == plan.subject and f.op == "=" and f.column in _name_columns(schema, f.table) for f in plan.filters
    ):
        raise _Unread("a superlative over one row named already")  # "the most populated area of new mexico"
    if plan.aggregate and plan.attributes:
        raise _Unread("a total beside a field")
    if plan.aggregate and (plan.order or plan.nested and plan.aggregate[1] == plan.subject and not plan.filters):
        raise _Unread("a total and a superlative at once")
    if plan.count and plan.attributes and not plan.distinct:
        raise _Unread("a count beside a field")


def _plural(word: str) -> bool:
    return word.endswith("s") and not word.endswith(("ss", "us", "is"))


def _only_values(plan: Plan) -> None:
    """ "Which warehouses do we have?", "how many provinces": a question that names a column and no
    table asks for the column's different values (or how many there are), not for every row."""
    if len(plan.attributes) != 1 or plan.attributes[0][0] != plan.subject:
        return
    if plan.group or plan.related or plan.order or plan.aggregate or plan.record or plan.yes_no or plan.nested:
        return
    plan.distinct = True


def _how_big(plan: Plan, tokens: list[str]) -> None:
    """ "How tall is our tallest pole?": "how <word>" asks for the measure itself, so the top row's
    number is the answer (its maximum or minimum), not the row."""
    if tokens[:1] != ["how"] or tokens[1:2] in (["many"], ["much"]) or not plan.order or plan.limit != 1:
        return
    if plan.group or plan.related or plan.nested or plan.count or plan.aggregate or not plan.order[1]:
        return
    table, column, direction = plan.order
    if any(attribute != (table, column) for attribute in plan.attributes):
        return
    plan.aggregate = ("max" if direction > 0 else "min", table, column)
    plan.order, plan.limit, plan.attributes = None, None, []


def _of_the_one(plan: Plan, meanings: list[Meaning], tokens: list[str]) -> None:
    """ "How much have we spent on the Polokwane project?": a total over the one row the question
    speaks of is that row's own figure, so the answer names the row (and two rows are ambiguous)."""
    if not plan.aggregate or plan.aggregate[0] not in ("sum", "avg") or plan.aggregate[1] != plan.subject:
        return  # a maximum is "the longest river"'s length: a superlative, not the one row's own figure
    if plan.group or plan.related or not plan.filters:
        return
    if not _speaks_of_one([[m] for m in meanings], plan.subject, tokens):
        return
    plan.attributes, plan.record = [(plan.subject, plan.aggregate[2])], True
    plan.aggregate, plan.count = None, False


def _group_as_related(plan: Plan) -> None:
    """ "How many sites per project": one row per project with its count of sites, zeros too, so the
    grouped table becomes the subject and the counted one a correlated count."""
    table = plan.group[0]
    if plan.aggregate and plan.aggregate[1] != plan.subject:
        raise _Unread("a total of another table per group")
    func, column = (plan.aggregate[0], plan.aggregate[2]) if plan.aggregate else ("count", None)
    counted = plan.subject
    plan.subject, plan.related, plan.group, plan.aggregate, plan.count = (
        table,
        (func, counted, column),
        None,
        None,
        False,
    )
    if plan.order:
        plan.order_related, plan.order = plan.order[2], None
    plan.related_filters = [f for f in plan.filters if f.table != table]
    plan.filters = [f for f in plan.filters if f.table == table]


def _shape_of(plan: Plan) -> str:
    if plan.yes_no:
        return "yes_no"
    if plan.group or plan.related:
        return "list"
    if plan.count and not plan.aggregate:
        return "count"
    if plan.aggregate:
        return "aggregate"
    if plan.record:
        return "value" if plan.attributes else "record"
    if plan.distinct:
        return "values"
    return "list"
