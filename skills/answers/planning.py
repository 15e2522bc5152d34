"""A combination of word meanings walked into one plan of a query (`plan`), or why it is none.

The interpreter (interpreter.py) tries every combination of what the question's words may mean;
for each, `plan` walks the meanings in order with a small state (a pending "how many", superlative,
"per", "not", "or", comparison...) and builds a `query.Plan`: its subject table, filters, grouping,
order, totals. The rules that read the whole plan come after the walk (finishing.py). A combination
that cannot be one coherent question raises `query.Unread` with the reason in words; the
interpreter collects them for its refusal.
"""

from __future__ import annotations

import datetime
import itertools
import re
from dataclasses import replace

from skills.answers.finishing import State, shape_of, whole_plan
from skills.answers.model import Schema
from skills.answers.query import Filter, Nested, Plan, Unread, fans_out, shortest_paths
from skills.answers.scanning import Meaning
from skills.answers.vocabulary import ROLE, TOTAL, Element, agent_verb, flag_measure, is_date, is_key, is_numeric
from skills.answers.words import EVERY_WORDS, UNITS, stem

__all__ = ["plan"]


def _subject(meanings: list[Meaning], modifiers: set[int], asked_which: bool = False) -> str:
    """The table the answer is about: the first one named (not one before another that it only
    qualifies, "doctor appointments"), unless it is what a count is grouped
    by ("total fee per doctor" is about the fees); else the first named row's, column's or value's.
    "Which supplier has the most RFQs": a kind of row asked for first, with no table after it, is the subject."""
    grouped = {i + 1 for i, m in enumerate(meanings) if m.kind == "group"}
    first = meanings[0] if meanings else None
    if (
        asked_which
        and first.element
        and first.element.kind == "value"
        and not isinstance(first.element.value, (bool, tuple))
        and not (len(meanings) > 1 and _table(meanings[1]))
    ):
        return first.element.table  # "which supplier has the most RFQs": the rows of that kind are asked for
    for kind in ("table", "name", "column", "value", "adjective"):
        for index, meaning in enumerate(meanings):
            if (
                meaning.element
                and meaning.element.kind == kind
                and not (kind == "table" and index in grouped | modifiers)
            ):
                return meaning.element.table
    raise Unread("nothing to ask about")


def _modifiers(meanings: list[Meaning], tokens: list[str]) -> set[int]:
    """ "installation contractors", "doctor appointments": of two tables named together the last is the
    head, the first only says whose; the indexes of those first ones."""
    text = f" {' '.join(tokens)} "
    return {
        i
        for i, (m, head) in enumerate(itertools.pairwise(meanings))
        if _table(m) and _table(head) not in (None, _table(m)) and f" {m.words} {head.words} " in text
    }


def _table(meaning: Meaning) -> str | None:
    return meaning.element.table if meaning.element and meaning.element.kind == "table" else None


def plan(
    meanings: list[Meaning], schema: Schema, yes_no: bool, tokens: list[str], today: datetime.date
) -> tuple[Plan, str, int]:
    modifiers = _modifiers(meanings, tokens)
    subject = _subject(meanings, modifiers, tokens[0] in ("which", "what"))
    mentioned = {m.element.table for m in meanings if m.element and m.element.kind in ("table", "name")}
    mentioned |= {  # "which suppliers supply ONTs": the verb speaks of the materials too
        m.element.value.removeprefix(ROLE)
        for m in meanings
        if m.element and m.element.kind == "table" and str(m.element.value).startswith(ROLE)
    }
    naming = frozenset(stem(w) for m in meanings if _table(m) for w in m.words.split())
    state = State(
        Plan(subject, yes_no=yes_no, every=bool(EVERY_WORDS.intersection(tokens))), today=today, naming=naming
    )
    used_tables: set[str] = {subject}
    for index in modifiers:  # "doctor appointments": every appointment has its doctor
        paths = shortest_paths(schema, subject, meanings[index].element.table)
        if paths and not any(map(fans_out, paths)):
            used_tables.add(meanings[index].element.table)
    cost = sum(1 for m in meanings if m.weak)
    named = [m.element.table for m in meanings if m.element and m.element.kind == "table"]
    cost += len(named) - len(set(named))  # a table said twice is likelier a value spelt like its synonym
    meanings = _limit_before_table(meanings)
    skip = set()
    for index, meaning in enumerate(meanings):
        if index in skip:
            state.held.append(len(state.plan.filters))
            continue
        following = meanings[index + 1] if index + 1 < len(meanings) else None
        if _describes_next(meaning, following, state):
            raise Unread(f"'{meaning.words} {following.words}': a number that says what kind, not how many")
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
        if _and_of_one_field(meanings, index, tokens):
            state.either = True  # "in the Western Cape and KZN": a row holds one, so either
        if meaning.kind == "element":
            cost += _element(state, meaning, following, schema, used_tables, tokens)
        else:
            _grammar(state, meaning, schema, tokens)
        state.held.append(len(state.plan.filters))
    whole_plan(state, meanings, schema, used_tables, tokens)
    cost += state.cost
    plan = state.plan
    for item in plan.filters:
        if item.table not in mentioned and any(map(fans_out, shortest_paths(schema, plan.subject, item.table))):
            raise Unread(f"'{item.words}' is not about {plan.subject.replace('_', ' ')} themselves")
        if item.lexicon_condition and item.table not in mentioned | {plan.subject}:
            # "trench sites running late": a lexicon condition is said of its own rows (the projects)
            raise Unread(
                f"'{item.words}' is said of {item.table.replace('_', ' ')}, not of {plan.subject.replace('_', ' ')}"
            )
        if any(_leaves_out(item, element) for element in plan.included):
            raise Unread(f"'{item.words}' leaves out what the question says is included")
        if _only_the_doers(item, plan, mentioned):
            raise Unread(f"'{item.words}' says where the {item.table.replace('_', ' ')} are, not the {plan.subject}")
    for element in plan.included:
        if element.table != plan.subject and all(item.table != element.table for item in plan.filters):
            raise Unread(f"'{element.value}' is said of {element.table.replace('_', ' ')}, not asked about")
    for meaning in meanings:
        if meaning.element and meaning.element.kind == "table" and meaning.element.table not in used_tables:
            raise Unread(f"'{meaning.words}' is not tied to the rest of the question")
        if _doer_of_a_table(meaning, named):
            raise Unread(f"'{meaning.words}': who has that specialty, or who did those {meaning.words[:-2]}s")
    return plan, shape_of(plan), cost


def _leaves_out(item: Filter, included: Element) -> bool:
    """Whether a filter leaves out the rows holding a value the question says are included."""
    if (item.table, item.column) != (included.table, included.column):
        return False
    if item.op in ("=", "in"):
        return included.value not in item.values
    return item.op in ("<>", "not in") and included.value in item.values


def _doer_of_a_table(meaning: Meaning, named: list[str]) -> bool:
    """ "Which installer has the most failed installations": the doer of a stored value ("installer",
    the rows whose specialty is installation) beside a table of what is done ("installations") has a
    second reading, whoever did those rows, and the two differ."""
    element = meaning.element
    if not element or element.kind != "value" or not isinstance(element.value, str):
        return False
    said = stem(meaning.words.split()[-1])
    if not said.endswith("er") or stem(element.value.split("_")[-1].lower()) == said:
        return False
    done = said[:-2]
    return len(done) >= 4 and any(stem(table).startswith(done) for table in named)


def _and_of_one_field(meanings: list[Meaning], index: int, tokens: list[str]) -> bool:
    """Whether this stored value follows another of the same field with "and" between ("splicing
    subcontractors in the Western Cape and KZN"): a row holds one value, so the rows of either are asked."""
    if index == 0:
        return False
    before, this = meanings[index - 1].element, meanings[index].element
    if not (before and this and before.kind == this.kind == "value") or (before.table, before.column) != (
        this.table,
        this.column,
    ):
        return False
    if isinstance(this.value, (bool, tuple)) or before.value == this.value:
        return False
    text = f" {' '.join(tokens)} "
    return any(
        f" {meanings[index - 1].words} {joint} {meanings[index].words} " in text
        for joint in ("and", "and the", ", and")
    )


def _only_the_doers(item: Filter, plan: Plan, mentioned: set[str]) -> bool:
    """ "Installations in Tembisa", "POs for Tembisa": a stored value alone, of a table of doers the
    question does not name (contractors, suppliers: a table named by an agent noun), is where those
    doers are based, not where the rows asked about are. Said with the doers ("by subcontractors in
    Tembisa", "from Tembisa suppliers") it is theirs."""
    if item.table == plan.subject or item.table in mentioned or item.op not in ("=", "<>", "in", "not in"):
        return False
    if not agent_verb(stem(item.table.lower())):
        return False
    return sum(1 for other in plan.filters if other.table == item.table) == 1


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


def _describes_next(meaning: Meaning, following: Meaning | None, state: State) -> bool:
    """ "How many 9m poles are in stock", "24-core cable": a bare number (no "over", "at least") just
    before a thing is part of what kind of thing it is, not a measure equal to it."""
    if meaning.kind != "number" or meaning.value[0] != "=" or state.last_column is not None:
        return False
    return bool(following and following.element and following.element.kind in ("table", "value", "name"))


def _compares_next(meaning: Meaning, following: Meaning | None, state: State, schema: Schema) -> bool:
    """Whether a comparison with no column before it names its column just after ("over 200 homes")."""
    if meaning.kind != "number" or state.last_column is not None or not following or not following.element:
        return False
    element = following.element
    return element.kind == "column" and is_numeric(schema.table(element.table).column(element.column))


def _element(
    state: State, meaning: Meaning, following: Meaning | None, schema: Schema, used: set[str], tokens: list[str]
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
        elif state.superlative and element.table == plan.subject and _next_is_measure(following, state, schema):
            pass  # "the biggest project by budget": the column that follows says by what
        elif state.superlative and not state.dated and _grouping_column(plan, schema):
            # "which province has the most projects": the projects are counted per province
            plan.group = _grouping_column(plan, schema)
            plan.attributes.remove(plan.group)
        elif state.superlative and state.counting and meaning.words.endswith("s"):
            # "who has been awarded the most RFQs": counted per someone the question does not name
            raise Unread(f"'most {meaning.words}' counts them per something not named")
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
            raise Unread(f"'{element.value}' names {plan.subject.replace('_', ' ')} themselves")
        _add_filter(state, Filter(element.table, element.column, op, (element.value,), f"{element.value}"), used)
        if meaning.weak:
            said = meaning.words.split()
            if tokens[0] in ("which", "what") and said and said[-1].endswith("s") and not said[-1].endswith("ss"):
                # "Which aerial crews do we have?": asked which ones, in the plural; that part of one
                # company's name ("Lowveld Aerial Crews") is the same words is no answer to it
                raise Unread(f"'{meaning.words}' asks which ones, not for the one named {element.value}")
            plan.guesses.append(f"'{meaning.words}' for {element.value}")
        if element.table == plan.subject and not plan.count:
            plan.record = True
        return 0
    if element.kind == "value":
        _value(state, element, schema, used)
        return 0
    if element.kind == "adjective":
        if following and following.element and following.element.kind == "column":
            described = schema.table(following.element.table).column(following.element.column)
            if not (is_numeric(described) or is_date(described)):
                # "the largest capital": the adjective describes the capital, which has no size here
                raise Unread(f"'{meaning.words} {following.words}' has no measure")
        _superlative_on(state, element, schema, used, direction=element.value * (state.superlative or (1, 1))[0])
        return 0
    return _column(state, meaning, following, schema, used, tokens)


def _next_is_measure(following: Meaning | None, state: State, schema: Schema) -> bool:
    """A column (or "by" and a column) says what a superlative on a table orders by: a number for
    a size ("the biggest RFQs issued this year" orders by value, not by the date after it), a date
    for a time ("the latest")."""
    if following and following.kind == "group" and following.words == "by":
        return True
    if not (following and following.element and following.element.kind == "column"):
        return False
    column = schema.table(following.element.table).column(following.element.column)
    return is_date(column) if state.dated else not is_date(column)


def _value(state: State, element: Element, schema: Schema, used: set[str]) -> None:
    column = element.column
    if isinstance(element.value, bool) and state.superlative and flag_measure(schema, element.table, element.column):
        # "the longest delay": a flag has no size, the number of the same word measures it (delay_days)
        _superlative_on(state, flag_measure(schema, element.table, element.column), schema, used)
        return
    if isinstance(element.value, tuple):  # a lexicon condition: "running late" is forecast_end > planned_end
        op, other, summed = element.value
        if summed:  # "below reorder level": the child rows' total, compared with the row's column
            words = f"total {column.replace('_', ' ')} of {summed.replace('_', ' ')} {op} {other.replace('_', ' ')}"
            item = Filter(element.table, other, "sum " + op, (summed, column), words)
        else:
            words = f"{column.replace('_', ' ')} {op} {other.replace('_', ' ')}"
            item = Filter(element.table, column, "column " + op, (other,), words)
        if state.negate:  # "not running late": the rows where it does not hold, no dates to compare too
            item, state.negate = replace(item, op="not " + item.op, words="not " + item.words), False
        _add_filter(state, item, used)
        return
    if isinstance(element.value, bool):  # a yes/no column named by its word ("active", "inactive")
        op = "not true" if state.negate == element.value else "true"
        state.negate = False
        _add_filter(state, Filter(element.table, column, op, (), element.column), used)
        return
    if state.either:
        previous = _last_filter(state)
        if not previous or (previous.table, previous.column) != (element.table, element.column):
            raise Unread("'or' between things of different kinds")
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
    state: State, meaning: Meaning, following: Meaning | None, schema: Schema, used: set[str], tokens: list[str]
) -> int:
    element, plan = meaning.element, state.plan
    column = schema.table(element.table).column(element.column)
    if state.versus and state.average:
        _above_average(state, element, schema)
        return 0
    if state.versus:
        _versus(state, element, schema, used)
        return 0
    if (
        following
        and following.element
        and (following.element.table, following.element.column)
        == (
            element.table,
            element.column,
        )
    ):
        return 0  # "B-BBEE level 1": two words of one column, read once (the second takes what follows)
    adjacent = following and f" {meaning.words} {following.words} " in f" {' '.join(tokens)} "
    said_of = following.element if adjacent else None
    if element.value == TOTAL and said_of and said_of.table == element.table and said_of.kind in ("value", "table"):
        return 0  # "how many stock issues": the word says which rows ("stock" movements), not their total
    if element.value == TOTAL and state.agg in (None, "sum"):
        if tokens[0] in ("what", "which") and tokens[1:2] in (["do"], ["does"], ["did"], ["have"]):
            # "what do we have in stock at Polokwane Yard": asks which things, not their total
            raise Unread(f"'{tokens[0]} {tokens[1]} ... {meaning.words}' asks which things, not a total")
        state.agg = "sum"  # "how much stock", "stock of SC/APC connectors": the word is the total
        if state.count_open:  # "how many connectors are in stock": the total is the number asked
            plan.count, state.count_open = False, False
    if state.agg:
        if state.agg in ("sum", "avg") and not is_numeric(column):
            raise Unread(f"{element.column} is not a number to {state.agg}")
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
        window = (None, state.today + datetime.timedelta(days=1))
        op, words = (
            ("not window", f"not {meaning.words} by today") if state.negate else ("window", f"{meaning.words} by today")
        )
        state.negate = False  # "POs not delivered yet": no date, or one still to come
        _add_filter(state, Filter(element.table, element.column, op, window, words), used)
        return 0
    if _planned_in_the_past(column, meaning, tokens):
        raise Unread(f"'did ... {meaning.words}' asks what happened, not the {element.column.replace('_', ' ')}")
    if plan.order and plan.order[:2] == (element.table, element.column):
        return 0  # "the biggest project by budget"
    if any((f.table, f.column) == (element.table, element.column) for f in plan.filters):
        return 0  # "the projects Johan Botha is managing": the word says whose the name is
    plan.attributes.append((element.table, element.column))
    used.add(element.table)
    return 1


def _above_average(state: State, element: Element, schema: Schema) -> None:
    """ "Which subcontractors are rated above the average subcontractor?": the column against its own
    average, over the rows the question speaks of or over all of them (query.py writes both where the
    question has other conditions on that table, and they are compared)."""
    op, words = state.versus
    state.versus, state.average, state.last_column = None, False, None
    if not is_numeric(schema.table(element.table).column(element.column)):
        raise Unread(f"'{words} average' of {element.column.replace('_', ' ')}, which is no number")
    if state.negate:
        op, state.negate = FLIPPED[op], False
    name = element.column.replace("_", " ")
    _add_filter(state, Filter(element.table, element.column, "average " + op, (), f"{name} {op} the average"), set())


def _versus(state: State, other: Element, schema: Schema, used: set[str]) -> None:
    """ "Projects over budget": the column compared is the one named before, else the table's only other
    number of the same type (spend, beside budget); both of one table, compared row by row."""
    op, words = state.versus
    state.versus = None
    table = schema.table(other.table)
    against = table.column(other.column)
    if not is_numeric(against):
        raise Unread(f"'{words} {other.column}' compares with no number")
    if state.last_column and state.last_column.table == other.table:
        compared, state.last_column = state.last_column.column, None
    else:
        alike = [
            c.name
            for c in table.columns
            if c.name != other.column and not is_key(table, c) and c.type.split("(")[0] == against.type.split("(")[0]
        ]
        if len(alike) != 1:
            raise Unread(f"'{words} {other.column.replace('_', ' ')}' does not say what is compared with it")
        compared = alike[0]
    if state.negate:
        op, state.negate = FLIPPED[op], False
    words = f"{compared.replace('_', ' ')} {op} {other.column.replace('_', ' ')}"
    _add_filter(state, Filter(other.table, compared, "column " + op, (other.column,), words), used)


FLIPPED = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}  # "not over budget": spend <= budget

COUNTING_SUPERLATIVES = frozenset({"most", "fewest", "least"})  # of a table's rows: how many, not how big

PLANNED_WORDS = frozenset(stem(word) for word in ("scheduled", "planned", "expected", "due", "forecast", "target"))


def _happened(column, meaning: Meaning, state: State, tokens: list[str]) -> bool:
    """Whether a date column named by a past participle ("erected", "delivered") says that the event
    happened, rather than asking for its date ("when was it delivered", "delivery date"). Where the
    word is also a stored value ("delivered" status) both readings stand, and differ only if the rows do."""
    said = meaning.words.split()
    if not is_date(column) or not said or not said[0].endswith("ed") or state.superlative or state.group or state.agg:
        return False
    if _plan_words(column):
        return False  # "scheduled for", "expected on": the date of a plan, which is no event that happened
    return tokens[0] != "when" and "date" not in tokens and "dates" not in tokens


def _planned_in_the_past(column, meaning: Meaning, tokens: list[str]) -> bool:
    """ "When did the project finish?": asked in the past tense, a date is what happened; a column of a
    plan ("planned_end", "forecast_end") is not it unless its plan word is said."""
    if not is_date(column) or "did" not in tokens:
        return False
    planned = _plan_words(column)
    return bool(planned) and not planned & {stem(word) for word in tokens}


def _plan_words(column) -> set[str]:
    """The words of a column's name that make it the date of a plan ("planned_end": {"plan"})."""
    return PLANNED_WORDS & {stem(part) for part in column.name.split("_")}


def _superlative_on(state: State, element: Element, schema: Schema, used: set[str], direction: int | None = None):
    plan = state.plan
    column = schema.table(element.table).column(element.column)
    if not (is_numeric(column) or is_date(column)) or (state.dated and not is_date(column)):
        raise Unread(f"{element.column} has no order of {'time' if state.dated else 'size'}")
    state.dated = False
    sign, limit = state.superlative or (1, 1)
    direction = direction if direction is not None else sign
    state.superlative = None
    used.add(element.table)
    if element.table == plan.subject:
        if plan.group or plan.related:
            raise Unread("a superlative on top of a grouping")
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
        raise Unread(f"'{words}' does not say by which date")
    return Element("column", table_name, dates[0].name)


def _measure_column(schema: Schema, table_name: str, words: str) -> Element:
    """The one measure a superlative on a whole table can mean ("the biggest POs"): its only
    non-key number. Several: the question must say which."""
    table = schema.table(table_name)
    numbers = [c for c in table.columns if is_numeric(c) and not is_key(table, c)]
    pool = numbers if len(numbers) == 1 else [c for c in numbers if _is_money(c.type)]
    if len(pool) != 1:
        raise Unread(f"'{words}' does not say by which measure")
    return Element("column", table_name, pool[0].name)


def _is_money(type_name: str) -> bool:
    """Money is kept in cents: numeric(p,2) or money (a rating's numeric(2,1) is no amount)."""
    return type_name == "money" or bool(re.fullmatch(r"numeric\(\d+,\s*2\)", type_name))


def _add_filter(state: State, item: Filter, used: set[str]) -> None:
    plan = state.plan
    for other in (*plan.filters, *plan.related_filters):
        if (other.table, other.column, other.op, item.op) == (
            item.table,
            item.column,
            "=",
            "=",
        ) and other.values != item.values:
            raise Unread(f"'{other.words}' and '{item.words}' cannot both be its {item.column.replace('_', ' ')}")
    used.add(item.table)
    if item in (*plan.filters, *plan.related_filters):
        last = plan.filters[-1] if plan.filters else None
        if last and last.op.startswith("average ") and last.table == item.table and "those" not in last.op:
            # "subcontractors rated above the average subcontractor": the average of those rows
            plan.filters[-1] = replace(last, op="average those " + last.op.split()[-1], words=last.words + " of those")
        return  # "suppliers that supply poles": said twice, asked once
    if plan.related and item.table != plan.subject:
        plan.related_filters.append(item)
    elif plan.nested and item.table == plan.nested[-1].table and item.table != plan.subject:
        last = plan.nested[-1]
        plan.nested[-1] = replace(last, filters=(*last.filters, item))
    else:
        plan.filters.append(item)


def _last_filter(state: State) -> Filter | None:
    plan = state.plan
    pool = plan.related_filters if plan.related and plan.related_filters else plan.filters
    return pool[-1] if pool else None


def _replace_last(state: State, item: Filter) -> None:
    plan = state.plan
    pool = plan.related_filters if plan.related and plan.related_filters else plan.filters
    pool[-1] = item


def _grammar(state: State, meaning: Meaning, schema: Schema, tokens: list[str]) -> None:
    plan = state.plan
    if meaning.kind == "count":
        plan.count = not meaning.value
        state.count_open, state.how_much = True, bool(meaning.value)
    elif meaning.kind == "agg" and meaning.value == "avg" and state.versus:
        # "rated above the average", "a budget above average": compared with the column's own average
        if state.last_column:
            _above_average(state, state.last_column, schema)
        else:
            state.average = True
    elif meaning.kind == "agg":
        state.agg = meaning.value
    elif meaning.kind == "super":
        state.superlative, state.dated = meaning.value, meaning.dated
        state.counting = meaning.words in COUNTING_SUPERLATIVES
    elif meaning.kind == "include":
        plan.included.append(meaning.element)
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


def _number(state: State, meaning: Meaning, schema: Schema) -> None:
    op, low, high, currency, unit = meaning.value
    target = state.last_column
    state.last_column = None
    if target is None:
        target = _measure_for_number(schema, state.plan.subject, currency, meaning.words, unit)
    column = schema.table(target.table).column(target.column)
    if not is_numeric(column):
        raise Unread(f"{target.column} is not a number to compare with {meaning.words}")
    if state.negate:
        op = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "=": "<>", "between": "not between"}[op]
        state.negate = False
    words = f"{target.column} {meaning.words}"
    if op == "between":
        _add_filter(state, Filter(target.table, target.column, ">=", (low,), words), set())
        _add_filter(state, Filter(target.table, target.column, "<=", (high,), words), set())
    elif op == "not between":
        raise Unread("'not between'")
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
        raise Unread(f"'{words}' does not say which number it compares")
    return Element("column", table_name, numbers[0].name)


def _window(state: State, meaning: Meaning, schema: Schema, tokens: list[str]) -> None:
    window = meaning.value
    target = state.last_column
    state.last_column = None
    if target is None:
        table = schema.table(state.plan.subject)
        dates = [c for c in table.columns if is_date(c)]
        if len(dates) > 1:
            hinted = {stem(t) for t in tokens} - state.naming  # "installs this month" says no date
            dates = [c for c in dates if any(stem(part) in hinted for part in c.name.split("_"))] or dates
        if len(dates) != 1:
            raise Unread(f"'{meaning.words}' does not say which date")
        target = Element("column", table.name, dates[0].name)
        parts = {stem(part) for part in dates[0].name.split("_")}
        if parts & {stem(w) for f in state.plan.filters if f.op in ("=", "<>") for w in str(f.words).split()}:
            state.cost += 1  # "connected this month": the word that names the date was read as a value
    column = schema.table(target.table).column(target.column)
    if not is_date(column):
        raise Unread(f"{target.column} is not a date")
    values = (window.start, window.end)
    if state.negate:
        raise Unread(f"'not {meaning.words}'")
    _add_filter(state, Filter(target.table, target.column, "window", values, f"{target.column} {window.words}"), set())
