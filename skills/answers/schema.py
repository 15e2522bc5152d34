"""What a PostgreSQL database says about itself, read once through the read-only connection.

`read_schema(cursor)` gives the `Schema` the interpreter works on: the readable tables of the
schemas on search_path, their columns (format_type types, nullability, comments), primary and
foreign keys, the values a column can hold when that list is short and knowable (a CHECK
constraint's `col = ANY (ARRAY[...])`, an enum's labels, or every distinct value of a
low-cardinality text column), and the names held in a table's key text columns.

Only catalog queries and bounded SELECTs run: each data query carries a LIMIT (at most
`ROW_BOUND` rows looked at per column), so a huge table costs a bounded read, never a full scan.
Identifiers are quoted with psycopg2.sql; nothing from the data is ever put into SQL text.
"""

from __future__ import annotations

import re
from typing import Any

from skills import lazy
from skills.answers.model import Column, ForeignKey, Schema, Table

MAX_VALUES = 40  # a text column with at most this many distinct values lists them all in Column.values
MAX_NAMES = 2000  # names kept per key text column
ROW_BOUND = 100_000  # rows looked at per column when reading values: beyond it, what the first rows hold

TEXT_TYPES = ("text", "character varying", "character", "varchar", "char", "citext", "bpchar")
# a column whose name says it names the row: the whole name or its last `_` part
NAME_WORDS = frozenset({"name", "title", "code", "number", "no", "reference", "ref", "label", "sku", "username"})

_TABLES = """
SELECT c.oid, n.nspname, c.relname, c.relkind, coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname = ANY (current_schemas(false))
  AND NOT c.relispartition
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY array_position(current_schemas(false), n.nspname::text), c.relname
"""

_COLUMNS = """
SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       coalesce(col_description(a.attrelid, a.attnum), ''),
       CASE WHEN t.typtype = 'e'
            THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
       END
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = ANY (%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_CONSTRAINTS = """
SELECT con.conrelid, con.contype, con.conkey, con.confrelid, con.confkey, pg_get_constraintdef(con.oid)
FROM pg_constraint con
WHERE con.conrelid = ANY (%s) AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY con.conrelid, con.conname
"""

_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_CAST = re.compile(r"::[a-z_]+(?: [a-z_]+)*(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?")
# a value-list CHECK once its literals are $, its casts and parentheses gone (their number varies by version)
_VALUE_LIST = re.compile(r'^CHECK (?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*) (?:= ANY ARRAY\[\$(?:, \$)*\]|IN \$(?:, \$)*)$')


def read_schema(cursor: Any, tables: list[str] | None = None) -> Schema:
    """The readable tables (all of those on search_path, or only `tables`), as the database describes them.

    `cursor` is a psycopg2 cursor on a read-only connection. Names in `tables` that the role cannot
    read or that do not exist are left out (the caller compares, if it cares)."""
    cursor.execute(_TABLES)
    found: dict[int, tuple[str, str, str, str]] = {}
    seen: set[str] = set()
    wanted = set(tables) if tables is not None else None
    outside: list[str] = []  # readable, but not this agent's: a question about them is not its to answer
    for oid, schema_name, name, kind, comment in cursor.fetchall():
        if name in seen:
            continue  # a name earlier on search_path hides the later one, as it does in queries
        seen.add(name)
        if wanted is not None and name not in wanted:
            outside.append(name)
            continue
        found[oid] = (schema_name, name, kind, comment)
    if not found:
        return Schema((), tuple(outside))
    oids = list(found)
    cursor.execute(_COLUMNS, (oids,))
    columns: dict[int, list[list]] = {oid: [] for oid in oids}
    for relid, attnum, name, type_name, nullable, comment, labels in cursor.fetchall():
        columns[relid].append([attnum, name, type_name, nullable, comment, tuple(labels or ())])
    cursor.execute(_CONSTRAINTS, (oids,))
    constraints: dict[int, list[tuple]] = {oid: [] for oid in oids}
    for row in cursor.fetchall():
        constraints[row[0]].append(row[1:])
    result = []
    for oid, (schema_name, name, _kind, comment) in found.items():
        table = _table(cursor, schema_name, name, comment, columns[oid], constraints[oid], found, columns)
        result.append(table)
    return Schema(tuple(result), tuple(outside))


def _table(
    cursor: Any,
    schema_name: str,
    name: str,
    comment: str,
    raw_columns: list[list],
    raw_constraints: list[tuple],
    tables: dict[int, tuple[str, str, str, str]],
    all_columns: dict[int, list[list]],
) -> Table:
    by_num = {attnum: column_name for attnum, column_name, *_ in raw_columns}
    primary: tuple[str, ...] = ()
    unique: set[str] = set()
    keys: list[ForeignKey] = []
    checked: dict[str, tuple[str, ...]] = {}
    for kind, key, ref_oid, ref_key, definition in raw_constraints:
        names = tuple(by_num[n] for n in key or () if n in by_num)
        if kind == "p":
            primary = names
            if len(names) == 1:
                unique.add(names[0])
        elif kind == "u" and len(names) == 1:
            unique.add(names[0])
        elif kind == "f" and ref_oid in tables:  # a key to a table the agent cannot read is no join for it
            ref_num = {attnum: column_name for attnum, column_name, *_ in all_columns[ref_oid]}
            keys.append(ForeignKey(names, tables[ref_oid][1], tuple(ref_num[n] for n in ref_key)))
        elif kind == "c" and len(names) == 1:
            values = check_values(definition)
            if values:
                checked[names[0]] = values
    relation = lazy.psycopg2_sql.Identifier(schema_name, name)
    columns, held = [], {}
    for _attnum, column_name, type_name, nullable, column_comment, labels in raw_columns:
        text = _is_text(type_name)
        is_name = text and (column_name in unique or _names_row(column_name))
        values = checked.get(column_name) or labels
        if is_name:
            held[column_name] = _names(cursor, relation, column_name)
        elif text and not values:
            values = _few_values(cursor, relation, column_name)
        columns.append(Column(column_name, type_name, nullable, column_comment, values, is_name))
    return Table(name, tuple(columns), primary, tuple(keys), comment, held)


def check_values(definition: str) -> tuple[str, ...]:
    """The values of a CHECK constraint that lists what one column may hold, as pg_get_constraintdef
    gives it: `CHECK ((status = ANY (ARRAY['a'::text, 'b'::text])))`, or `CHECK (status IN ('a', 'b'))`.
    Any other check (ranges, several columns, OR of other tests) gives ()."""
    values = [match.group(1).replace("''", "'") for match in _LITERAL.finditer(definition)]
    shape = re.sub(r"[()]", "", _CAST.sub("", _LITERAL.sub("$", definition)))
    if not values or not _VALUE_LIST.match(re.sub(r"\s+", " ", shape).strip()):
        return ()
    return tuple(dict.fromkeys(values))


def _is_text(type_name: str) -> bool:
    return type_name.split("(")[0].strip() in TEXT_TYPES


def _names_row(column_name: str) -> bool:
    lowered = column_name.lower()
    return lowered in NAME_WORDS or lowered.rsplit("_", 1)[-1] in NAME_WORDS


def _names(cursor: Any, relation: Any, column_name: str) -> tuple[str, ...]:
    """The names a key text column holds, at most MAX_NAMES of them, from a bounded read."""
    sql = lazy.psycopg2_sql
    query = sql.SQL("SELECT {col} FROM {rel} WHERE {col} IS NOT NULL LIMIT %s").format(
        col=sql.Identifier(column_name), rel=relation
    )
    cursor.execute(query, (min(ROW_BOUND, MAX_NAMES * 4),))
    names = dict.fromkeys(str(row[0]) for row in cursor.fetchall() if str(row[0]).strip())
    return tuple(list(names)[:MAX_NAMES])


def _few_values(cursor: Any, relation: Any, column_name: str) -> tuple[str, ...]:
    """Every distinct value of a text column when there are at most MAX_VALUES of them (among the
    first ROW_BOUND rows), else (): a list that long is free text, not a set of kinds."""
    sql = lazy.psycopg2_sql
    query = sql.SQL(
        "SELECT DISTINCT {col} FROM (SELECT {col} FROM {rel} WHERE {col} IS NOT NULL LIMIT %s) AS bounded LIMIT %s"
    ).format(col=sql.Identifier(column_name), rel=relation)
    cursor.execute(query, (ROW_BOUND, MAX_VALUES + 1))
    values = sorted(str(row[0]) for row in cursor.fetchall())
    return tuple(values) if len(values) <= MAX_VALUES else ()
