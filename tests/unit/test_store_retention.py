"""Ledger retention (ORCHESTRATOR_LEDGER_DAYS) on both backends: old executions and routing-fallback
calls are pruned in the background by the server and the worker, verdicts are kept, and the
statistics say which window they cover and count only it."""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime

import pytest
import requests

from skills.config import Settings
from skills.errors import BadInput
from skills.ledger import records as ledger
from skills.ledger.retention import DAY_S, LedgerPruner, prune
from skills.ledger.stats import workforce_stats
from skills.registry.loader import load_registry
from skills.store import base as store_base
from tests.fixtures.http_server import start_server, start_worker

NOW = time.time()


@pytest.fixture
def sqlite_env(tmp_path) -> dict:
    return {"ORCHESTRATOR_STATE_DIR": str(tmp_path / "state")}


@pytest.fixture
def postgres_env(state_db_url, tmp_path) -> dict:
    return {"ORCHESTRATOR_DATABASE_URL": state_db_url, "ORCHESTRATOR_STATE_DIR": str(tmp_path / "pg")}


@pytest.fixture(params=["sqlite", "postgres"])
def env(request) -> dict:
    return request.getfixturevalue(f"{request.param}_env")


def run_at(days_ago: float, agent: str = "vps-monitor") -> ledger.ExecutionRecord:
    return ledger.ExecutionRecord(agent, f"run {days_ago}d ago", "direct", True, 5.0, started_at=NOW - days_ago * DAY_S)


def fallback_at(days_ago: float) -> ledger.FallbackRecord:
    return ledger.FallbackRecord(
        "unsure", "ambiguous", "claude-haiku-4-5", True, 9.0, started_at=NOW - days_ago * DAY_S
    )


def ages(settings) -> list[int]:
    return sorted(round((NOW - row["started_at"]) / DAY_S) for row in ledger.executions(settings))


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def test_prune_removes_only_runs_older_than_the_window_and_keeps_verdicts(env):
    settings = Settings(env)
    assert settings.ledger_days == 90  # the default
    for days_ago in (400, 91, 89, 1, 0):
        ledger.record(settings, run_at(days_ago))
    for days_ago in (120, 2):
        ledger.record_fallback(settings, fallback_at(days_ago))
    old_verdict = ledger.FeedbackRecord("t", "t", "vps-monitor", None, "cli", recorded_at=NOW - 300 * DAY_S)
    ledger.record_feedback(settings, old_verdict)

    assert prune(settings, NOW) == {"executions": 2, "routing_fallbacks": 1}

    assert ages(settings) == [0, 1, 89]
    assert len(ledger.routing_fallbacks(settings)) == 1
    assert len(ledger.feedback(settings)) == 1  # a person's verdicts are kept
    assert prune(settings, NOW) == {"executions": 0, "routing_fallbacks": 0}


def test_prune_deletes_a_big_backlog_batch_by_batch(env, monkeypatch):
    monkeypatch.setattr(store_base, "PRUNE_BATCH", 3)
    settings = Settings({**env, "ORCHESTRATOR_LEDGER_DAYS": "30"})
    for number in range(8):
        ledger.record(settings, run_at(31 + number))
    ledger.record(settings, run_at(29))

    assert prune(settings, NOW)["executions"] == 8
    assert ages(settings) == [29]


def test_zero_days_keeps_every_execution_and_the_stats_say_so(env):
    settings = Settings({**env, "ORCHESTRATOR_LEDGER_DAYS": "0"})
    ledger.record(settings, run_at(5000))

    assert prune(settings, NOW) == {}
    stats = workforce_stats(load_registry(settings.registry_path), settings, now=NOW)
    assert stats["window"] == {"days": None, "since": None}
    assert stats["summary"]["total_executions"] == 1


@pytest.mark.parametrize("value, message", [("-1", r"must be 0 \(keep every execution\)"), ("ninety", "whole number")])
def test_a_bad_ledger_days_setting_names_itself(value, message):
    with pytest.raises(BadInput, match=message) as caught:
        Settings({"ORCHESTRATOR_LEDGER_DAYS": value})
    assert caught.value.field == "ORCHESTRATOR_LEDGER_DAYS"


def test_workforce_stats_say_their_window_and_count_only_it(env):
    settings = Settings(env)
    registry = load_registry(settings.registry_path)
    for days_ago in (100, 30, 3, 0):
        ledger.record(settings, run_at(days_ago))  # recording never prunes: the 100-day-old row stays

    default = workforce_stats(registry, settings, now=NOW)
    week = workforce_stats(registry, settings, NOW - 7 * DAY_S, now=NOW)
    forever = workforce_stats(registry, settings, 0.0, now=NOW)

    assert ages(settings) == [0, 3, 30, 100]
    assert default["window"] == {"days": 90, "since": iso(NOW - 90 * DAY_S)}
    assert default["since"] is None  # the existing field still says what was asked
    assert default["summary"]["total_executions"] == 3 and default["agents"]["vps-monitor"]["calls"] == 3
    assert week["window"] == {"days": 90, "since": iso(NOW - 7 * DAY_S)} and week["since"] == iso(NOW - 7 * DAY_S)
    assert week["summary"]["total_executions"] == 2
    assert forever["window"]["since"] == iso(NOW - 90 * DAY_S)  # asking for more than is kept gets what is kept
    assert forever["summary"]["total_executions"] == 3


def test_the_pruner_prunes_at_start_and_again_each_interval(env, caplog):
    settings = Settings({**env, "ORCHESTRATOR_LEDGER_DAYS": "10"})
    ledger.record(settings, run_at(11))
    pruner = LedgerPruner(settings, logging.getLogger("test-pruner"), every_s=0.2)
    with caplog.at_level(logging.INFO, logger="test-pruner"):
        pruner.start()
        try:
            wait_for(lambda: pruner.runs >= 1)
            assert ages(settings) == []
            ledger.record(settings, run_at(12))
            ledger.record(settings, run_at(1))
            runs = pruner.runs
            wait_for(lambda: pruner.runs >= runs + 2)
            assert ages(settings) == [1]
        finally:
            pruner.stop()
    assert not pruner._thread.is_alive()
    assert "Pruned the ledger to its last 10 days | Executions: 1" in caplog.text


def test_a_pruner_whose_store_is_down_warns_and_keeps_going(tmp_path, caplog):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the state directory should be")
    settings = Settings({"ORCHESTRATOR_STATE_DIR": str(blocked)})
    pruner = LedgerPruner(settings, logging.getLogger("test-pruner-down"), every_s=0.05)
    with caplog.at_level(logging.WARNING, logger="test-pruner-down"):
        pruner.start()
        try:
            wait_for(lambda: pruner.runs >= 2)  # a failed round does not end the thread
        finally:
            pruner.stop()
    assert "Ledger not pruned, trying again" in caplog.text


@pytest.mark.parametrize("process", ["server", "worker"])
def test_a_running_server_or_worker_prunes_the_shared_ledger_in_the_background(env, process):
    settings = Settings(env)
    ledger.record(settings, run_at(200, "neon-database"))
    ledger.record(settings, run_at(1))
    extra = {k: v for k, v in env.items() if k != "ORCHESTRATOR_STATE_DIR"}
    state_dir = settings.state_dir
    os.makedirs(state_dir, exist_ok=True)  # PostgreSQL holds the ledger; the process still logs here
    running = (start_server if process == "server" else start_worker)(state_dir, **extra)
    try:
        wait_for(lambda: ages(settings) == [1], timeout_s=30)
        if process == "server":
            stats = requests.get(running.url + "/orchestrator/stats", timeout=30).json()
            assert stats["window"]["days"] == 90
            assert stats["window"]["since"][:10] == iso(time.time() - 90 * DAY_S)[:10]
            assert stats["summary"]["total_executions"] == 1 and stats["agents"]["neon-database"]["calls"] == 0
    finally:
        running.stop()


def wait_for(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(0.05)
