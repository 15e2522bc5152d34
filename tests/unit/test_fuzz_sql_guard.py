"""Fuzzing the SQL guard against the real PostgreSQL: no write ever reaches the database.

Hypothesis builds statements from reads and writes (and ways of hiding a write: other case,
comments, literals holding semicolons, several statements, writable CTEs, functions with side
effects) and runs them as the database agent does, but as the cluster's superuser, so that
only the guard and the read-only transaction stand in the way. Every outcome must be an answer
or one of our JSON errors, and the tables, their checksums and the sequence must not move.
"""

from __future__ import annotations

import psycopg2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skills.backends.database import run_sql
from skills.backends.sql_guard import check_sql
from skills.config import Settings
from skills.errors import BadInput, OrchestratorError, ToolRefused

TABLES = ["contractors", "projects", "sites", "rfqs", "boq_items", "purchase_orders", "stock_movements"]
READS = [
    "SELECT 1",
    "SELECT count(*) FROM contractors",
    "WITH x AS (SELECT id FROM rfqs) SELECT count(*) FROM x",
    "VALUES (1)",
    "TABLE rfqs",
    "SHOW server_version",
    "EXPLAIN SELECT * FROM sites",
    "SELECT 'a;b' AS text",
    "SELECT $$;DELETE FROM rfqs$$ AS dollar",
]
WRITES = [
    "INSERT INTO rfqs SELECT * FROM rfqs LIMIT 1",
    "UPDATE projects SET spend = spend + 1",
    "DELETE FROM rfqs",
    "DROP TABLE boq_items",
    "TRUNCATE purchase_orders CASCADE",
    "SELECT nextval('contractors_id_seq')",
    "SELECT \"setval\"('contractors_id_seq', 1)",
    "SELECT pg_catalog.setval('contractors_id_seq', 1)",
    "CREATE TABLE sneaky (id int)",
    "SELECT * INTO sneaky FROM contractors",
    "ALTER TABLE sites ADD COLUMN sneaky int",
    "GRANT ALL ON contractors TO PUBLIC",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SET default_transaction_read_only = off",
    "COMMIT",
    "BEGIN READ WRITE",
    "LOCK TABLE rfqs",
    "DO $$ BEGIN DELETE FROM rfqs; END $$",
    "PREPARE sneaky AS DELETE FROM rfqs",
    "WITH gone AS (DELETE FROM rfqs RETURNING *) SELECT count(*) FROM gone",
    "EXPLAIN ANALYZE DELETE FROM rfqs",
    "SELECT * FROM contractors FOR UPDATE",
    "SELECT query_to_xml('delete from rfqs returning 1', true, false, '')",
    "VALUES ((SELECT nextval('contractors_id_seq')))",
]
JOINERS = ["; ", ";\n", " ; -- note\n", ";/* x */", "\n;\n"]
DECORATIONS = ["", " ", "\n", "\t", "/* c */ ", "-- c\n", "(", "  /* ; */ "]


def _recase(text: str, style: int) -> str:
    return [text, text.upper(), text.lower(), text.swapcase()][style]


statements = st.lists(st.sampled_from(READS) | st.sampled_from(WRITES), min_size=1, max_size=3)
sql_texts = st.builds(
    lambda parts, joiner, before, style: before + _recase(joiner.join(parts), style),
    statements,
    st.sampled_from(JOINERS),
    st.sampled_from(DECORATIONS),
    st.integers(0, 3),
)


@pytest.fixture(scope="module")
def superuser(pg_target) -> Settings:
    # the override: the role check would refuse a superuser before the guard is ever reached
    return Settings(
        {
            "DATABASE_URL": pg_target.admin_url,
            "ORCHESTRATOR_SQL_TIMEOUT_MS": "3000",
            "ORCHESTRATOR_ALLOW_PRIVILEGED_DATABASE": "1",
        }
    )


@pytest.fixture(scope="module")
def fingerprint(pg_target):
    def take() -> list:
        connection = psycopg2.connect(pg_target.admin_url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                found = []
                for table in TABLES:
                    cursor.execute(
                        f"SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {table} t"
                    )
                    found.append(cursor.fetchone())
                cursor.execute("SELECT last_value, is_called FROM contractors_id_seq")
                found.append(cursor.fetchone())
                cursor.execute("SELECT count(*) FROM pg_class WHERE relname = 'sneaky'")
                found.append(cursor.fetchone())
                cursor.execute("SELECT count(*) FROM information_schema.columns WHERE column_name = 'sneaky'")
                found.append(cursor.fetchone())
                return found
        finally:
            connection.close()

    return take


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=sql_texts)
def test_no_generated_statement_writes_even_as_superuser(superuser, fingerprint, text):
    before = fingerprint()
    try:
        run_sql(superuser, text)
    except OrchestratorError as error:
        assert error.code in {"tool_refused", "bad_input", "upstream_unavailable", "timeout"}, error.to_json()
    assert fingerprint() == before, text


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80) | sql_texts.map(lambda t: t[: len(t) // 2]))
def test_the_guard_answers_any_text_with_a_statement_or_a_refusal(text):
    try:
        checked = check_sql(text)
    except (BadInput, ToolRefused) as error:
        assert error.field == "sql"
        return
    assert checked.keyword in {"select", "explain"}
