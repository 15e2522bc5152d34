"""A reading's plan as one SELECT: joins along foreign keys, filters, grouping, order.

`Plan` is what the interpreter understood, in database terms; `to_sql(plan, schema, picks)` writes
it as SQL text with %s placeholders and its parameters. Identifiers come only from the Schema and
are double-quoted; values only ever travel as parameters. Where the schema allows several equally
short join paths, the choice is a fork (`Forks`): the interpreter writes each one and, if they
differ, says the question is ambiguous rather than picking one.

Joins to a parent (this row's foreign key) are LEFT JOINs in the main query, so every row is
counted once; a condition reached through a child table (one-to-many) becomes an EXISTS, and a
count or total of another table per row is a correlated subquery, so no join ever multiplies rows.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

from skills.answers.model import Column, ForeignKey, Schema, Table
from skills.answers.words import VOID_VALUES


@dataclass(frozen=True)
class Filter:
    table: str
    column: str
    op: str  # "=", "<>", "in", "not in", ">", ">=", "<", "<=", "true", "not true", "window", "not window", "column >"
    values: tuple = ()
    words: str = ""

    @property
    def lexicon_condition(self) -> bool:
        """A lexicon condition: two columns of a row ("column >"), or a total of child rows ("sum <")."""
        return self.op.removeprefix("not ").startswith(("column ", "sum "))

    @property
    def children_total(self) -> bool:
        """A lexicon condition on the total of child rows ("sum <"; negated, "not sum <")."""
        return self.op.removeprefix("not ").startswith("sum ")


@dataclass(frozen=True)
class Nested:
    """Rows of `table` that are the top `limit` by `column` (direction +1 highest), among `filters`."""

    table: str
    column: str
    direction: int
    limit: int
    filters: tuple[Filter, ...] = ()


@dataclass
class Plan:
    subject: str
    filters: list[Filter] = field(default_factory=list)
    attributes: list[tuple[str, str]] = field(default_factory=list)
    count: bool = False
    aggregate: tuple[str, str, str] | None = None  # (func, table, column)
    group: tuple[str, str | None] | None = None  # by (table, column); column None: by the table's rows
    related: tuple[str, str, str | None] | None = None  # per subject row: (func, table, column) of another table
    order: tuple[str, str, int] | None = None  # (table, column, direction) of a superlative
    related_filters: list[Filter] = field(default_factory=list)  # conditions on the related rows
    order_related: int = 0  # superlative over `related`: +1 most first, -1 fewest first
    limit: int | None = None
    nested: list[Nested] = field(default_factory=list)
    record: bool = False  # every column of the subject
    yes_no: bool = False
    every: bool = False  # the question says "all"/"every": a total counts the void rows too (void_values)
    pins: list[Filter] = field(
        default_factory=list
    )  # yes/no about one row: the filters that find it (the rest is asked of it)
    distinct: bool = False  # the different values of the one attribute ("which warehouses do we have")
    guesses: list[str] = field(
        default_factory=list
    )  # names taken from some of their words ("'Karoo' for Karoo Haulage")
    included: list = field(default_factory=list)  # Elements: values the rows may hold ("drafts included")


class Forks(Exception):
    """Raised while writing a plan that needs a choice not yet made: the interpreter tries each."""

    def __init__(self, key: str, options: list[str]):
        super().__init__(key)
        self.key, self.options = key, options


class Unusable(Exception):
    """The plan cannot be one query over this schema (no join path, a total through a one-to-many join)."""


class Unread(Exception):
    """A combination of word meanings that is not one coherent question (planning.py, finishing.py)."""


@dataclass(frozen=True)
class Step:
    """One foreign key walked from `source` to `target`; forward: `source` holds the key (to a parent)."""

    source: str
    target: str
    key: ForeignKey
    forward: bool


Edge = Step


def _ident(*parts: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def shortest_paths(schema: Schema, start: str, goal: str) -> list[tuple[Edge, ...]]:
    """Every shortest path of foreign keys (either direction) from `start` to `goal`."""
    if start == goal:
        return [()]
    edges: dict[str, list[tuple[str, Edge]]] = {t.name: [] for t in schema.tables}
    for table in schema.tables:
        for key in table.foreign_keys:
            if key.ref_table in edges:
                edges[table.name].append((key.ref_table, Step(table.name, key.ref_table, key, True)))
                if key.ref_table != table.name:
                    edges[key.ref_table].append((table.name, Step(key.ref_table, table.name, key, False)))
    found: list[tuple[Edge, ...]] = []
    queue = deque([(start, ())])
    depth: dict[str, int] = {start: 0}
    while queue:
        node, path = queue.popleft()
        if found and len(path) >= len(found[0]):
            break
        for neighbour, edge in edges.get(node, ()):
            if neighbour in {e.source for e in path} or neighbour == start:
                continue
            if neighbour == goal:
                found.append((*path, edge))
            elif depth.get(neighbour, len(path) + 1) >= len(path) + 1 and len(path) < 4:
                depth[neighbour] = len(path) + 1
                queue.append((neighbour, (*path, edge)))
    return found


def fans_out(path: tuple[Edge, ...]) -> bool:
    return any(not step.forward for step in path)


class Writer:
    """Writes one plan: aliases, joins and parameters in order."""

    def __init__(self, schema: Schema, picks: dict[str, int]):
        self.schema, self.picks = schema, picks
        self.params: list = []
        self.counter = 0

    def alias(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    def path(self, start: str, goal: str) -> tuple[Edge, ...]:
        paths = shortest_paths(self.schema, start, goal)
        if not paths:
            raise Unusable(f"no foreign key joins {start} to {goal}")
        if len(paths) == 1:
            return paths[0]
        key = f"path {start}->{goal}"
        if key not in self.picks:
            raise Forks(key, [describe_path(p) for p in paths])
        return paths[self.picks[key]]

    def table(self, name: str) -> Table:
        table = self.schema.table(name)
        if table is None:
            raise Unusable(f"no table {name}")
        return table

    def join_condition(self, edge: Step, near: str, far: str) -> str:
        pairs = list(zip(edge.key.columns, edge.key.ref_columns, strict=True))
        if edge.forward:  # near holds the key
            return " AND ".join(f"{near}.{_ident(c)} = {far}.{_ident(r)}" for c, r in pairs)
        return " AND ".join(f"{far}.{_ident(c)} = {near}.{_ident(r)}" for c, r in pairs)

    def condition(self, alias: str, item: Filter) -> str:
        column = f"{alias}.{_ident(item.column)}"
        if item.op == "true":
            return f"{column} IS TRUE"
        if item.op == "not true":
            return f"{column} IS NOT TRUE"
        if item.op.startswith("not column "):  # it does not hold, or cannot be compared (a NULL)
            positive = Filter(item.table, item.column, item.op.removeprefix("not "), item.values)
            return f"NOT coalesce({self.condition(alias, positive)}, false)"
        if item.op.startswith("column "):  # another column of the same row ("spend > budget"), from the schema
            return f"{column} {item.op.split(' ', 1)[1]} {alias}.{_ident(item.values[0])}"
        if item.op == "not window":  # no date, or one outside the window ("not delivered by today")
            return (
                f"NOT coalesce({self.condition(alias, Filter(item.table, item.column, 'window', item.values))}, false)"
            )
        if item.op == "window":
            parts = []
            if item.values[0] is not None:
                parts.append(f"{column} >= %s")
                self.params.append(item.values[0])
            if item.values[1] is not None:
                parts.append(f"{column} < %s")
                self.params.append(item.values[1])
            return " AND ".join(parts)
        if item.op in ("in", "not in"):
            self.params.append(list(item.values))
            if item.op == "in":
                return f"{column} = ANY (%s)"
            return f"({column} IS NULL OR NOT ({column} = ANY (%s)))"
        self.params.append(item.values[0])
        if item.op == "<>":
            return f"{column} IS DISTINCT FROM %s"
        if item.op in ("=i", "<>i"):
            return f"lower({column}) {'=' if item.op == '=i' else '<>'} lower(%s)"
        return f"{column} {item.op} %s"


def describe_path(path: tuple[Edge, ...]) -> str:
    steps = []
    for step in path:
        holder = step.source if step.forward else step.target
        steps.append(f"{holder}.{'/'.join(step.key.columns)}")
    return "joined through " + ", ".join(steps)


def _walk(writer: Writer, path: tuple[Edge, ...], first_alias: str) -> tuple[list[str], str]:
    """JOIN clauses along a path from an alias; gives the clauses and the last alias."""
    clauses, near = [], first_alias
    for edge in path:
        far = writer.alias()
        clauses.append(f"JOIN {_ident(edge.target)} {far} ON {writer.join_condition(edge, near, far)}")
        near = far
    return clauses, near


def _pk(table: Table, alias: str) -> list[str]:
    return [f"{alias}.{_ident(c)}" for c in table.primary_key]


def _label_columns(table: Table) -> list[str]:
    names = [c.name for c in table.columns if c.is_name]
    return names or list(table.primary_key) or [table.columns[0].name]


class _From:
    """A FROM clause: `subject` under alias `root`, its parents joined once per path, and its WHERE."""

    def __init__(self, writer: Writer, subject: str, root: str = "t0"):
        self.writer, self.subject, self.root = writer, subject, root
        self.clauses: list[str] = []
        self.aliases: dict[tuple, str] = {(): root}
        self.where: list[str] = []

    def reach(self, table: str) -> str:
        """The alias of `table` joined to the subject by parents only; a child path is Unusable here."""
        path = self.writer.path(self.subject, table)
        if fans_out(path):
            raise Unusable(f"{table} is one-to-many from {self.subject}")
        near, walked = self.root, ()
        for edge in path:
            walked = (*walked, edge)
            if walked not in self.aliases:
                far = self.writer.alias()
                cond = self.writer.join_condition(edge, near, far)
                self.clauses.append(f"LEFT JOIN {_ident(edge.target)} {far} ON {cond}")
                self.aliases[walked] = far
            near = self.aliases[walked]
        return near

    def add_filter(self, item: Filter) -> None:
        if item.op.startswith("average "):
            self.where.append(self._above_average(item))
            return
        if item.children_total:
            self.where.append(self._children_total(item))
            return
        path = self.writer.path(self.subject, item.table)
        if not fans_out(path):
            self.where.append(self.writer.condition(self.reach(item.table), item))
            return
        inner = self.writer.alias()
        on = self.writer.join_condition(path[0], self.root, inner)
        joins, last = _walk(self.writer, path[1:], inner)
        negate = item.op in ("<>", "not in", "not true", "not window") or item.op.startswith("not column ")
        positive = {"<>": "=", "not in": "in", "not true": "true", "not window": "window"}.get(item.op, item.op)
        positive = positive.removeprefix("not ") if positive.startswith("not column ") else positive
        cond = self.writer.condition(last, Filter(item.table, item.column, positive, item.values, item.words))
        exists = f"EXISTS (SELECT 1 FROM {_ident(path[0].target)} {inner} {' '.join(joins)} WHERE {on} AND {cond})"
        self.where.append(("NOT " if negate else "") + exists.replace("  ", " "))

    def _above_average(self, item: Filter) -> str:
        """ "rated above the average": the column against its average over the same rows (item.values: the
        question's other conditions on that table) or over all of them, a fork where they are not the same."""
        alias = self.reach(item.table)
        same = item.values
        if same and not item.op.startswith("average those "):
            key = f"average {item.table}.{item.column}"
            if key not in self.writer.picks:
                raise Forks(key, [average_choice(key, pick) for pick in (0, 1)])
            same = same if self.writer.picks[key] == 0 else ()
        root = self.writer.alias()
        inner = _From(self.writer, item.table, root)
        for condition in same:
            inner.add_filter(condition)
        column = _ident(item.column)
        average = f"(SELECT avg({root}.{column}) {inner.text()}{inner.where_text()})"
        return f"{alias}.{column} {item.op.split()[-1]} {average}"

    def _children_total(self, item: Filter) -> str:
        """ "below reorder level": the total of a child table's column over the rows that belong to this
        row (item.values: the child table, its column, then the conditions on which of them), compared
        with this row's column (item.column); negated, the rows where it does not hold."""
        alias = self.reach(item.table)
        child, column, *scope = item.values
        table = self.writer.table(item.table)
        if not table.primary_key:
            raise Unusable(f"{item.table} has no primary key")
        path = self.writer.path(child, item.table)
        if fans_out(path):
            raise Unusable(f"{child} does not belong to one {item.table}")
        root = self.writer.alias()
        inner = _From(self.writer, child, root)
        for condition in scope:
            inner.add_filter(condition)
        joins, last = _walk(self.writer, path, root)
        correlate = [f"{last}.{_ident(c)} = {alias}.{_ident(c)}" for c in table.primary_key]
        total = " ".join([f"SELECT coalesce(sum({root}.{_ident(column)}), 0)", inner.text(), *joins])
        compared = f"({total} WHERE {' AND '.join(correlate + inner.where)}) {item.op.split()[-1]} {alias}.{_ident(item.column)}"
        return f"NOT coalesce({compared}, false)" if item.op.startswith("not ") else compared

    def add_nested(self, nested: Nested) -> None:
        table = self.writer.table(nested.table)
        if not table.primary_key:
            raise Unusable(f"{nested.table} has no primary key")
        root = self.writer.alias()
        sub = _From(self.writer, nested.table, root)
        for item in nested.filters:
            sub.add_filter(item)
        column = f"{root}.{_ident(nested.column)}"
        where = " AND ".join([f"{column} IS NOT NULL", *sub.where])
        keys = ", ".join(f"{root}.{_ident(c)}" for c in table.primary_key)
        inner = (
            f"SELECT {keys} {sub.text()} WHERE {where} ORDER BY {column} {'DESC' if nested.direction > 0 else 'ASC'}"
            f" FETCH FIRST {int(nested.limit)} ROWS WITH TIES"
        )
        alias = self.reach(nested.table)
        self.where.append(f"({', '.join(alias + '.' + _ident(c) for c in table.primary_key)}) IN ({inner})")

    def text(self) -> str:
        return " ".join([f"FROM {_ident(self.subject)} {self.root}", *self.clauses])

    def where_text(self) -> str:
        return f" WHERE {' AND '.join(self.where)}" if self.where else ""


def to_sql(plan: Plan, schema: Schema, picks: dict[str, int]) -> tuple[str, tuple]:
    """The plan as SQL text and parameters, written in the order they appear (so %s line up)."""
    writer = Writer(schema, picks)
    subject = writer.table(plan.subject)
    source = _From(writer, plan.subject)
    labels = [f"t0.{_ident(c)}" for c in _label_columns(subject)]
    select: list[str] = []
    if plan.related:  # its parameters come first, as the SELECT list does
        # "the PM of the project with the most blocked sites": a field asked of the rows stands beside their labels
        asked_fields = [f"{source.reach(table)}.{_ident(column)}" for table, column in plan.attributes]
        labels += [text for text in asked_fields if text not in labels]
        select = [*labels, _related(writer, plan) + " AS " + _ident(_related_name(plan))]
    asked: list[str] = []  # a yes/no about one row: what is asked of it, as conditions in the SELECT list
    for item in sorted(_with_averages(plan.filters), key=lambda item: item in plan.pins):  # parameters as written
        held = len(source.where)
        source.add_filter(item)
        if plan.pins and item not in plan.pins:
            asked += source.where[held:]
            del source.where[held:]
    if plan.aggregate and plan.aggregate[0] == "sum" and not plan.every:
        said = {(f.table, f.column) for f in plan.filters} | ({plan.group} if plan.group else set())
        said |= {(e.table, e.column) for e in plan.included}  # "cancelled ones included": every row
        _void_rows(writer, source, plan.aggregate[1], said)
    for nested in plan.nested:
        source.add_nested(nested)
    tail = ""
    if plan.related:
        if plan.order_related:
            direction = "DESC" if plan.order_related > 0 else "ASC"
            tail = f" ORDER BY {len(labels) + 1} {direction} FETCH FIRST {plan.limit or 1} ROWS WITH TIES"
        else:
            tail = " ORDER BY " + ", ".join(labels)
    elif plan.group:
        table, column = plan.group
        alias = source.reach(table)
        group_table = writer.table(table)
        if column:
            keys = [f"{alias}.{_ident(column)}"]
        else:
            keys = [f"{alias}.{_ident(c)}" for c in _label_columns(group_table)]
        grouped = keys + [k for k in _pk(group_table, alias) if k not in keys] if not column else keys
        select = [*keys, _measure(source, plan)]
        tail = " GROUP BY " + ", ".join(grouped)
        if plan.order is None:
            tail += " ORDER BY " + ", ".join(keys)
        else:
            direction = "DESC" if plan.order[2] > 0 else "ASC"
            tail += f" ORDER BY {len(keys) + 1} {direction} NULLS LAST FETCH FIRST {plan.limit or 1} ROWS WITH TIES"
    elif plan.distinct:
        table, column = plan.attributes[0]
        value = f"{source.reach(table)}.{_ident(column)}"
        if plan.count:
            select = [f"count(DISTINCT {value})"]
        else:
            select = [f"DISTINCT {value}"]
            source.where.append(f"{value} IS NOT NULL")
            tail = f" ORDER BY {value}"
    elif plan.yes_no and asked:
        select = [*labels, f"coalesce({' AND '.join(asked)}, false) AS {_ident('answer')}"]
        tail = " ORDER BY " + ", ".join(labels)
    elif plan.yes_no:
        select = ["count(*)"]
    elif plan.count or plan.aggregate:
        select = [_measure(source, plan)]
    else:
        select = _list_columns(source, plan, subject)
        if plan.order:
            table, column, direction = plan.order
            ordered = f"{source.reach(table)}.{_ident(column)}"
            source.where.append(f"{ordered} IS NOT NULL")
            tail = (
                f" ORDER BY {ordered} {'DESC' if direction > 0 else 'ASC'} FETCH FIRST {plan.limit or 1} ROWS WITH TIES"
            )
        elif not plan.record:
            tail = " ORDER BY " + ", ".join(labels)
    sql = f"SELECT {', '.join(select)} {source.text()}{source.where_text()}{tail}"
    return sql, tuple(writer.params)


def average_choice(key: str, pick: int) -> str:
    """An average fork's choice in words: over the rows the question speaks of (0) or over all (1)."""
    table = key.removeprefix("average ").partition(".")[0].replace("_", " ")
    return ("the average of those " + table, "the average of all " + table)[pick]


def void_values(column: Column) -> tuple[str, ...]:
    """The stored values of `column` that say a row no longer counts ("cancelled", "void")."""
    return tuple(value for value in column.values if value.lower() in VOID_VALUES)


def void_choice(schema: Schema, key: str, pick: int) -> str:
    """A void fork's choice in words: "cancelled included" (pick 0) or "cancelled left out" (pick 1)."""
    table, _, column = key.removeprefix("void ").partition(".")
    voids = void_values(schema.table(table).column(column))
    return f"{'/'.join(voids)} {('included', 'left out')[pick]}"


def _void_rows(writer: Writer, source: _From, table_name: str, said: set[tuple]) -> None:
    """ "Total value of POs for Durban North": when the summed rows can be cancelled and the question
    says nothing of it, the total is of every row or of those not cancelled, a fork (both are written;
    where they differ, the question is ambiguous and the answer gives each)."""
    for column in writer.table(table_name).columns:
        voids = void_values(column)
        if not voids or (table_name, column.name) in said:
            continue
        key = f"void {table_name}.{column.name}"
        if key not in writer.picks:
            raise Forks(key, [void_choice(writer.schema, key, pick) for pick in (0, 1)])
        if writer.picks[key]:
            source.add_filter(Filter(table_name, column.name, "not in", voids, f"{column.name} not {'/'.join(voids)}"))
        return


def _with_averages(filters: list[Filter]) -> list[Filter]:
    """The filters, each "above the average" one holding the others on its table (the rows it may be over)."""
    return [
        replace(
            f, values=tuple(o for o in filters if o.table == f.table and o is not f and not o.op.startswith("average "))
        )
        if f.op.startswith("average ")
        else f
        for f in filters
    ]


def _measure(source: _From, plan: Plan) -> str:
    if plan.aggregate:
        func, table, column = plan.aggregate
        value = f"{func}({source.reach(table)}.{_ident(column)})"
        return f"round({value}, 2)" if func == "avg" else value
    return "count(*)"


def _list_columns(source: _From, plan: Plan, subject: Table) -> list[str]:
    if plan.record and not plan.attributes:
        return [f"t0.{_ident(c.name)}" for c in subject.columns]
    columns = [f"t0.{_ident(c)}" for c in _label_columns(subject)]
    extra = list(plan.attributes) + ([plan.order[:2]] if plan.order else [])
    for table, column in extra:
        text = f"{source.reach(table)}.{_ident(column)}"
        if text not in columns:
            columns.append(text)
    return columns


def _related_name(plan: Plan) -> str:
    func, table, column = plan.related
    return f"{table}_count" if func == "count" else f"{func}_{column}"


def _related(writer: Writer, plan: Plan) -> str:
    """A correlated subquery: the count (or total) of `related` rows that belong to each subject row."""
    func, table, column = plan.related
    subject = writer.table(plan.subject)
    if not subject.primary_key:
        raise Unusable(f"{plan.subject} has no primary key")
    path = writer.path(table, plan.subject)
    if fans_out(path) and func in ("sum", "avg"):
        raise Unusable("a total through a one-to-many join would count rows twice")
    root = writer.alias()
    inner = _From(writer, table, root)
    joins, last = _walk(writer, path, root)
    correlate = [f"{last}.{_ident(c)} = t0.{_ident(c)}" for c in subject.primary_key]
    for item in plan.related_filters:
        inner.add_filter(item)
    if func == "sum" and not plan.every:
        _void_rows(writer, inner, table, {(f.table, f.column) for f in plan.related_filters})
    target = writer.table(table)
    if func == "count":
        measure = f"count(DISTINCT ({', '.join(_pk(target, root))}))" if target.primary_key else "count(*)"
    else:
        measure = f"{func}({root}.{_ident(column)})"
        measure = f"coalesce({measure}, 0)" if func == "sum" else f"round({measure}, 2)" if func == "avg" else measure
    body = " ".join([f"SELECT {measure}", inner.text(), *joins])
    return f"({body} WHERE {' AND '.join(correlate + inner.where)})"
