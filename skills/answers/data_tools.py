"""The generic data tools every data agent gets: list its tables, describe one, their sizes, a read-only query.

An agent declared with `data:` in the registry and no tools module of its own is given these
(skills/execution/execute.py), over its own database (`data.url_env`: ctx.settings is scoped to
it) and its own tables (`data.tables`: ctx.tables; none listed = every table the role can read).
With a model they are the model's tools; offline they answer the catalogue questions the
interpreter does not read ("describe table rfqs", "how big is the database", SQL in backticks).

Catalogue lookups bind names as parameters; where a name must become part of the SQL text (an
exact count(*) per table) it is a psycopg2.sql.Identifier of a table that was first found in
pg_class, so a name like `rfqs"; drop table x; --` can neither match nor inject. Free SQL goes
through skills.backends.database.run_sql: one read-only statement, refused otherwise. (The
role's grants, not `data.tables`, bound what free SQL may read.)
"""

from __future__ import annotations

import difflib
import re

from skills.backends.database import ReadOnlySession, run_sql
from skills.errors import NotFound
from skills.execution.tools import ToolContext, ToolResult, tool

# How the offline path picks one of these for a question the interpreter did not read (the
# registry's `tools:` entries of a data agent, when it lists none of its own).
TOOL_ENTRIES = [
    {
        "name": "list_tables",
        "triggers": ["tables", "list tables", "schemas", "schema", "how many tables"],
        "examples": ["How many tables are in the database?", "list the schemas and their tables"],
    },
    {
        "name": "describe_table",
        "triggers": ["describe", "columns", "column", "structure", "describe table", "fields", "definition"],
        "examples": ["show the columns of the rfqs table", "describe table stock_movements"],
    },
    {
        "name": "table_statistics",
        "triggers": ["size", "statistics", "stats", "big", "rows", "row count", "largest", "space"],
        "examples": ["what is the size of the database", "how many rows does each table have"],
    },
    {
        "name": "run_query",
        "triggers": ["sql", "select", "query"],
        "examples": ["run this SQL select count(*) from rfqs"],
    },
]


def closest(name: str, names: list[str], limit: int = 5) -> list[str]:
    """Known names most like `name`, else a few that exist, so the reader sees what there is."""
    by_lower = {n.lower(): n for n in names}
    found = [by_lower[c] for c in difflib.get_close_matches(name.lower(), list(by_lower), n=limit, cutoff=0.45)]
    return found or names[:limit]


RELATION_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}
USER_RELATIONS = (
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%'"
)
EXACT_COUNT_LIMIT = 1_000_000  # above this many estimated rows, report the planner's estimate instead


# -- reading the user's words (offline fast path) ---------------------------------------------------

_NOT_A_TABLE = {
    "the",
    "a",
    "an",
    "this",
    "that",
    "each",
    "every",
    "which",
    "what",
    "my",
    "our",
    "its",
    "of",
    "in",
    "for",
    "database",
    "all",
    "one",
    "have",
    "has",
    "is",
    "are",
    "with",
    "size",
    "sizes",
    "statistics",
    "stats",
    "rows",
    "columns",
    "called",
    "named",
    "does",
    "do",
    "per",
    "biggest",
    "largest",
    "any",
}
_TABLE_AFTER = re.compile(r"\btables?\s+(?:called\s+|named\s+)?([A-Za-z_][\w.]*)", re.IGNORECASE)
_TABLE_BEFORE = re.compile(r"\b([A-Za-z_][\w.]*)\s+table\b", re.IGNORECASE)
_AFTER_VERB = re.compile(
    r"\b(?:describe|columns\s+(?:of|in)|schema\s+of|structure\s+of|fields\s+(?:of|in))\s+"
    r"(?:the\s+)?([A-Za-z_][\w.]*)",
    re.IGNORECASE,
)
_SQL_START = re.compile(
    r"\b(select|with\s+\w+\s+as|values\s*\(|explain|show\s+[\w.]+\s*;?\s*$|table\s+\w+\s*;?\s*$|insert\s+into|"
    r"update\s+\w+\s+set|delete\s+from|drop\s|truncate\s|alter\s|create\s|copy\s|grant\s)",
    re.IGNORECASE,
)
_CODE = re.compile(r"```(?:sql)?\s*(.+?)```|`([^`]+)`", re.IGNORECASE | re.DOTALL)


def _table_name(query: str, patterns) -> str | None:
    for pattern in patterns:
        for match in pattern.finditer(query):
            name = match.group(1).strip(".")
            if name.lower() not in _NOT_A_TABLE:
                return name
    return None


def parse_describe(query: str) -> dict:
    """ "describe table stock_movements", "show the columns of the rfqs table" -> table=..."""
    name = _table_name(query, (_TABLE_AFTER, _TABLE_BEFORE, _AFTER_VERB))
    return {"table": name} if name else {}


def parse_statistics(query: str) -> dict:
    name = _table_name(query, (_TABLE_BEFORE, _TABLE_AFTER))
    return {"table": name} if name else {}


def parse_sql(query: str) -> dict:
    """The SQL inside a request: a code block or backticks, else from the first SQL keyword on."""
    code = _CODE.search(query)
    if code:
        return {"sql": (code.group(1) or code.group(2)).strip()}
    start = _SQL_START.search(query)
    return {"sql": query[start.start() :].strip()} if start else {}


# -- catalogue helpers -----------------------------------------------------------------------------


def _relations(db, tables: tuple[str, ...] = ()) -> list[dict]:
    """The user relations, or only the agent's own `tables` (name or schema.name) when it lists them."""
    rows = db.query(
        "SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind, "
        "greatest(c.reltuples, 0)::bigint AS estimated_rows, "
        "(SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) "
        f"AS columns {USER_RELATIONS} ORDER BY n.nspname <> 'public', n.nspname, c.relname",
        cap=1000,
    ).rows
    if not tables:
        return rows
    return [row for row in rows if row["name"] in tables or f"{row['schema']}.{row['name']}" in tables]


def _unquote(part: str) -> str:
    part = part.strip()
    return part[1:-1].replace('""', '"') if len(part) >= 2 and part[0] == part[-1] == '"' else part


def _find(db, table: str, tables: tuple[str, ...] = ()) -> dict:
    """The relation a user's `table` (or schema.table, any case, quotes optional) names."""
    schema, _, name = table.strip().rpartition(".")
    schema, name = _unquote(schema), _unquote(name)
    relations = _relations(db, tables)
    for exact in (True, False):
        for relation in relations:
            same = relation["name"] == name if exact else relation["name"].lower() == name.lower()
            if same and (not schema or relation["schema"].lower() == schema.lower()):
                return relation
    names = [r["name"] for r in relations]
    raise NotFound("table", table, closest(name, names, limit=30) if names else [], field="table")


def _row_count(db, relation: dict) -> tuple[int, bool]:
    """(rows, exact): count(*) for tables of reasonable size, else the planner's estimate."""
    from psycopg2 import sql

    if relation["kind"] in ("v", "f") or relation["estimated_rows"] > EXACT_COUNT_LIMIT:
        return relation["estimated_rows"], False
    statement = sql.SQL("SELECT count(*) AS n FROM {}.{}").format(
        sql.Identifier(relation["schema"]), sql.Identifier(relation["name"])
    )
    return db.query(statement).rows[0]["n"], True


# -- tools (TOOLS below: by name) -------------------------------------------------------------------------------------


def no_arguments(query: str) -> dict:
    return {}


@tool(parse=no_arguments)
def list_tables(ctx: ToolContext) -> ToolResult:
    """List the database's tables and views with schema, column count and estimated rows."""
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        rows = _relations(db, ctx.tables)
    for row in rows:
        row["type"] = RELATION_KINDS.get(row.pop("kind"), "table")
        row.pop("oid")
    if not rows:
        return ToolResult("The database has no tables.", [])
    schemas = sorted({r["schema"] for r in rows})
    names = ", ".join(r["name"] if r["schema"] == "public" else f"{r['schema']}.{r['name']}" for r in rows)
    return ToolResult(
        f"The database has {len(rows)} tables and views in {len(schemas)} schema"
        f"{'s' if len(schemas) != 1 else ''} ({', '.join(schemas)}): {names}.",
        rows,
    )


@tool(parse=parse_describe)
def describe_table(ctx: ToolContext, table: str) -> ToolResult:
    """Columns (type, nullable, default), keys, foreign keys, indexes and row count of one table.

    Args:
        table: table name, optionally schema.table.
    """
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        relation = _find(db, table, ctx.tables)
        columns = db.query(
            "SELECT a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable, "
            "pg_get_expr(d.adbin, d.adrelid) AS default, a.attgenerated = 's' AS generated "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            [relation["oid"]],
            cap=2000,
        ).rows
        constraints = db.query(
            "SELECT conname AS name, contype AS type, pg_get_constraintdef(oid) AS definition "
            "FROM pg_constraint WHERE conrelid = %s ORDER BY contype, conname",
            [relation["oid"]],
        ).rows
        indexes = db.query(
            "SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s ORDER BY 1",
            [relation["oid"]],
        ).rows
        rows, exact = _row_count(db, relation)
    data = {
        "schema": relation["schema"],
        "table": relation["name"],
        "type": RELATION_KINDS[relation["kind"]],
        "rows": rows,
        "rows_exact": exact,
        "columns": columns,
        "constraints": constraints,
        "indexes": indexes,
    }
    return ToolResult(_describe_summary(data), data)


def _describe_summary(data: dict) -> str:
    shown = ", ".join(f"{c['column']} ({c['type']})" for c in data["columns"][:25])
    more = f" and {len(data['columns']) - 25} more" if len(data["columns"]) > 25 else ""
    text = (
        f"{data['schema']}.{data['table']} ({data['type']}, {'' if data['rows_exact'] else '~'}{data['rows']:,} "
        f"rows) has {len(data['columns'])} columns: {shown}{more}."
    )
    keys = [c["definition"] for c in data["constraints"] if c["type"] in ("p", "f")]
    if keys:
        text += " Keys: " + "; ".join(keys) + "."
    return text


def _size(bytes_: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if bytes_ < 1024 or unit == "GB":
            return f"{bytes_:.0f} {unit}" if unit == "bytes" else f"{bytes_:.1f} {unit}"
        bytes_ /= 1024
    return ""


@tool(parse=parse_statistics)
def table_statistics(ctx: ToolContext, table: str | None = None) -> ToolResult:
    """Database size and, per table, row count and size on disk (table, indexes and TOAST).

    Args:
        table: only this table; omit for all.
    """
    with ReadOnlySession(ctx.settings, deadline=ctx.deadline) as db:
        database = db.query("SELECT current_database() AS name, pg_database_size(current_database()) AS bytes").rows[0]
        relations = (
            [_find(db, table, ctx.tables)]
            if table
            else [r for r in _relations(db, ctx.tables) if r["kind"] in ("r", "p", "m")]
        )
        rows = []
        for relation in relations[:100]:
            count, exact = _row_count(db, relation)
            size = db.query("SELECT pg_total_relation_size(%s) AS bytes", [relation["oid"]]).rows[0]["bytes"]
            rows.append(
                {
                    "schema": relation["schema"],
                    "table": relation["name"],
                    "rows": count,
                    "rows_exact": exact,
                    "bytes": size,
                    "size": _size(size),
                }
            )
    rows.sort(key=lambda r: -r["bytes"])
    data = {
        "database": database["name"],
        "database_bytes": database["bytes"],
        "database_size": _size(database["bytes"]),
        "tables": rows,
    }
    if table:
        r = rows[0]
        summary = f"{r['schema']}.{r['table']} has {r['rows']:,} rows and takes {r['size']} (database {data['database_size']})."
    else:
        largest = ", ".join(f"{r['table']} {r['rows']:,} rows ({r['size']})" for r in rows[:5])
        summary = (
            f"Database {database['name']} is {data['database_size']}; {len(rows)} tables hold "
            f"{sum(r['rows'] for r in rows):,} rows. Largest: {largest}."
        )
    return ToolResult(summary, data)


def _cell(value) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


@tool(parse=parse_sql)
def run_query(ctx: ToolContext, sql: str) -> ToolResult:
    """Run one read-only SQL query (SELECT/WITH/VALUES/EXPLAIN/SHOW); writes are refused.

    Args:
        sql: a single PostgreSQL SELECT statement.
    """
    result = run_sql(ctx.settings, sql, deadline=ctx.deadline)
    rows = result.rows
    if not rows:
        summary = f"The query returned no rows (columns: {', '.join(result.columns)})."
    elif len(rows) <= 5:
        rendered = "; ".join(", ".join(f"{k} = {_cell(v)}" for k, v in row.items()) for row in rows)
        summary = f"{len(rows)} row{'s' if len(rows) != 1 else ''}: {rendered}."
    else:
        summary = f"The query returned {len(rows)} rows (columns: {', '.join(result.columns)})."
    if result.truncated:
        summary += (
            f" Only the first {len(rows)} rows are shown (ORCHESTRATOR_SQL_ROW_CAP); more exist: "
            "aggregate or add a LIMIT."
        )
    return ToolResult(summary, result.to_json())


TOOLS = {
    function.__tool__.name: function.__tool__ for function in (list_tables, describe_table, table_statistics, run_query)
}
