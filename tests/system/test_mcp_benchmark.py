"""bin/benchmark_mcp runs end to end and reports what it measured (the figures are read, not asserted)."""

from __future__ import annotations

import json

from tests.fixtures.scripts import clean_env, run_script


def test_benchmark_reports_calls_start_up_and_memory(tmp_path):
    run = run_script(
        "benchmark_mcp", "--calls", "20", "--starts", "1", "--json", env=clean_env(str(tmp_path)), timeout=180
    )
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(run.stdout)
    call, start, memory = figures["route_task_call"], figures["start_to_initialize"], figures["memory"]
    assert call["calls"] == 20 and 0 < call["p50_ms"] <= call["p90_ms"] <= call["p99_ms"]
    assert start["starts"] == 1 and start["median_s"] > 0 and 0 < start["median_cpu_s"]
    assert memory["workers"] >= 2 and memory["with_workers_rss_mb"] > memory["server_rss_mb"] > 0


def test_benchmark_refuses_nonsense_counts(tmp_path):
    run = run_script("benchmark_mcp", "--calls", "0", env=clean_env(str(tmp_path)), timeout=60)
    assert run.returncode == 2 and json.loads(run.stdout)["code"] == "bad_input"
