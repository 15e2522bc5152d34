"""bin/soak, briefly: every kind of request gets traffic, a healthy server shows no unexpected
errors, and the report carries the resource figures docs/reliability.md's soak table quotes."""

from __future__ import annotations

import json

from tests.fixtures.scripts import run_script

ENDPOINTS = {"route", "smart_execute", "execute_database", "agents", "stats", "async", "batch", "websocket"}


def test_a_short_soak_reports_every_endpoint_without_unexpected_errors(script_env):
    run = run_script(
        "soak", "--minutes", "0.1", "--clients", "4", "--warmup", "2", "--quiet", "1", env=script_env, timeout=300
    )
    report = json.loads(run.stdout)
    assert run.returncode == 0, (report.get("unexpected_errors"), run.stderr[-2000:])
    assert set(report["endpoints"]) == ENDPOINTS
    assert all(figures["requests"] > 0 for figures in report["endpoints"].values()), report["endpoints"]
    assert report["unexpected_errors"] == {} and report["requests"] >= len(ENDPOINTS)
    for moment in ("start", "end", "after_1s_quiet"):
        assert report["resources"][moment]["server"]["rss_mb"] > 0
        assert report["resources"][moment]["workers"]["count"] >= 2  # the warm route and execute workers
    assert {"rss_growth_percent", "fd_growth", "thread_growth"} <= set(report)


def test_soak_refuses_nonsense_arguments_in_json(script_env):
    run = run_script("soak", "--minutes", "0", env=script_env)
    assert run.returncode == 2 and json.loads(run.stdout)["code"] == "bad_input"
