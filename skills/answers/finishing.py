"""The state of the walk over a question's meanings (planning.py), and the rules that read the whole
plan once the walk ends: is it complete, and what does it ask as a whole.

`whole_plan` refuses what is left open ("per" with nothing to group by, "not" with nothing to deny, a
total beside a field, a superlative over a row named already) and settles what only the whole
shows: a question naming a column alone wants its different values; "how tall is the tallest"
asks for the measure; a total over the one row asked about is that row's own figure; a count per a
table becomes that table's rows with their counts. `shape_of` says how the answer is put in words.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from skills.answers.query import Plan, Unread, fans_out, shortest_paths
from skills.answers.vocabulary import Element, flag_measure, is_key, is_numeric

if TYPE_CHECKING:
    from skills.answers.model import Schema
    from skills.answers.scanning import Meaning

__all__ = ["State", "shape_of", "speaks_of_one", "whole_plan"]


@dataclass
class State:
    """What the walk over a question's meanings (planning.py) has built and still waits for."""

    plan: Plan
    negate: bool = False
    agg: str | None = None
    count_open: bool = False  # "how many"/"how much" not yet followed by a table: a number column is summed
    how_much: bool = False
    group: bool = False
    superlative: tuple[int, int] | None = None
    last_column: Element | None = None  # a column that a following number or date may compare
    dated: bool = False  # the superlative is one of time ("latest"): it orders by a date
    counting: bool = False  # the superlative is "most"/"fewest": of a table's rows, it counts them
    either: bool = False  # "or" seen: the next value joins the previous filter
    versus: tuple[str, str] | None = None  # (operator, words): "over" waiting for the column it compares with
    average: bool = False  # "above the average": the column that follows is compared with its own average
    today: datetime.date = datetime.date.min
    held: list[int] = field(default_factory=list)  # how many filters the plan had after each meaning
    naming: frozenset[str] = frozenset()  # the stems of the words that name a table ("installs")
    cost: int = 0  # readings that stretch a word (a value also taken as the hint of a date) cost more


def whole_plan(state: State, meanings: list[Meaning], schema: Schema, used: set[str], tokens: list[str]) -> None:
    """Check and settle the plan the walk left in `state` (raises Unread when it is no question)."""
    first = next((m for m in meanings if m.element), None)
    plural = first is not None and first.element.kind == "column" and _plural(first.words.split()[-1])
    if plural and (
        tokens[0] in ("which", "what") or not any(m.element and m.element.kind == "table" for m in meanings)
    ):
        _only_values(state.plan)  # "which warehouses do we have", "which cities do we have projects in"
    _condition_measure(state.plan)
    if not state.superlative:  # "the project with the biggest BOQ value" orders projects by their totals
        _total_of_children(state.plan, meanings, schema, tokens)
    _scope_children_totals(state.plan)
    _complete(state, schema, used)
    _how_big(state.plan, tokens)
    _of_the_one(state.plan, meanings, tokens)
    _yes_no_of_one(state, meanings, schema, tokens)


def speaks_of_one(items, table: str, tokens: list[str]) -> bool:
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


def _name_columns(schema: Schema, table_name: str) -> set[str]:
    """The columns that name the table's own rows: "name", "<table>_name", or its only name column
    ("state_name" names a city's state, not the city)."""
    table = schema.table(table_name)
    names = [column.name for column in table.columns if column.is_name]
    singular = table.name.lower().removesuffix("s")
    own = [n for n in names if n == "name" or n.split("_")[0] in (table.name.lower(), singular)]
    return set(own or (names if len(names) == 1 else []))


def _complete(state: State, schema: Schema, used: set[str]) -> None:
    plan = state.plan
    if state.negate:
        raise Unread("'not' with nothing after it to deny")
    if state.agg:
        table = schema.table(plan.subject)
        numbers = [c for c in table.columns if is_numeric(c) and not is_key(table, c)]
        if state.agg == "sum" and plan.count is False and len(numbers) == 1:
            plan.aggregate = ("sum", plan.subject, numbers[0].name)
        else:
            raise Unread(f"'{state.agg}' of what")
    if state.superlative:
        flag = _last_flag(plan, schema)
        if plan.group and not plan.order:
            plan.order, plan.limit = (plan.subject, "", state.superlative[0]), state.superlative[1]
        elif _total_of_each(plan, schema):
            # "which project has the biggest BOQ value": its rows ordered by what their child rows add up to
            plan.related, plan.aggregate, plan.count = plan.aggregate, None, False
            plan.order_related, plan.limit = state.superlative
        elif flag and not plan.order and not plan.related:
            # "which site has been delayed the longest": ordered by the flag's measure, not filtered by it
            plan.filters.remove(flag[0])
            plan.order, plan.limit = (flag[1].table, flag[1].column, state.superlative[0]), state.superlative[1]
        else:
            raise Unread("a superlative with nothing to order by")
    if state.group:
        raise Unread("'per' with nothing to group by")
    if state.last_column:
        raise Unread(f"{state.last_column.column} compared with nothing")
    if state.versus:
        raise Unread(f"'{state.versus[1]}' compared with nothing")
    if state.how_much and not plan.aggregate:
        raise Unread("'how much' of what")
    if plan.group and not (plan.count or plan.aggregate):
        plan.count = True
    if plan.group and plan.group[1] is None:
        _group_as_related(plan)
    if plan.related:
        plan.related_filters += [f for f in plan.filters if f.table != plan.subject]
        plan.filters = [f for f in plan.filters if f.table == plan.subject]
    if plan.related and plan.group:
        raise Unread("two groupings")
    if plan.yes_no and (plan.aggregate or plan.group or plan.related or plan.attributes or plan.order):
        raise Unread("a yes/no question about a total")
    if plan.order and any(
        f.table == plan.subject and f.op == "=" and f.column in _name_columns(schema, f.table) for f in plan.filters
    ):
        raise Unread("a superlative over one row named already")  # "the most populated area of new mexico"
    if plan.aggregate and plan.attributes:
        raise Unread("a total beside a field")
    if plan.aggregate and plan.order:
        raise Unread("a total and a superlative at once")
    if plan.count and plan.attributes and not plan.distinct:
        raise Unread("a count beside a field")


def _total_of_each(plan: Plan, schema: Schema) -> bool:
    """Whether the plan's sum is of child rows of the subject's, with nothing yet per row (a total per row)."""
    if not plan.aggregate or plan.aggregate[0] != "sum" or plan.related or plan.group or plan.order:
        return False
    return _sums_children(plan, schema)


def _sums_children(plan: Plan, schema: Schema) -> bool:
    """Whether the plan's total is of a table one-to-many from the subject, by every path between them."""
    if plan.aggregate[1] == plan.subject:
        return False
    paths = shortest_paths(schema, plan.subject, plan.aggregate[1])
    return bool(paths) and all(map(fans_out, paths))


def _condition_measure(plan: Plan) -> None:
    """ "Stock at Cape Town DC below reorder level": a total that is the very measure of a lexicon
    condition in the question names the condition's rows (the materials), not a sum of them."""
    if not plan.aggregate or plan.aggregate[0] != "sum" or plan.group or plan.related:
        return
    for item in plan.filters:
        if item.children_total and tuple(item.values[:2]) == plan.aggregate[1:]:
            plan.subject, plan.aggregate = item.table, None
            return


def _scope_children_totals(plan: Plan) -> None:
    """ "What's below reorder level at Durban DC?": the conditions on the rows a lexicon condition adds
    up (the movements at Durban DC) say which of them it adds up."""
    for item in [f for f in plan.filters if f.children_total]:
        scope = tuple(f for f in plan.filters if f.table == item.values[0])
        plan.filters = [f for f in plan.filters if f not in scope]
        plan.filters[plan.filters.index(item)] = replace(item, values=(*item.values, *scope))


def _total_of_children(plan: Plan, meanings: list[Meaning], schema: Schema, tokens: list[str]) -> None:
    """ "Total contract value of Gauteng projects", "how much stock of SC/APC connectors": a total of a
    table that is one-to-many from the subject adds up the rows that belong to the subject's rows, so
    the summed table becomes the subject (each of its rows counted once, the subject's conditions
    reached through its foreign keys). Of "the Soweto project", one row presupposed, it is that row's
    total beside its name (several such rows are then no answer, the caller's)."""
    if not plan.aggregate or plan.aggregate[0] not in ("sum", "avg"):
        return
    if plan.group or plan.related or plan.attributes or plan.order or plan.nested or plan.yes_no:
        return
    if not _sums_children(plan, schema):
        return
    if speaks_of_one([[m] for m in meanings], plan.subject, tokens):
        plan.related, plan.aggregate, plan.count = plan.aggregate, None, False
    else:
        plan.subject = plan.aggregate[1]
    plan.record = False


def _last_flag(plan: Plan, schema: Schema):
    """The plan's last filter when it is a yes/no column of the subject that has a measure of its own word
    (vocabulary.flag_measure), with that measure; else None."""
    if not plan.filters or plan.filters[-1].op != "true" or plan.filters[-1].table != plan.subject:
        return None
    last = plan.filters[-1]
    measure = flag_measure(schema, last.table, last.column)
    return (last, measure) if measure else None


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
    if not speaks_of_one([[m] for m in meanings], plan.subject, tokens):
        return
    plan.attributes, plan.record = [(plan.subject, plan.aggregate[2])], True
    plan.aggregate, plan.count = None, False


def _yes_no_of_one(state: State, meanings: list[Meaning], schema: Schema, tokens: list[str]) -> None:
    """ "Is the Alexandra project over budget?": a yes/no question about the one row it names (by its
    own name, or "the <table>" in the singular) is answered of that row. The filters said up to that
    point find the row (`plan.pins`), the ones after are asked of it, so the answer names the row; no
    such row, or several, is no answer (the caller's)."""
    plan = state.plan
    if not plan.yes_no or plan.nested or len(state.held) != len(meanings):
        return
    own = _name_columns(schema, plan.subject)
    at = None
    for index, meaning in enumerate(meanings):
        element = meaning.element
        if not element or element.table != plan.subject:
            continue
        if (
            element.kind == "name"
            and element.column in own
            or (element.kind == "table" and speaks_of_one([[meaning]], plan.subject, tokens))
        ):
            at = index
    if at is None:
        return
    pins, asked = plan.filters[: state.held[at]], plan.filters[state.held[at] :]
    if pins and asked:
        plan.pins = list(pins)


def _group_as_related(plan: Plan) -> None:
    """ "How many sites per project": one row per project with its count of sites, zeros too, so the
    grouped table becomes the subject and the counted one a correlated count."""
    table = plan.group[0]
    if plan.aggregate and plan.aggregate[1] != plan.subject:
        raise Unread("a total of another table per group")
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


def shape_of(plan: Plan) -> str:
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
