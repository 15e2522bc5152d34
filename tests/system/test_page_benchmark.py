"""bin/benchmark_page runs end to end in Chromium and reports what it measured.

Its times are read off in docs/speed.md, not asserted: a timed test would fail on a busy machine
for reasons that are not the code's. What is asserted is that it measured the page it says it did."""

from __future__ import annotations

import json

from tests.fixtures.scripts import clean_env, run_script


def test_a_small_run_renders_every_agent_and_charts_the_ledger(tmp_path):
    run = run_script(
        "benchmark_page", "--executions", "300", "--loads", "2", "--json", env=clean_env(str(tmp_path)), timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["agents_shown"] == 5 and report["executions"] == 300
    assert 0 < report["executions_charted"] < 300, report  # 30 days filled; the page's default window is 7
    assert report["all_time_charted"] == 300  # "All time" charts every one of them
    assert report["first_load_ms"] > 0 and report["median_ms"] > 0 and report["all_time_switch_median_ms"] > 0


def test_bad_options_are_refused_as_json():
    run = run_script("benchmark_page", "--loads", "0")
    assert run.returncode == 2 and json.loads(run.stdout)["field"] == "loads"
    run = run_script("benchmark_page", "--executions", "-1")
    assert run.returncode == 2 and json.loads(run.stdout)["field"] == "executions"
    run = run_script("benchmark_page", "--chromium", "/nonexistent/chromium")
    assert run.returncode == 2 and json.loads(run.stdout)["field"] == "chromium"
