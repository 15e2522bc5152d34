"""A reading and its rows in words: what the interpreter understood, and the answer itself.

`describe(plan, shape)` is the reading's `interpretation` ("number of purchase orders where total
> 100000 and status is draft"); `say(reading, columns, rows, truncated)` is the answer: a count as
a number with what was counted, Yes/No first for a yes/no question, a record's fields, a list's
names. Nothing here names a table or column of any particular database.
"""

from __future__ import annotations

from decimal import Decimal

from skills.answers.model import Reading
from skills.answers.query import Filter, Plan


def _filter_words(item: Filter) -> str:
    column = item.column.replace("_", " ")
    if item.op in ("true", "not true"):
        return f"{'not ' if item.op == 'not true' else ''}{column}"
    if item.op in ("window", "not window") or item.op.startswith(
        ("column ", "not column ", "average ", "sum ", "not sum ")
    ):
        return item.words.replace("_", " ")
    if item.op in ("in", "not in"):
        return f"{column} {'not ' if item.op == 'not in' else ''}one of {', '.join(map(str, item.values))}"
    if item.op in ("=", "<>"):
        return f"{column} {'is' if item.op == '=' else 'is not'} {item.values[0]}"
    return f"{column} {item.op} {_number_text(item.values[0])}"


def _number_text(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral() else f"{value}"
    return str(value)


def describe(plan: Plan, shape: str) -> str:
    """The reading in words: what is counted, listed or totalled, under which conditions."""
    subject = plan.subject.replace("_", " ")
    conditions = [
        f"{item.table.replace('_', ' ')} {_filter_words(item)}" if item.table != plan.subject else _filter_words(item)
        for item in plan.filters
    ]
    conditions += [
        f"the {n.table.replace('_', ' ')} with the {'highest' if n.direction > 0 else 'lowest'} "
        f"{n.column.replace('_', ' ')}" + (f" (top {n.limit})" if n.limit > 1 else "")
        for n in plan.nested
    ]
    where = f" where {' and '.join(conditions)}" if conditions else ""
    if plan.included:
        where += f" ({', '.join(str(e.value).replace('_', ' ') for e in plan.included)} included)"
    fields = ", ".join(c.replace("_", " ") for _, c in plan.attributes)  # the fields asked of the rows
    if plan.related:
        func, table, _ = plan.related
        inner = " and ".join(_filter_words(f) for f in plan.related_filters)
        counted = f"{table.replace('_', ' ')}" + (f" where {inner}" if inner else "")
        measure = {"count": "number of", "sum": "total", "avg": "average", "min": "minimum", "max": "maximum"}[func]
        of = f" {plan.related[2].replace('_', ' ')} of" if plan.related[2] else ""
        head = f"{fields} of " if plan.attributes else ""
        head += f"{subject}{where}, with their {measure}{of} {counted}"
        if plan.order_related:
            most, fewest = ("most", "fewest") if func == "count" else ("highest", "lowest")
            head += f", the {most if plan.order_related > 0 else fewest}" + (
                f" {plan.limit}" if plan.limit and plan.limit > 1 else ""
            )
        return head
    if plan.aggregate:
        func, table, column = plan.aggregate
        name = {"avg": "average", "sum": "total", "min": "minimum", "max": "maximum"}[func]
        head = f"{name} {column.replace('_', ' ')} of {subject}{where}"
    elif plan.distinct:
        column = plan.attributes[0][1].replace("_", " ")
        head = f"{'number of ' if plan.count else ''}different {column} values of {subject}{where}"
    elif shape == "count" or (plan.group and plan.count):
        head = f"number of {subject}{where}"
    elif shape == "yes_no" and plan.pins:
        said = list(zip(plan.filters, conditions, strict=False))  # the nested conditions come after
        asked = " and ".join(words for item, words in said if item not in plan.pins)
        pinned = " and ".join(words for item, words in said if item in plan.pins)
        head = f"whether {asked}, for the {subject} where {pinned}"
    elif shape == "yes_no":
        head = f"whether any {subject}{where}"
    elif plan.attributes:
        head = f"{fields} of {subject}{where}"
    else:
        head = f"{subject}{where}"
    if plan.group:
        table, column = plan.group
        head += f", per {(column or table).replace('_', ' ')}"
    if plan.order and plan.order[1]:
        table, column, direction = plan.order
        head += f", {'highest' if direction > 0 else 'lowest'} {column.replace('_', ' ')} first"
        head += f" (top {plan.limit})" if plan.limit and plan.limit > 1 else " (the top one)"
    return head


def say(reading: Reading, columns: list[str], rows: list[tuple], truncated: bool) -> str:
    """The result in words: a count with what was counted, Yes/No first for a yes/no question, a
    record's fields, a list's names (with "and more" when the rows were capped)."""
    thing = reading.table.replace("_", " ")
    if reading.shape == "yes_no" and reading.one and rows:  # the one row asked about, named, then whether it is so
        named = " ".join(_number_text(value) for value in rows[0][:-1][:2] if value is not None)
        return f"{'Yes' if rows[0][-1] else 'No'}: {named} ({reading.interpretation})."
    if reading.shape == "yes_no":
        matching = rows[0][0] if rows else 0
        return (
            f"Yes: {matching} {thing} match ({reading.interpretation})."
            if matching
            else (f"No: no {thing} match ({reading.interpretation}).")
        )
    if reading.shape in ("count", "aggregate"):
        value = rows[0][0] if rows else None
        if value is None:
            return f"No value: nothing matches ({reading.interpretation})."
        return f"{_number_text(value)}: {reading.interpretation}."
    if not rows:
        return f"None: no {thing} match ({reading.interpretation})."
    if reading.shape == "values":  # the different values of one column
        values = "; ".join(_number_text(row[0]) for row in rows)
        return f"{len(rows)}{'+' if truncated else ''} ({reading.interpretation}): {values}{' and more' if truncated else ''}."
    if reading.shape in ("record", "value") and len(rows) == 1:
        fields = [f"{c.replace('_', ' ')}: {_number_text(v)}" for c, v in zip(columns, rows[0], strict=False)]
        return "; ".join(fields) + "."
    lines = []
    for row in rows:
        head = _number_text(row[0])
        rest = ", ".join(f"{c.replace('_', ' ')} {_number_text(v)}" for c, v in zip(columns[1:], row[1:], strict=False))
        lines.append(f"{head} ({rest})" if rest else head)
    more = " and more" if truncated else ""
    return f"{len(rows)}{'+' if truncated else ''} {thing} ({reading.interpretation}): " + "; ".join(lines) + more + "."
