"""The ledger through the store on both backends: the same rows, columns and value types from SQLite
and PostgreSQL (so statistics never care which answered), redaction kept, old SQLite files upgraded,
and replicas starting at once against an empty PostgreSQL database migrating it exactly once."""

from __future__ import annotations

import sqlite3

import pytest

from skills import ledger
from skills.config import Settings
from skills.registry import load_registry
from skills.stats import workforce_stats
from skills.store import close_stores, open_store
from skills.store.migrations import POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, apply_migrations, open_sqlite
from tests.fixtures.scripts import clean_env, run_script
from tests.test_store import results_of, start_children

SECRET = "sk-ant-api03-" + "x" * 40


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    return Settings({"ORCHESTRATOR_STATE_DIR": str(tmp_path / "state")})


@pytest.fixture
def postgres_settings(state_db_url, tmp_path) -> Settings:
    return Settings({"ORCHESTRATOR_DATABASE_URL": state_db_url, "ORCHESTRATOR_STATE_DIR": str(tmp_path / "pg")})


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request) -> Settings:
    return request.getfixturevalue(f"{request.param}_settings")


def book_some(settings) -> None:
    runs = [
        ledger.ExecutionRecord("vps-monitor", "cpu usage", "direct", True, 12.5, started_at=1000.0),
        ledger.ExecutionRecord(
            "neon-database",
            f"count contractors, key {SECRET}",
            "claude",
            False,
            250,
            model="claude-haiku-4-5",
            route_status="routed",
            route_score=3.25,
            error_code="timeout",
            error="took too long",
            input_tokens=120,
            output_tokens=30,
            cost_usd=0.0004,
            tool_calls=[{"name": "run_sql", "arguments": {"sql": "select 1"}}],
            started_at=2000.0,
        ),
    ]
    for run in runs:
        ledger.record(settings, run)
    ledger.record_fallback(settings, ledger.FallbackRecord("which one?", "ambiguous", "claude-haiku-4-5", True, 80.0))
    ledger.record_feedback(settings, ledger.FeedbackRecord("which one?", "which one", "a", "b", "http"))


def test_ledger_rows_round_trip_with_redaction(settings):
    book_some(settings)
    rows = ledger.executions(settings)
    assert [row["agent_id"] for row in rows] == ["vps-monitor", "neon-database"]
    assert SECRET not in rows[1]["query"] and rows[1]["query"].startswith("count contractors")
    assert rows[1]["success"] == 0 and rows[1]["route_score"] == 3.25 and rows[1]["tool_calls"].startswith("[")
    assert [row["agent_id"] for row in ledger.executions(settings, since=1500.0)] == ["neon-database"]
    assert [row["agent_id"] for row in ledger.recent(settings, 1)] == ["neon-database"]
    assert ledger.routing_fallbacks(settings)[0]["used"] == 1
    assert ledger.feedback(settings)[0]["correct_agent"] == "b"
    assert ledger.is_writable(settings)


def test_both_backends_give_the_same_columns_and_value_types(sqlite_settings, postgres_settings):
    for settings in (sqlite_settings, postgres_settings):
        book_some(settings)
    for read in (ledger.executions, ledger.routing_fallbacks, ledger.feedback):
        from_sqlite, from_postgres = read(sqlite_settings), read(postgres_settings)
        for left, right in zip(from_sqlite, from_postgres, strict=True):
            assert {k: type(v) for k, v in left.items()} == {k: type(v) for k, v in right.items()}
            volatile = {"pid", "recorded_at"} | ({"started_at"} if read is ledger.routing_fallbacks else set())
            assert {k: v for k, v in left.items() if k not in volatile} == {
                k: v for k, v in right.items() if k not in volatile
            }


def test_workforce_stats_read_the_shared_ledger(postgres_settings, sqlite_settings):
    registry = load_registry(postgres_settings.registry_path)
    for settings in (sqlite_settings, postgres_settings):
        book_some(settings)
    from_postgres = workforce_stats(registry, postgres_settings)
    assert from_postgres["agents"]["neon-database"]["calls"] == 1
    assert from_postgres["agents"] == workforce_stats(registry, sqlite_settings)["agents"]


def test_an_unreachable_database_costs_a_warning_not_the_answer(tmp_path):
    closed_port = "postgresql://nobody:hunter2@127.0.0.1:1/none"
    settings = Settings({"ORCHESTRATOR_DATABASE_URL": closed_port, "ORCHESTRATOR_STATE_DIR": str(tmp_path)})
    warning = ledger.record_or_warn(settings, ledger.ExecutionRecord("vps-monitor", "uptime", "direct", True, 1.0))
    assert "not recorded in the ledger (postgresql://127.0.0.1:1/none)" in warning
    assert "hunter2" not in warning and not ledger.is_writable(settings)
    assert ledger.ledger_path(settings) == str(tmp_path / "ledger.sqlite3")  # a file path, never the URL


def test_an_old_sqlite_ledger_upgrades_and_its_unfinished_tasks_are_claimable(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    conn = open_sqlite(str(state / "ledger.sqlite3"))
    apply_migrations(conn, SQLITE_MIGRATIONS[:-1])  # what the previous release left: no leases yet
    conn.execute(
        "INSERT INTO executions (started_at, agent_id, query, mode, success, duration_ms) VALUES (1, 'a', 'q', 'direct', 1, 2)"
    )
    conn.execute(
        "INSERT INTO http_tasks (id, kind, request, status, attempts) VALUES ('never-started', 'execute', '{}', 'processing', 0)"
    )
    conn.execute(
        "INSERT INTO http_tasks (id, kind, request, status, attempts) VALUES ('was-running', 'execute', '{}', 'processing', 1)"
    )
    conn.close()

    settings = Settings({"ORCHESTRATOR_STATE_DIR": str(state)})
    store = open_store(settings)
    assert store.migrated_now == ["http_tasks_lease"]
    assert ledger.executions(settings)[0]["agent_id"] == "a"
    claimed = {task.task_id: task.attempts for task in iter(lambda: store.claim_task("new-server", 30), None)}
    assert claimed == {"never-started": 1, "was-running": 2}
    names = [row[0] for row in sqlite3.connect(state / "ledger.sqlite3").execute("SELECT name FROM _migrations")]
    assert names == [name for name, _ in SQLITE_MIGRATIONS]
    close_stores()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_processes_starting_together_migrate_once(backend, request, tmp_path):
    place = request.getfixturevalue("state_db_url") if backend == "postgres" else str(tmp_path / "state")
    go_file = str(tmp_path / "go")
    results = results_of(start_children("migrate", place, go_file, 6), go_file)

    expected = POSTGRES_MIGRATIONS if backend == "postgres" else SQLITE_MIGRATIONS
    applied = sorted(name for result in results for name in result["applied"])
    assert applied == sorted(name for name, _ in expected)  # each once, by whichever got there first


def test_a_script_says_when_the_shared_database_is_unreachable(tmp_path):
    env = clean_env(str(tmp_path), ORCHESTRATOR_DATABASE_URL="postgresql://nobody:hunter2@127.0.0.1:1/none")
    run = run_script("workforce_stats", env=env)
    assert run.returncode == 3 and run.json["code"] == "state_unavailable"
    assert "postgresql://127.0.0.1:1/none" in run.json["error"] and "hunter2" not in run.stdout + run.stderr
