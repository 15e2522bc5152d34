"""The PostgreSQL agents' tools against a real PostgreSQL: read-only guards, limits, and right numbers."""

from __future__ import annotations

import json
import re
import time

import psycopg2
import pytest

from skills.answers.data_tools import TOOLS
from skills.backends.database import ReadOnlySession, run_sql
from skills.backends.sql_guard import check_sql
from skills.config import Settings
from skills.errors import AgentNotConfigured, BadInput, ExecutionTimeout, NotFound, ToolRefused, UpstreamUnavailable
from skills.execution.tools import ToolContext

AGENTS_DIR = Settings({}).agents_dir
TABLES = ["contractors", "projects", "sites", "rfqs", "boq_items", "purchase_orders", "stock_movements"]


def tools_of(agent_id: str) -> dict:
    """The data agents' tools: the generic data tools (skills/answers/data_tools.py) for each of them."""
    assert agent_id in ("neon-database", "contractor-agent", "project-agent")
    return dict(TOOLS)


def call(settings, agent_id: str, tool_name: str, **arguments):
    return tools_of(agent_id)[tool_name].call(ToolContext(settings, agent_id), arguments)


def with_env(db_settings, **extra) -> Settings:
    return Settings({**db_settings.env, **extra})


@pytest.fixture
def sql_of(pg_target):
    """Run SQL independently of the code under test (plain psycopg2, autocommit)."""

    def run(statement: str, params=None, url: str | None = None):
        connection = psycopg2.connect(url or pg_target.url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall() if cursor.description else None
        finally:
            connection.close()

    return run


@pytest.fixture
def fingerprint(sql_of, pg_target):
    """Row counts, content checksums and sequence positions of the demo tables."""

    def take() -> dict:
        found = {}
        for table in TABLES:
            checksum = f"SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {table} t"
            found[table] = sql_of(checksum, url=pg_target.admin_url)[0]
        found["sequence"] = sql_of("SELECT last_value, is_called FROM contractors_id_seq", url=pg_target.admin_url)[0]
        return found

    return take


# -- the read-only guard ---------------------------------------------------------------------------

REFUSED_SQL = {
    "insert": "INSERT INTO contractors (name, kind, specialty, status, province, city, contact_person, phone, email, "
    "onboarded_on) VALUES ('X', 'vendor', 'x', 'active', 'Gauteng', 'Soweto', 'x', '1', 'x@x', now())",
    "update": "UPDATE projects SET budget = 0",
    "delete": "DELETE FROM rfqs",
    "drop": "DROP TABLE boq_items",
    "truncate": "TRUNCATE purchase_orders CASCADE",
    "copy": "COPY contractors TO STDOUT",
    "copy_from": "COPY contractors FROM STDIN",
    "select_for_update": "SELECT * FROM contractors FOR UPDATE",
    "for_share": "SELECT id FROM projects FOR NO KEY UPDATE",
    "nextval": "SELECT nextval('contractors_id_seq')",
    "quoted_nextval": "SELECT \"nextval\"('contractors_id_seq')",
    "setval": "SELECT setval('contractors_id_seq', 1)",
    "set_config": "SELECT set_config('default_transaction_read_only', 'off', false)",
    "multiple": "SELECT 1; DELETE FROM rfqs",
    "commit_escape": "SELECT 1; COMMIT; SET default_transaction_read_only = off; DELETE FROM rfqs",
    "string_then_statement": "SELECT 'a;b'; DROP TABLE sites",
    "writable_cte": "WITH gone AS (DELETE FROM rfqs RETURNING *) SELECT count(*) FROM gone",
    "select_into": "SELECT * INTO contractors_copy FROM contractors",
    "create": "CREATE TABLE sneaky (id int)",
    "do_block": "DO $$ BEGIN DELETE FROM rfqs; END $$",
    "query_to_xml": "SELECT query_to_xml('select nextval(''contractors_id_seq'')', true, false, '')",
    "advisory_lock": "SELECT pg_advisory_lock(42)",
    "explain_analyze_delete": "EXPLAIN ANALYZE DELETE FROM rfqs",
}


@pytest.mark.parametrize("name", sorted(REFUSED_SQL))
def test_run_query_refuses_writes_and_changes_nothing(db_settings, fingerprint, name):
    before = fingerprint()
    with pytest.raises(ToolRefused):
        call(db_settings, "neon-database", "run_query", sql=REFUSED_SQL[name])
    assert fingerprint() == before


SERVER_REFUSED = {
    "insert": "INSERT INTO rfqs SELECT * FROM rfqs LIMIT 1",
    "update": "UPDATE projects SET spend = spend + 1",
    "delete": "DELETE FROM rfqs",
    "drop": "DROP TABLE boq_items",
    "truncate": "TRUNCATE purchase_orders CASCADE",
    "select_for_update": "SELECT * FROM contractors FOR UPDATE",
    "nextval": "SELECT nextval('contractors_id_seq')",
    "writable_cte": "WITH gone AS (DELETE FROM rfqs RETURNING *) SELECT count(*) FROM gone",
    "create": "CREATE TABLE sneaky (id int)",
}


@pytest.mark.parametrize("name", sorted(SERVER_REFUSED))
def test_the_read_only_transaction_refuses_writes_even_for_a_superuser(pg_target, fingerprint, name):
    """The text pre-check is bypassed here: PostgreSQL's READ ONLY transaction is the guard.

    The role check would refuse a superuser at connect, so the override lets it through here."""
    admin = Settings({"DATABASE_URL": pg_target.admin_url, "ORCHESTRATOR_ALLOW_PRIVILEGED_DATABASE": "1"})
    before = fingerprint()
    with ReadOnlySession(admin) as db, pytest.raises(ToolRefused) as refused:
        db.query(SERVER_REFUSED[name])
    assert "read-only" in refused.value.message
    assert fingerprint() == before


def test_terminating_another_backend_is_refused_and_it_survives(db_settings, pg_target):
    other = psycopg2.connect(pg_target.url)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with pytest.raises(ToolRefused):
            call(db_settings, "neon-database", "run_query", sql=f"SELECT pg_terminate_backend({pid})")
        with other.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    finally:
        other.close()


def test_session_runs_read_only_with_the_configured_timeout(db_settings):
    settings = with_env(db_settings, ORCHESTRATOR_SQL_TIMEOUT_MS="1234")
    with ReadOnlySession(settings) as db:
        row = db.query(
            "SELECT current_setting('transaction_read_only') AS ro, current_setting('statement_timeout') AS timeout"
        ).rows[0]
    assert row == {"ro": "on", "timeout": "1234ms"}


@pytest.mark.parametrize(
    "text",
    [
        "select ';' as semicolon",
        "select $$;$$ as dollar, $tag$ ; drop $tag$ as tagged",
        "select E'\\';' as escaped",
        "select 1 -- ; drop table x\n",
        "select /* ; nested /* ; */ still comment ; */ 1",
        "select 1;",
        'select "semi;colon" from (select 1 as "semi;colon") q',
    ],
)
def test_semicolons_inside_literals_and_comments_are_one_statement(db_settings, text):
    assert check_sql(text).keyword == "select"
    run_sql(db_settings, text)  # PostgreSQL agrees it is one valid statement


def still_running(sql_of, marker: str) -> int:
    """How many statements carrying `marker` the server is still executing (the checker aside)."""
    rows = sql_of(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE %s",
        (f"%{marker}%",),
    )
    return rows[0][0]


def test_statement_timeout_cancels_a_slow_query(db_settings, sql_of):
    settings = with_env(db_settings, ORCHESTRATOR_SQL_TIMEOUT_MS="300")
    with pytest.raises(ExecutionTimeout) as timeout:
        call(settings, "neon-database", "run_query", sql="SELECT pg_sleep(600) AS cut_by_statement_timeout")
    assert "cancelled after 300 ms" in timeout.value.message
    assert still_running(sql_of, "cut_by_statement_timeout") == 0  # cancelled on the server, not abandoned


def test_a_tool_deadline_shortens_the_statement_timeout(db_settings, sql_of):
    settings = with_env(db_settings, ORCHESTRATOR_SQL_TIMEOUT_MS="600000")  # ten minutes: only the deadline can cut
    ctx = ToolContext(settings, "neon-database", deadline=time.monotonic() + 2)
    with pytest.raises(ExecutionTimeout) as timeout:
        tools_of("neon-database")["run_query"].call(ctx, {"sql": "SELECT pg_sleep(600) AS cut_by_deadline"})
    used_ms = int(re.search(r"cancelled after (\d+) ms", timeout.value.message).group(1))
    assert 0 < used_ms <= 2000  # the statement got what was left of the deadline, not the configured limit
    assert still_running(sql_of, "cut_by_deadline") == 0


def test_row_cap_truncates_and_says_so(db_settings, sql_of):
    settings = with_env(db_settings, ORCHESTRATOR_SQL_ROW_CAP="5")
    result = call(settings, "neon-database", "run_query", sql="SELECT * FROM installations ORDER BY id")
    assert result.data["row_count"] == 5 and result.data["truncated"] is True
    assert [row["id"] for row in result.data["rows"]] == [
        row[0] for row in sql_of("SELECT id FROM installations ORDER BY id LIMIT 5")
    ]
    assert "ORCHESTRATOR_SQL_ROW_CAP" in result.summary
    exact = call(settings, "neon-database", "run_query", sql="SELECT id FROM contractors ORDER BY id LIMIT 5")
    assert exact.data["row_count"] == 5 and exact.data["truncated"] is False


def test_results_are_plain_json(db_settings):
    result = call(
        db_settings,
        "neon-database",
        "run_query",
        sql="SELECT budget, start_date, now() AS at, interval '1 day' AS span, homes_passed FROM projects LIMIT 2",
    )
    row = result.data["rows"][0]
    assert isinstance(row["budget"], (int, float)) and isinstance(row["start_date"], str)
    assert row["span"] == 86400.0 and isinstance(row["homes_passed"], int)
    json.dumps(result.data)


def test_sql_errors_are_bad_input_naming_the_field(db_settings):
    with pytest.raises(BadInput) as bad:
        call(db_settings, "neon-database", "run_query", sql="SELECT no_such_column FROM contractors")
    assert bad.value.field == "sql" and "no_such_column" in bad.value.message


# -- identifiers and the catalogue -----------------------------------------------------------------


def test_describe_table_lists_columns_and_keys(db_settings, sql_of):
    result = call(db_settings, "neon-database", "describe_table", table="rfqs")
    expected = [
        r[0]
        for r in sql_of(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = 'rfqs' ORDER BY ordinal_position"
        )
    ]
    assert [c["column"] for c in result.data["columns"]] == expected
    assert result.data["rows"] == sql_of("SELECT count(*) FROM rfqs")[0][0]
    assert "REFERENCES contractors(id)" in result.summary


def test_describe_a_missing_table_names_the_tables_that_exist(db_settings):
    with pytest.raises(NotFound) as missing:
        call(db_settings, "neon-database", "describe_table", table="no_such_table")
    assert missing.value.field == "table"
    assert "no_such_table" in missing.value.message and "contractors" in missing.value.message


@pytest.mark.parametrize("tool", ["describe_table", "table_statistics"])
def test_a_table_name_cannot_inject_sql(db_settings, fingerprint, tool):
    before = fingerprint()
    for hostile in ['rfqs"; DROP TABLE rfqs; --', "rfqs' OR '1'='1", "rfqs; DELETE FROM rfqs", 'public."rfqs" x']:
        with pytest.raises(NotFound):
            call(db_settings, "neon-database", tool, table=hostile)
    assert fingerprint() == before


def test_a_strangely_named_table_is_counted_through_a_quoted_identifier(db_settings, pg_target, sql_of):
    sql_of(
        'CREATE SCHEMA IF NOT EXISTS quoting_test; CREATE TABLE quoting_test."odd""name; drop" (id int); '
        'INSERT INTO quoting_test."odd""name; drop" VALUES (1), (2), (3); '
        "GRANT USAGE ON SCHEMA quoting_test TO PUBLIC; GRANT SELECT ON ALL TABLES IN SCHEMA quoting_test TO PUBLIC",
        url=pg_target.admin_url,
    )
    try:
        result = call(db_settings, "neon-database", "table_statistics", table='quoting_test.odd"name; drop')
        assert result.data["tables"][0]["rows"] == 3
        assert result.data["tables"][0]["table"] == 'odd"name; drop'
    finally:
        sql_of("DROP SCHEMA quoting_test CASCADE", url=pg_target.admin_url)


def test_list_tables_and_statistics_agree_with_the_catalogue(db_settings, sql_of):
    listed = call(db_settings, "neon-database", "list_tables")
    expected = {r[0] for r in sql_of("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert {r["name"] for r in listed.data if r["schema"] == "public"} == expected
    stats = call(db_settings, "neon-database", "table_statistics")
    counts = {t["table"]: t["rows"] for t in stats.data["tables"]}
    assert counts["installations"] == sql_of("SELECT count(*) FROM installations")[0][0]
    assert stats.data["database_bytes"] == sql_of("SELECT pg_database_size(current_database())")[0][0]


def test_no_database_configured_says_what_to_do(tmp_path):
    settings = Settings({"ORCHESTRATOR_STATE_DIR": str(tmp_path)})
    with pytest.raises(AgentNotConfigured) as missing:
        call(settings, "contractor-agent", "list_tables")
    assert "NEON_DATABASE_URL" in missing.value.message and "bin/demo_database start" in missing.value.message


def test_a_wrong_password_is_reported_without_the_password(pg_url):
    settings = Settings({"DATABASE_URL": _with_password(pg_url, "Sup3r-Secret-Pw")})
    with pytest.raises(UpstreamUnavailable) as failed:
        call(settings, "neon-database", "list_tables")
    assert "Sup3r-Secret-Pw" not in json.dumps(failed.value.to_json())


def test_an_unreachable_server_is_reported_without_the_password():
    settings = Settings({"DATABASE_URL": "postgresql://agent:Hidden-Pw-99@127.0.0.1:1/fibreflow"})
    with pytest.raises(UpstreamUnavailable) as failed:
        call(settings, "contractor-agent", "list_tables")
    assert "Hidden-Pw-99" not in failed.value.message and "127.0.0.1:1" in failed.value.message


def test_a_malformed_url_is_reported_without_the_password():
    settings = Settings({"DATABASE_URL": "postgresql://agent:Hidden-Pw-77@127.0.0.1:notaport/fibreflow?bogus=1"})
    with pytest.raises((AgentNotConfigured, UpstreamUnavailable)) as failed:
        call(settings, "project-agent", "list_tables")
    assert "Hidden-Pw-77" not in failed.value.message


def _with_password(url: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1) if "@" in rest else ("postgres", rest)
    return f"{scheme}://{credentials.split(':', 1)[0]}:{password}@{host}"


# -- the offline fast path: arguments from the user's words ------------------------------------------

PARSES = [
    ("neon-database", "list_tables", "How many tables are in the database?", {}),
    ("neon-database", "describe_table", "describe table stock_movements", {"table": "stock_movements"}),
    ("neon-database", "describe_table", "show the columns of the rfqs table", {"table": "rfqs"}),
    ("neon-database", "describe_table", "Show me the schema of the boq_items table", {"table": "boq_items"}),
    ("neon-database", "table_statistics", "how many rows does each table have", {}),
    ("neon-database", "table_statistics", "what is the size of the database", {}),
    ("neon-database", "table_statistics", "how big is the installations table", {"table": "installations"}),
    ("neon-database", "run_query", "run this SQL select count(*) from rfqs", {"sql": "select count(*) from rfqs"}),
    ("neon-database", "run_query", "please run `SELECT 1`", {"sql": "SELECT 1"}),
    ("neon-database", "run_query", "Run a SQL query for total RFQ value by supplier", {}),
]


@pytest.mark.parametrize("agent_id, tool, query, expected", PARSES)
def test_parse_pulls_arguments_out_of_the_users_words(agent_id, tool, query, expected):
    assert tools_of(agent_id)[tool].parse(query) == expected


def test_each_agent_prompt_and_tool_schemas_stay_small():
    from skills.execution.tools import load_agent_prompt

    for agent_id in ("neon-database", "contractor-agent", "project-agent"):
        text = load_agent_prompt(AGENTS_DIR, agent_id)
        text += json.dumps([t.schema_for_model() for t in tools_of(agent_id).values()])
        assert len(text) / 4 < 1100, f"{agent_id}: about {len(text) // 4} tokens"
