"""bin/benchmark_http runs end to end and reports what it measured.

Speed targets are read off the figures it prints (see docs/speed.md), not asserted here: machines
are noisy and a timed test would fail for reasons that are not the code's."""

from __future__ import annotations

import json

from tests.fixtures.scripts import clean_env, run_script


def test_benchmark_reports_both_modes_without_errors(tmp_path):
    run = run_script(
        "benchmark_http", "--requests", "100", "--baseline-requests", "4", "--json",
        env=clean_env(str(tmp_path)), timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    warm, baseline = report["results"]
    assert warm["mode"] == "warm workers" and baseline["mode"] == "one process per request"
    by_clients = {r["concurrency"]: r for r in warm["runs"]}
    assert 0 < by_clients[1]["p50_ms"] <= by_clients[1]["p99_ms"]
    assert by_clients[1]["errors"] == 0
    assert by_clients[16]["errors"] == 0 and by_clients[16]["requests"] == 100
    assert warm["server_peak_rss_mb"] > 0 and warm["server_and_workers_peak_rss_mb"] >= warm["server_peak_rss_mb"]
    assert set(report["warm_vs_one_process"]) == {"c1", "c16"}
