"""bin/benchmark_stats runs end to end on both backends and reports what it measured.

Its figures (seconds, peak memory) are read off in docs/speed.md, not asserted: a timed test would
fail on a busy machine for reasons that are not the code's."""

from __future__ import annotations

import json

from tests.fixtures.scripts import clean_env, run_script


def test_a_small_run_counts_every_execution_on_both_backends(tmp_path):
    run = run_script(
        "benchmark_stats", "--executions", "2500", "--repeats", "1", "--json", env=clean_env(str(tmp_path)), timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert [figures["backend"] for figures in report["runs"]] == ["sqlite", "postgres"]
    for figures in report["runs"]:
        assert figures["all_time_counted"] == 2500, figures  # the ledger it filled, all of it counted
        assert 0 < figures["last_24h_counted"] < 2500, figures  # spread over 30 days: a day is a slice
        assert figures["all_time_s"] > 0 and figures["reading_every_row_s"] > 0
        assert 5 < figures["all_time_peak_rss_mb"] < 1000, figures  # the script's own peak, not the benchmark's


def test_bad_options_are_refused_as_json():
    run = run_script("benchmark_stats", "--backends", "oracle")
    assert run.returncode == 2 and json.loads(run.stdout)["field"] == "backends"
    run = run_script("benchmark_stats", "--executions", "0")
    assert run.returncode == 2 and json.loads(run.stdout)["field"] == "executions"
