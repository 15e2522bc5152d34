"""The ledger through the store on both backends: the same rows, columns and value types from SQLite
and PostgreSQL (so statistics never care which answered), redaction kept, old SQLite files upgraded,
and replicas starting at once against an empty PostgreSQL database migrating it exactly once."""

from __future__ import annotations

import random
import sqlite3

import pytest

from skills.config import Settings
from skills.ledger import records as ledger
from skills.ledger.stats import workforce_stats
from skills.registry.loader import load_registry
from skills.store import close_stores, open_store
from skills.store.migrations import POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, apply_migrations, open_sqlite
from tests.fixtures.scripts import clean_env, run_script
from tests.unit.test_store import results_of, start_children

SECRET = "sk-ant-api03-" + "x" * 40
LEASES = [name for name, _ in SQLITE_MIGRATIONS].index("http_tasks_lease")


# these tests book rows at fixed times in 1970 (started_at=1000.0): a ledger that keeps every
# execution counts them all; retention's own window is tested in tests/unit/test_store_retention.py
KEEP_ALL = {"ORCHESTRATOR_LEDGER_DAYS": "0"}


def _index(migrations, name: str) -> int:
    return [applied for applied, _ in migrations].index(name)


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    return Settings({"ORCHESTRATOR_STATE_DIR": str(tmp_path / "state"), **KEEP_ALL})


@pytest.fixture
def postgres_settings(state_db_url, tmp_path) -> Settings:
    return Settings(
        {"ORCHESTRATOR_DATABASE_URL": state_db_url, "ORCHESTRATOR_STATE_DIR": str(tmp_path / "pg"), **KEEP_ALL}
    )


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
    apply_migrations(conn, SQLITE_MIGRATIONS[:LEASES])  # what an older release left: no leases yet
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
    assert store.migrated_now == [name for name, _ in SQLITE_MIGRATIONS[LEASES:]]
    assert ledger.executions(settings)[0]["agent_id"] == "a"
    claimed = {task.task_id: task.attempts for task in iter(lambda: store.claim_task("new-server", 30), None)}
    assert claimed == {"never-started": 1, "was-running": 2}
    names = [
        row[0]
        for row in sqlite3.connect(state / "ledger.sqlite3").execute("SELECT name FROM _migrations ORDER BY rowid")
    ]
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


# --- statistics counted by the database -------------------------------------------------------------


def nearest_rank(values: list[float], per_mille: int) -> float:
    """The percentile as the statistics define it: the value at rank ceil(n x per-mille / 1000)."""
    ordered = sorted(values)
    return ordered[-(-per_mille * len(ordered) // 1000) - 1]


def test_agent_totals_are_the_figures_of_the_rows_on_both_backends(settings):
    generator = random.Random(11)
    for number in range(157):
        agent = generator.choice(["vps-monitor", "neon-database", "project-agent"])
        duration = generator.choice([generator.uniform(1, 5000), 42.0])  # ties too
        run = ledger.ExecutionRecord(agent, f"task {number}", "direct", generator.random() < 0.8, duration)
        run.route_status = generator.choice([None, "high_confidence"])
        run.input_tokens, run.output_tokens, run.cost_usd = number, 2 * number, number / 1e5
        run.started_at = 1000.0 + number
        ledger.record(settings, run)
    ledger.record(settings, ledger.ExecutionRecord("gone-agent", "once", "direct", True, 7.0, started_at=5.0))

    for since in (None, 1050.0):
        rows = ledger.executions(settings, since)
        totals = ledger.agent_totals(settings, since)
        assert sorted(totals) == sorted({row["agent_id"] for row in rows})
        for agent, figures in totals.items():
            mine = [row for row in rows if row["agent_id"] == agent]
            durations = [row["duration_ms"] for row in mine]
            assert figures["calls"] == len(mine) and figures["successes"] == sum(row["success"] for row in mine)
            assert figures["routed"] == sum(bool(row["route_status"]) for row in mine)
            assert figures["p50_ms"] == nearest_rank(durations, 500)
            assert figures["p95_ms"] == nearest_rank(durations, 950)
            assert figures["input_tokens"] == sum(row["input_tokens"] for row in mine)
            assert figures["cost_usd"] == pytest.approx(sum(row["cost_usd"] for row in mine))
            assert figures["last_used"] == max(row["started_at"] for row in mine)
    assert "gone-agent" not in ledger.agent_totals(settings, 1050.0)


def test_workforce_stats_read_only_totals_not_every_execution(settings, monkeypatch):
    book_some(settings)
    backend = type(open_store(settings))
    read_rows = backend.rows

    def rows_but_not_executions(self, table, *args, **kwargs):
        assert table != "executions", "statistics must be counted by the database, not read row by row"
        return read_rows(self, table, *args, **kwargs)

    monkeypatch.setattr(backend, "rows", rows_but_not_executions)
    stats = workforce_stats(load_registry("registry/agents.yaml"), settings)
    assert stats["summary"]["total_executions"] == 2 and stats["agents"]["neon-database"]["p95_ms"] == 250.0
    assert stats["routing_fallback"]["calls"] == 1 and stats["routing_fallback"]["used"] == 1


def test_routed_executions_of_an_older_ledger_are_judged_after_the_upgrade(request, tmp_path):
    """Rows booked before executions carried their task key get it when the ledger upgrades, so the
    verdicts given on them still count in agent selection accuracy (both backends)."""
    for backend in ("sqlite", "postgres"):
        settings = request.getfixturevalue(f"{backend}_settings")
        store = _older_ledger(settings, backend)
        for query, agent in (
            ("Check CPU usage!", "vps-monitor"),
            ("check cpu usage", "vps-monitor"),
            ("list POs", "x"),
        ):
            store(
                f"INSERT INTO executions (started_at, agent_id, query, route_status, mode, success, duration_ms)"
                f" VALUES (1, '{agent}', '{query}', 'routed', 'claude', 1, 5)"
            )
        store(
            "INSERT INTO executions (started_at, agent_id, query, mode, success, duration_ms)"
            " VALUES (1, 'vps-monitor', 'check cpu usage', 'direct', 1, 5)"
        )  # chosen, not routed: not judged
        ledger.record_feedback(
            settings, ledger.FeedbackRecord("check CPU usage", "check cpu usage", "vps-monitor", None, "cli", True)
        )
        routed, judged = ledger.routed_executions(settings)
        assert routed == 3 and judged == [("check cpu usage", "vps-monitor", 2)]
        stats = workforce_stats(load_registry("registry/agents.yaml"), settings)
        assert stats["routing"]["corrected_executions"] == 2 and stats["summary"]["agent_selection_accuracy"] == 0.3333
        close_stores()


def _older_ledger(settings, backend: str):
    """A ledger migrated as the release before task keys left it; returns a function running SQL on it."""
    if backend == "sqlite":
        import os

        os.makedirs(settings.state_dir, exist_ok=True)
        conn = open_sqlite(ledger.ledger_path(settings))
        apply_migrations(conn, SQLITE_MIGRATIONS[: _index(SQLITE_MIGRATIONS, "005_executions_task_key")])
        return conn.execute
    import psycopg2

    from skills.store.migrations import apply_pg_migrations

    conn = psycopg2.connect(settings.orchestrator_database_url)
    apply_pg_migrations(conn, POSTGRES_MIGRATIONS[: _index(POSTGRES_MIGRATIONS, "004_executions_task_key")])

    def run(sql: str) -> None:
        with conn.cursor() as cursor:
            cursor.execute(sql)
        conn.commit()

    return run
