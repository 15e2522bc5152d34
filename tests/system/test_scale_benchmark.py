"""bin/benchmark_scale runs end to end on both backends and reports what it measured.

Its targets (3 workers >= 2.5x one; claim wait p50 <= 20 ms) are read off the figures in docs/speed.md,
not asserted here: a timed test would fail on a busy machine for reasons that are not the code's."""

from __future__ import annotations

import json

from tests.fixtures.scripts import clean_env, run_script


def test_quick_run_reports_throughput_and_claim_wait_for_both_backends(tmp_path):
    run = run_script(
        "benchmark_scale", "--quick", "--workers", "1,2", "--json", env=clean_env(str(tmp_path)), timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert set(report["backends"]) == {"postgres", "sqlite"}
    for backend, summary in report["backends"].items():
        assert set(summary["throughput_tps"]) == {"1", "2"}, backend
        assert all(value > 0 for value in summary["throughput_tps"].values()), summary
        assert summary["ratio_2_vs_1"] > 0
        assert 0 <= summary["claim_wait_p50_ms"] < 60_000, summary  # a creation before its claim, not garbage
        assert summary["failed_tasks"] == 0
    runs = report["runs"]
    assert len(runs) == 4 and all(r["tasks"] == report["plan"]["tasks"] for r in runs)
    assert all(len(r["claim_wait_ms"]) == report["plan"]["idle_samples"] for r in runs)
    assert {r["slots"] for r in runs if r["workers"] == 2} == {2 * r["slots"] for r in runs if r["workers"] == 1}


def test_bad_worker_counts_are_refused_as_json():
    run = run_script("benchmark_scale", "--workers", "0,x")
    assert run.returncode == 2
    assert json.loads(run.stdout)["field"] == "workers"
