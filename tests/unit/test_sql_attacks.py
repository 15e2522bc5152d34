"""Issue 21's attacks on free SQL, against the real PostgreSQL with three roles.

The superuser and a writer are used with ORCHESTRATOR_ALLOW_PRIVILEGED_DATABASE=1 where the point
is that the guard and the read-only session alone stop the attack; without it they are refused at
connect. The reader is the demo's role, which is how production should run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import psycopg2
import pytest
from psycopg2.extensions import make_dsn

from skills.backends.database import ReadOnlySession, run_sql
from skills.config import Settings
from skills.errors import AgentNotConfigured, DatabaseRoleUnsafe, ToolRefused
from tests.fixtures.fake_anthropic import reply_text, reply_tool_use
from tests.fixtures.scripts import ROOT

OVERRIDE = {"ORCHESTRATOR_ALLOW_PRIVILEGED_DATABASE": "1"}
CANARY_ROWS = 3


def admin_run(admin_url: str, *statements: str) -> list:
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            found = None
            for statement in statements:
                cursor.execute(statement)
                found = cursor.fetchall() if cursor.description else None
            return found
    finally:
        connection.close()


@pytest.fixture(scope="module")
def roles(pg_target):
    """URLs of the superuser, a writer of the canary table, the same writer with standard_conforming_strings
    off, and the reader; the canary table is dropped at the end."""
    admin = pg_target.admin_url
    admin_run(
        admin,
        "DROP TABLE IF EXISTS sqlsec_canary",
        "CREATE TABLE sqlsec_canary (id int)",
        f"INSERT INTO sqlsec_canary SELECT generate_series(1, {CANARY_ROWS})",
    )
    for role, extra in [
        ("sqlsec_writer", ""),
        ("sqlsec_scs_off", "ALTER ROLE sqlsec_scs_off SET standard_conforming_strings = off"),
    ]:
        admin_run(
            admin,
            f"DROP ROLE IF EXISTS {role}",
            f"CREATE ROLE {role} LOGIN PASSWORD '{role}-pw'",
            f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT SELECT, INSERT, DELETE ON sqlsec_canary TO {role}",
            *([extra] if extra else []),
        )
    yield {
        "superuser": admin,
        "writer": make_dsn(admin, user="sqlsec_writer", password="sqlsec_writer-pw"),
        "scs_off": make_dsn(admin, user="sqlsec_scs_off", password="sqlsec_scs_off-pw"),
        "reader": pg_target.url,
    }
    admin_run(
        admin,
        "DROP TABLE IF EXISTS sqlsec_canary",
        "DROP OWNED BY sqlsec_writer, sqlsec_scs_off",
        "DROP ROLE sqlsec_writer",
        "DROP ROLE sqlsec_scs_off",
    )


def canary_count(roles) -> int:
    return admin_run(roles["superuser"], "SELECT count(*) FROM sqlsec_canary")[0][0]


def settings_for(url: str, **extra: str) -> Settings:
    return Settings({"DATABASE_URL": url, **extra})


CR_COMMIT_DELETE = "SELECT 1 --\r; COMMIT; DELETE FROM sqlsec_canary"
CR_LIFT_TIMEOUT = "SELECT 1 --\r; COMMIT; SET statement_timeout = 0; SELECT pg_sleep(20)"
U_AND_CALLS = {
    "pg_read_file": "SELECT U&\"\\0070g_read_file\"('/etc/passwd')",
    "pg_ls_dir": "SELECT U&\"\\0070g_ls_dir\"('.')",
    "lo_import": "SELECT U&\"\\006co_import\"('/etc/passwd')",
    "pg_terminate_backend": 'SELECT U&"\\0070g_terminate_backend"(pg_backend_pid())',
    "pg_advisory_lock": 'SELECT U&"\\0070g_advisory_lock"(42)',
    "pg_notify": "SELECT U&\"\\0070g_notify\"('c', 'x')",
    "qualified": "SELECT pg_catalog.U&\"\\0070g_read_file\"('/etc/passwd')",
    "ts_rewrite": "SELECT ts_rewrite('a'::tsquery, 'DELETE FROM sqlsec_canary RETURNING 1')",
    "set_config": "SELECT set_config('statement_timeout', '0', false), pg_sleep(20)",
}


@pytest.mark.parametrize("role", ["superuser", "writer"])
def test_a_carriage_return_comment_cannot_smuggle_a_commit_and_delete(roles, role):
    with pytest.raises(ToolRefused) as refused:
        run_sql(settings_for(roles[role], **OVERRIDE), CR_COMMIT_DELETE)
    assert "3 statements" in refused.value.message
    assert canary_count(roles) == CANARY_ROWS


def test_a_carriage_return_comment_cannot_lift_the_timeout_for_a_long_sleep(roles):
    started = time.monotonic()
    with pytest.raises(ToolRefused):
        run_sql(settings_for(roles["reader"], ORCHESTRATOR_SQL_TIMEOUT_MS="500"), CR_LIFT_TIMEOUT)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("name", sorted(U_AND_CALLS))
def test_escaped_and_qualified_function_names_are_refused_even_for_a_superuser(roles, name):
    with pytest.raises(ToolRefused) as refused:
        run_sql(settings_for(roles["superuser"], **OVERRIDE), U_AND_CALLS[name])
    assert refused.value.field == "sql"
    assert canary_count(roles) == CANARY_ROWS


def test_backslash_quote_with_standard_conforming_strings_off_sends_only_the_checked_statement(roles):
    # The guard (standard strings) reads one SELECT of 'x\' with a comment after it; a server with
    # standard_conforming_strings off would read 'x\' AS a -- ' and then a DELETE.
    attack = "SELECT 'x\\' AS a -- ' ; DELETE FROM sqlsec_canary"
    result = run_sql(settings_for(roles["scs_off"], **OVERRIDE), attack)
    assert result.rows == [{"a": "x\\"}]
    assert canary_count(roles) == CANARY_ROWS


def test_a_commit_sent_past_the_guard_still_leaves_the_session_read_only(roles):
    """Session-level read-only: even a COMMIT that bypassed the guard starts another read-only transaction."""
    with ReadOnlySession(settings_for(roles["writer"], **OVERRIDE, ORCHESTRATOR_SQL_TIMEOUT_MS="1500")) as db:
        db.query("COMMIT")
        with pytest.raises(ToolRefused) as refused:
            db.query("DELETE FROM sqlsec_canary")
        assert "read-only" in refused.value.message
        db.query("ROLLBACK")
        row = db.query(
            "SELECT current_setting('statement_timeout') AS t, current_setting('standard_conforming_strings') AS s"
        ).rows[0]
    assert row == {"t": "1500ms", "s": "on"}
    assert canary_count(roles) == CANARY_ROWS


# -- the role behind the URL ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["superuser", "writer"])
def test_a_privileged_role_is_refused_at_connect_naming_what_to_grant(roles, role):
    with pytest.raises(DatabaseRoleUnsafe) as unsafe:
        run_sql(settings_for(roles[role]), "SELECT 1 AS one")
    body = unsafe.value.to_json()
    assert body["code"] == "database_role_unsafe" and body["field"] == "database"
    assert "GRANT SELECT ON ALL TABLES" in body["error"]
    assert ("superuser" if role == "superuser" else "can write public.sqlsec_canary") in body["error"]
    assert "-pw" not in body["error"]


def test_the_override_lets_a_superuser_through_with_a_warning(roles, caplog):
    from skills.backends import database_role

    database_role._warned.discard(roles["superuser"])
    with caplog.at_level("WARNING", logger="skills.backends.database"):
        assert run_sql(settings_for(roles["superuser"], **OVERRIDE), "SELECT 1 AS one").rows == [{"one": 1}]
    assert any("ORCHESTRATOR_ALLOW_PRIVILEGED_DATABASE" in r.getMessage() for r in caplog.records)


def test_the_reader_role_works_and_is_checked_once_per_url(roles):
    from skills.backends import database_role

    database_role._facts.pop(roles["reader"], None)
    settings = settings_for(roles["reader"])
    assert run_sql(settings, "SELECT count(*) AS n FROM contractors").rows[0]["n"] > 0
    assert roles["reader"] in database_role._facts
    before = dict(database_role._facts)
    run_sql(settings, "SELECT 1 AS one")
    assert database_role._facts == before


# -- bytes bounded -----------------------------------------------------------------------------------

BIG_ROWS = "SELECT repeat('x', 2500000) AS blob FROM generate_series(1, 200)"


def test_a_result_is_capped_in_bytes_and_says_truncated(roles):
    settings = settings_for(roles["reader"], ORCHESTRATOR_SQL_RESULT_BYTES="6000000")
    result = run_sql(settings, BIG_ROWS)
    assert result.truncated is True and result.to_json()["truncated_by"] == "bytes"
    assert len(result.rows) == 2
    assert len(json.dumps(result.to_json())) <= 6_000_000 + 1000


def test_big_rows_do_not_take_the_process_past_a_bound(roles):
    """200 rows of 2.5 MB (500 MB in all) fetched in a fresh process: its peak memory stays near the cap."""
    program = textwrap.dedent(
        f"""
        import json, resource, sys
        from skills.backends.database import run_sql
        from skills.config import Settings
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = run_sql(Settings({{"DATABASE_URL": sys.argv[1]}}), {BIG_ROWS!r})
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"grew_kb": peak - base, "rows": len(result.rows), "truncated": result.truncated}}))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", program, roles["reader"]],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT},
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert found["truncated"] is True and found["rows"] == 0  # one 2.5 MB row is past the 1 MB default
    assert found["grew_kb"] < 120_000, found  # unbounded, this is over 500 MB


# -- through the scripts and a model ---------------------------------------------------------------


def test_run_this_sql_through_execute_agent_is_refused_and_writes_nothing(roles, script):
    run = script(
        "execute_agent",
        "--agent",
        "neon-database",
        "--query",
        "run this SQL: " + U_AND_CALLS["pg_read_file"],
        env={"DATABASE_URL": roles["superuser"], **OVERRIDE},
    )
    assert run.returncode != 0, run.stdout
    assert run.json["code"] == "tool_refused" and "root:" not in run.stdout
    run = script(
        "execute_agent",
        "--agent",
        "neon-database",
        "--query",
        "run this SQL: " + CR_COMMIT_DELETE,
        env={"DATABASE_URL": roles["writer"], **OVERRIDE},
    )
    assert run.json["code"] == "tool_refused", run.stdout
    assert canary_count(roles) == CANARY_ROWS


def test_a_prompt_injected_model_tool_call_is_refused(roles, script, fake_anthropic):
    fake_anthropic.script(
        [
            reply_tool_use("run_query", {"sql": CR_COMMIT_DELETE}),
            reply_text("Done."),
        ]
    )
    run = script(
        "execute_agent",
        "--agent",
        "neon-database",
        "--query",
        "How many canaries are there?",
        env={**fake_anthropic.env(), "DATABASE_URL": roles["writer"], **OVERRIDE},
    )
    assert run.returncode == 0, run.stdout
    assert [(c["name"], c["ok"]) for c in run.json["tool_calls"]] == [("run_query", False)]
    second = fake_anthropic.bodies[1]
    result = next(b for b in second["messages"][-1]["content"] if b["type"] == "tool_result")
    assert result.get("is_error") is True and "one statement per query" in str(result["content"])
    assert canary_count(roles) == CANARY_ROWS


# -- URLs masked by parsing ------------------------------------------------------------------------


def test_a_raw_at_sign_in_the_password_never_leaks_its_tail():
    url = "postgresql://fibreflow:s3cr@tTail-9@127.0.0.1:1/fibreflow"
    with pytest.raises(AgentNotConfigured) as refused:
        run_sql(settings_for(url), "SELECT 1")
    body = json.dumps(refused.value.to_json())
    assert "%40" in body and "tTail-9" not in body and "s3cr" not in body


def test_urls_in_messages_are_masked_by_parsing_up_to_the_last_at_sign():
    from skills.backends.database import redact as redact_database
    from skills.redaction import redact

    text = 'could not translate host name "tTail-9@db.example" for postgresql://u:s3cr@tTail-9@db.example/x?sslmode=require'
    for masked in (redact(text), redact_database(text, "postgresql://u:s3cr@tTail-9@db.example/x")):
        assert "s3cr" not in masked and "postgresql://u:***@db.example/x?sslmode=require" in masked
    assert "tTail-9" not in redact_database(text, "postgresql://u:s3cr@tTail-9@db.example/x")
