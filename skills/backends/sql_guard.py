"""The check on free SQL: PostgreSQL's own grammar decides what the text is, an allow-list what may run.

Free SQL comes from a person or from a model that a document may have prompt-injected, so this
allows rather than blocks. The text is parsed by pglast (libpg_query: the server's own parser), so
comments ending at a carriage return, `U&"\\0070g_read_file"`, quoting and dollar quotes are read
exactly as PostgreSQL reads them. What may pass:

- exactly one statement, a SELECT (WITH ... SELECT, VALUES and TABLE are SELECT trees) or an
  EXPLAIN of one without ANALYZE;
- no INTO, no FOR UPDATE/SHARE, no data-modifying CTE, no other statement nested anywhere;
- function calls only from ALLOWED_FUNCTIONS (aggregates, string, math, date/time, JSON, and the
  catalog readers the data tools use), compared after the parser resolved escapes and quoting,
  `pg_catalog.x` the same as `x`, any other schema refused.

The statement the database then receives is the tree deparsed back to text (`CheckedSQL.text`),
never the caller's string, so nothing the checker did not see can ride along. The database
enforces too (skills/backends/database.py): a read-only session whose timeouts and
`standard_conforming_strings` a SELECT cannot change, opened with a role that cannot write.
"""

from __future__ import annotations

from dataclasses import dataclass

from skills.errors import BadInput, ToolRefused

STREAMABLE_KEYWORDS = {"select"}  # may run as a server-side cursor (EXPLAIN may not)

AGGREGATES = """
count sum avg min max bool_and bool_or every string_agg array_agg json_agg jsonb_agg json_object_agg
jsonb_object_agg stddev stddev_pop stddev_samp variance var_pop var_samp percentile_cont percentile_disc
mode corr covar_pop covar_samp regr_slope regr_intercept regr_count regr_r2 bit_and bit_or
row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
grouping
"""
STRINGS = """
lower upper initcap length char_length character_length octet_length bit_length concat concat_ws
substring substr left right trim btrim ltrim rtrim lpad rpad replace translate position strpos
split_part string_to_array array_to_string regexp_replace regexp_match regexp_matches regexp_split_to_array
regexp_split_to_table regexp_like regexp_count regexp_substr starts_with reverse repeat format md5 encode
decode to_hex ascii chr quote_ident quote_literal quote_nullable unaccent similarity normalize overlay
ilike like
"""
MATHS = """
abs ceil ceiling floor round trunc sign sqrt cbrt power pow exp ln log log10 mod div greatest least
random pi degrees radians sin cos tan asin acos atan atan2 width_bucket gcd lcm factorial
scale min_scale trim_scale
"""
DATES = """
now current_date current_time current_timestamp localtime localtimestamp clock_timestamp statement_timestamp
transaction_timestamp timeofday date_trunc date_part extract age make_date make_time make_timestamp
make_timestamptz make_interval to_char to_date to_timestamp to_number justify_days justify_hours
justify_interval isfinite date_bin generate_series timezone overlaps
"""
JSON = """
to_json to_jsonb row_to_json array_to_json json_build_object jsonb_build_object json_build_array
jsonb_build_array json_object jsonb_object json_array_length jsonb_array_length json_array_elements
jsonb_array_elements json_array_elements_text jsonb_array_elements_text json_each jsonb_each json_each_text
jsonb_each_text json_extract_path jsonb_extract_path json_extract_path_text jsonb_extract_path_text
json_object_keys jsonb_object_keys json_typeof jsonb_typeof jsonb_strip_nulls json_strip_nulls jsonb_pretty
jsonb_set jsonb_insert jsonb_path_query jsonb_path_query_array jsonb_path_query_first jsonb_path_exists
jsonb_path_match json_populate_record jsonb_populate_record json_to_record jsonb_to_record
"""
CONDITIONALS_AND_ARRAYS = """
coalesce nullif array_length array_lower array_upper cardinality array_position array_positions
array_remove array_replace array_append array_prepend array_cat unnest array_dims
"""
CATALOG_READERS = """
pg_size_pretty pg_total_relation_size pg_relation_size pg_table_size pg_indexes_size pg_database_size
pg_column_size current_database current_schema current_schemas current_user session_user version
format_type pg_get_constraintdef pg_get_indexdef pg_get_viewdef pg_get_expr obj_description col_description
pg_typeof to_regclass to_regtype has_table_privilege has_schema_privilege has_column_privilege
pg_table_is_visible pg_postmaster_start_time pg_backend_pid pg_sleep
"""
ALLOWED_FUNCTIONS = frozenset(
    f"{AGGREGATES} {STRINGS} {MATHS} {DATES} {JSON} {CONDITIONALS_AND_ARRAYS} {CATALOG_READERS}".split()
)
NESTED_STATEMENTS_ALLOWED = {"RawStmt", "SelectStmt", "ExplainStmt"}


@dataclass(frozen=True)
class CheckedSQL:
    text: str  # the single checked statement as PostgreSQL's deparser writes it: what is sent
    keyword: str  # "select" or "explain"

    @property
    def streamable(self) -> bool:
        return self.keyword in STREAMABLE_KEYWORDS


def _refused(message: str) -> ToolRefused:
    return ToolRefused(message, field="sql")


def _parse(text: str) -> list:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        return list(parse_sql(text))
    except ParseError as error:
        raise BadInput(f"PostgreSQL cannot parse the SQL: {error}", field="sql") from None


def _function_name(names: tuple) -> str:
    """The called function's name; refused unless unqualified or in pg_catalog."""
    parts = [getattr(part, "sval", "") for part in names]
    *schema, name = parts
    if schema and schema != ["pg_catalog"]:
        raise _refused(f"{'.'.join(parts)}() is not a built-in function; only built-in read-only functions may run")
    return name


def _check_node(node) -> None:
    from pglast import ast

    kind = type(node).__name__
    if kind.endswith("Stmt") and kind not in NESTED_STATEMENTS_ALLOWED:
        verb = kind.removesuffix("Stmt").upper()
        raise _refused(f"{verb} changes the database or its session; only a single SELECT (or EXPLAIN) may run")
    if isinstance(node, ast.SelectStmt):
        if node.intoClause is not None:
            raise _refused("SELECT ... INTO creates a table and is not allowed: remove INTO")
        if node.lockingClause:
            raise _refused(
                "SELECT ... FOR UPDATE/SHARE takes row locks for a write and is not allowed: remove the locking clause"
            )
    elif isinstance(node, ast.FuncCall):
        name = _function_name(node.funcname)
        if name not in ALLOWED_FUNCTIONS:
            raise _refused(
                f"{name}() is not on the list of read-only functions a query may call (aggregates, string, "
                "maths, date, JSON and catalog readers); rewrite the query without it"
            )


def _walk(node) -> None:
    from pglast.visitors import Visitor

    class Checker(Visitor):
        def visit(self, ancestors, visited) -> None:
            _check_node(visited)

    Checker()(node)


def _keyword(statement) -> str:
    from pglast import ast

    if isinstance(statement, ast.SelectStmt):
        return "select"
    if isinstance(statement, ast.ExplainStmt):
        if any(option.defname == "analyze" for option in statement.options or ()):
            raise _refused("EXPLAIN ANALYZE runs the statement; use EXPLAIN without ANALYZE")
        if not isinstance(statement.query, ast.SelectStmt):
            raise _refused("EXPLAIN is allowed only for a SELECT")
        return "explain"
    verb = type(statement).__name__.removesuffix("Stmt").upper()
    raise _refused(f"{verb} is not a read-only query; only SELECT, WITH ... SELECT, VALUES, TABLE and EXPLAIN may run")


def check_sql(text: str) -> CheckedSQL:
    """The statement to send if `text` is one read-only query; ToolRefused/BadInput otherwise."""
    from pglast.stream import RawStream

    if not isinstance(text, str) or not text.strip():
        raise BadInput("give one SQL query, e.g. SELECT count(*) FROM contractors", field="sql")
    statements = _parse(text)
    if not statements:
        raise BadInput("the SQL has no statement in it, only comments", field="sql")
    if len(statements) > 1:
        raise _refused(
            f"one statement per query: this SQL has {len(statements)} statements separated by ';'; "
            "send them one at a time"
        )
    statement = statements[0].stmt
    keyword = _keyword(statement)
    _walk(statement)
    return CheckedSQL(RawStream()(statement), keyword)
