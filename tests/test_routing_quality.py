"""The quality bar: at least 95% on the shared dev set, through the real evaluate_routing script."""

import os

import pytest

from tests.fixtures.scripts import ROOT

DEV_SET = os.path.join(os.path.dirname(ROOT), "shared", "routing", "dev_tasks.jsonl")
HOLDOUT = os.path.join(ROOT, "tests", "data", "routing_holdout.jsonl")


@pytest.mark.parametrize("path", [DEV_SET, HOLDOUT], ids=["dev_set", "our_holdout"])
def test_router_meets_the_quality_bar(path, script):
    assert os.path.isfile(path), f"labelled set missing: {path}"
    run = script("evaluate_routing", path)
    report = run.json
    misses = "\n".join(f"{m['task']!r}: expected {m['expected']}, got {m['got']}" for m in report["misrouted"])
    assert report["accuracy"] >= 0.95, misses
    assert report["no_match_recall"] >= 0.9


def test_evaluate_routing_table_and_threshold(script, tmp_path):
    labelled = tmp_path / "set.jsonl"
    labelled.write_text(
        '{"task": "check cpu on the server", "agent": "vps-monitor"}\n'
        '{"task": "check cpu on the server", "agent": "project-agent"}\n'
    )
    table = script("evaluate_routing", str(labelled), "--format", "table")
    assert "accuracy 50.0% (1/2)" in table.stdout
    assert script("evaluate_routing", str(labelled), "--min-accuracy", "0.9").returncode == 1


def test_evaluate_routing_rejects_bad_lines(script, tmp_path):
    labelled = tmp_path / "bad.jsonl"
    labelled.write_text('{"task": "x", "agent": null}\nnot json\n')
    run = script("evaluate_routing", str(labelled))
    assert run.returncode == 2
    assert "line 2" in run.json["error"]
