"""The shapes the interpreter works on and gives back: a database's schema, its lexicon, a reading.

`Schema` is what the database says about itself (read by `skills/answers/schema.py` through the
read-only connection, cached beside the routing index); `Lexicon` is what a person wrote about it
(registry/lexicon/*.yaml); `interpret(question, schema, lexicon)` gives a `Reading` (one SQL query
that accounts for every content word) or a `Refusal` (why not, in words). Nothing here names a
table or a column of any particular database.
"""

from __future__ import annotations

import hashlib
import marshal
import re
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Column:
    """One column. `values`: the complete list of what it can hold, when that is known and short
    (a CHECK constraint's list, or every distinct value of a low-cardinality text column), else ()."""

    name: str
    type: str  # PostgreSQL's type name as format_type() gives it: "text", "integer", "numeric(12,2)", "date"
    nullable: bool = True
    comment: str = ""
    values: tuple[str, ...] = ()
    is_name: bool = False  # a key text column that names the row ("company_name", "title"): see Table.names


@dataclass(frozen=True)
class ForeignKey:
    """columns of this table -> ref_columns of ref_table."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    comment: str = ""
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name column -> the names it holds

    def column(self, name: str) -> Column | None:
        return next((column for column in self.columns if column.name == name), None)


@dataclass(frozen=True)
class Schema:
    """The tables an agent may read, as the database describes them."""

    tables: tuple[Table, ...]
    outside: tuple[str, ...] = ()  # the database's other readable tables, which the agent does not own
    fingerprint: str = field(default="", compare=False)  # of the cached JSON it came from: names its vocabulary

    def table(self, name: str) -> Table | None:
        return next((table for table in self.tables if table.name == name), None)

    def to_json(self) -> dict:
        return {"tables": [asdict(table) for table in self.tables], "outside": list(self.outside)}

    @classmethod
    def from_json(cls, data: dict, fingerprint: str = "") -> Schema:
        tables = []
        for raw in data["tables"]:
            columns = tuple(Column(**{**c, "values": tuple(c.get("values", ()))}) for c in raw["columns"])
            keys = tuple(
                ForeignKey(tuple(k["columns"]), k["ref_table"], tuple(k["ref_columns"])) for k in raw["foreign_keys"]
            )
            names = {column: tuple(values) for column, values in raw.get("names", {}).items()}
            tables.append(Table(raw["name"], columns, tuple(raw["primary_key"]), keys, raw.get("comment", ""), names))
        return cls(tuple(tables), tuple(data.get("outside", ())), fingerprint)


@dataclass(frozen=True)
class Lexicon:
    """Other words for what a database holds, written by a person (registry/lexicon/<name>.yaml):
    tables: {purchase_orders: [PO, POs, purchase order]}; columns: {"projects.budget": [budget, costly]};
    values: {"purchase_orders.status": {issued: [outstanding, awaiting delivery]}};
    totals: {"stock_movements.quantity": [stock, on hand]}: words that name a number column's total;
    conditions: {"projects.forecast_end > projects.planned_end": [running late]}: words for a comparison
    of two columns of one row."""

    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "table.column" -> words
    values: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # "table.column" -> value -> words
    totals: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "table.column" -> words for its sum
    conditions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "t.a > t.b" -> words for it

    def fingerprint(self) -> str:
        """A digest of every entry: the same words give the same vocabulary."""
        return hashlib.sha1(
            marshal.dumps((self.tables, self.columns, self.values, self.totals, self.conditions))
        ).hexdigest()

    def words(self) -> set[str]:
        """Every word and phrase it holds (routing evidence for the agent that owns it)."""
        found = {w for words in self.tables.values() for w in words}
        found |= {w for words in (*self.columns.values(), *self.totals.values()) for w in words}
        found |= {w for words in self.conditions.values() for w in words}
        found |= {w for by_value in self.values.values() for words in by_value.values() for w in words}
        return found


_COLUMN = r"(\w+)\.(\w+)"
_SIDE = rf"(?:sum\({_COLUMN}\)|{_COLUMN})"
CONDITION = re.compile(rf"^{_SIDE}\s*(<=|>=|<|>)\s*{_SIDE}$")
MIRRORED = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}  # a < b is b > a


@dataclass(frozen=True)
class Condition:
    """A lexicon condition: `column` of `table` compared (`op`) with `other` of the same row; with
    `summed`, `column` is of that child table, added up over the rows that belong to the row
    ("sum(stock_movements.quantity) < materials.reorder_level": below reorder level)."""

    table: str
    column: str
    op: str
    other: str
    summed: str = ""


def parse_condition(key: str) -> Condition | None:
    """ "projects.forecast_end > projects.planned_end", "sum(stock_movements.quantity) < materials.reorder_level"
    (either side may be the sum) as a Condition; None when it is no such comparison."""
    match = CONDITION.match(key.strip()) if isinstance(key, str) else None
    if not match:
        return None
    sum_table, sum_column, left_table, left_column, op, sum2_table, sum2_column, right_table, right_column = (
        match.groups()
    )
    if sum_table and sum2_table:
        return None  # two sums: no row to compare them on
    if sum_table:  # sum(c.x) op t.b
        return Condition(right_table, sum_column, op, right_column, sum_table) if sum_table != right_table else None
    if sum2_table:  # t.b op sum(c.x)
        if sum2_table == left_table:
            return None
        return Condition(left_table, sum2_column, MIRRORED[op], left_column, sum2_table)
    return Condition(left_table, left_column, op, right_column) if left_table == right_table else None


@dataclass(frozen=True)
class Reading:
    """One way the whole question was understood: a single SELECT and what it means in words.

    `sql` holds %s placeholders for `params` (values never go into the text; identifiers come only
    from the Schema); `shape` says how to say the result: "count", "list", "values" (one column's different values), "record", "value",
    "aggregate", "yes_no" (answer "Yes"/"No" first, from whether/what the query returns)."""

    sql: str
    params: tuple = ()
    interpretation: str = ""  # "purchase orders with status draft and amount over 100000, counted"
    shape: str = "list"
    table: str = ""  # the table the answer is about
    one: bool = False  # the question speaks of one ("the Durban project"): more rows than one is no answer
    guesses: tuple[str, ...] = ()  # names read from some of their words: an empty result then proves nothing


@dataclass(frozen=True)
class Refusal:
    """Why no answer is given. code: "model_required" (`words` it did not understand), "ambiguous"
    (`options`: the readings, each in words), "read_only" (a request to change data), "not_found"
    (`words`: a name the data does not hold)."""

    code: str
    message: str
    words: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    readings: tuple[Reading, ...] = ()  # ambiguous: the readings themselves, when few enough to run and compare
