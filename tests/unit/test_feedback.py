"""Learning from corrections through the scripts: bin/route_feedback records verdicts in the ledger,
confirmed ones change routing (never the registry file), evaluate_routing --feedback scores the
router on them and workforce_stats turns them into agent selection accuracy."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest

from skills.ledger.corrections import task_key, verdicts
from skills.registry.loader import read_routing_inputs
from tests.fixtures.scripts import ROOT, copy_lexicons

# No agent's trigger or example shares a word with this: it is refused today, though it asks
# about a contractor crew ("blue hats" is what the site teams call one).
MISROUTED = "Are the blue hats overbooked this fortnight?"
OWNER = "contractor-agent"


def verdict(script, task: str, routed: str, correct: str, *extra: str):
    return script("route_feedback", "--task", task, "--routed-agent", routed, "--correct-agent", correct, *extra)


def sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


# --- recording and learning --------------------------------------------------------------------


def test_one_verdict_teaches_nothing_and_a_second_one_reroutes_the_task(script, state_dir):
    assert script("route_task", "--task", MISROUTED).json["status"] == "no_match"

    first = verdict(script, MISROUTED, "none", OWNER)
    assert first.returncode == 0, first.stdout
    assert first.json["recorded"] is True and first.json["correction"] is True
    assert first.json["confirmed"] is False and first.json["confirmations"] == 1
    assert first.json["confirmations_needed"] == 2
    assert script("route_task", "--task", MISROUTED).json["status"] == "no_match"

    # the same verdict again, written differently (case, punctuation), as JSON with null for "no agent"
    second = script(
        "route_feedback",
        "--json",
        "-",
        stdin=json.dumps(
            {"task": "are the BLUE hats overbooked this fortnight", "routed_agent": None, "correct_agent": OWNER}
        ),
    )
    assert second.returncode == 0, second.stdout
    assert second.json["confirmed"] is True and second.json["confirmations"] == 2

    result = script("route_task", "--task", MISROUTED).json
    assert result["status"] in ("routed", "high_confidence")
    assert result["agent"]["agent_id"] == OWNER
    learnt = read_routing_inputs(state_dir)["feedback"]
    assert learnt["examples"] == {OWNER: ["are the BLUE hats overbooked this fortnight"]}


def test_a_task_sent_to_the_wrong_agent_goes_to_the_right_one_after_confirmed_corrections(script):
    task = "Is the server room crew booked for Tuesday?"  # "server" pulls it to vps-monitor; a crew is a contractor's
    before = script("route_task", "--task", task, "--auto-select").json
    assert before["agent"]["agent_id"] == "vps-monitor"
    for _ in range(2):
        assert verdict(script, task, "vps-monitor", OWNER).returncode == 0
    after = script("route_task", "--task", task).json
    assert after["status"] in ("routed", "high_confidence") and after["agent"]["agent_id"] == OWNER
    assert after["learnt_from"] == "feedback"
    assert (
        script("route_task", "--task", "is the SERVER room crew booked for tuesday").json["agent"]["agent_id"] == OWNER
    )


def test_learnt_examples_stay_out_of_what_the_agent_list_shows(script):
    for _ in range(2):
        assert verdict(script, MISROUTED, "none", OWNER).returncode == 0
    info = script("agent_info", "--agent", OWNER).json
    assert MISROUTED not in info["examples"]
    listed = script("list_agents").stdout
    assert "blue hats" not in listed


def test_a_verdict_that_nothing_should_take_it_becomes_an_unrelated_task(script, state_dir):
    task = "Check CPU usage on the weekend rota"
    assert script("route_task", "--task", task).json["agent"]["agent_id"] == "vps-monitor"
    for _ in range(2):
        answer = verdict(script, task, "vps-monitor", "none")
        assert answer.returncode == 0, answer.stdout
    assert answer.json["correct_agent"] is None and answer.json["confirmed"] is True
    learnt = read_routing_inputs(state_dir)["feedback"]
    assert learnt == {"examples": {}, "unrelated": [task]}
    refused = script("route_task", "--task", task, "--auto-select")
    assert refused.returncode == 1 and refused.json["status"] == "no_match"
    assert script("route_task", "--task", "Check CPU usage on the server").json["agent"]["agent_id"] == "vps-monitor"


def test_an_operators_confirm_teaches_at_once_and_outranks_later_verdicts(script, state_dir):
    answer = verdict(script, MISROUTED, "none", OWNER, "--confirm")
    assert answer.json["confirmed"] is True
    assert script("route_task", "--task", MISROUTED).json["agent"]["agent_id"] == OWNER
    # over HTTP the server sends source "http" and never `confirm`: such a verdict cannot overrule
    other = script(
        "route_feedback",
        "--json",
        "-",
        stdin=json.dumps(
            {"task": MISROUTED, "routed_agent": OWNER, "correct_agent": "project-agent", "source": "http"}
        ),
    )
    assert other.returncode == 0 and other.json["confirmed"] is False
    assert OWNER in other.json["message"]
    assert read_routing_inputs(state_dir)["feedback"]["examples"] == {OWNER: [MISROUTED]}


def test_a_contradicting_verdict_withdraws_what_was_learnt_until_it_is_confirmed(script, state_dir):
    for _ in range(2):
        verdict(script, MISROUTED, "none", OWNER)
    verdict(script, MISROUTED, OWNER, "project-agent")
    assert read_routing_inputs(state_dir)["feedback"]["examples"] == {}
    assert script("route_task", "--task", MISROUTED).json["status"] == "no_match"
    verdict(script, MISROUTED, OWNER, "project-agent")
    assert read_routing_inputs(state_dir)["feedback"]["examples"] == {"project-agent": [MISROUTED]}
    assert script("route_task", "--task", MISROUTED).json["agent"]["agent_id"] == "project-agent"


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--task", MISROUTED, "--routed-agent", "no-such-agent", "--correct-agent", OWNER], "routed_agent"),
        (["--task", MISROUTED, "--routed-agent", "none", "--correct-agent", "no-such-agent"], "correct_agent"),
        (["--task", "   ", "--routed-agent", "none", "--correct-agent", OWNER], "task"),
        (["--task", "x" * 5001, "--routed-agent", "none", "--correct-agent", OWNER], "task"),
        (["--task", "?!", "--routed-agent", "none", "--correct-agent", OWNER], "task"),
        (["--task", MISROUTED, "--correct-agent", OWNER], "routed_agent"),
        (["--task", MISROUTED, "--routed-agent", "none"], "correct_agent"),
    ],
)
def test_bad_verdicts_exit_2_naming_the_field_and_record_nothing(script, state_dir, args, field):
    run = script("route_feedback", *args)
    assert run.returncode == 2, run.stdout
    assert run.json["code"] == "bad_input" and run.json["field"] == field
    assert "feedback" not in read_routing_inputs(state_dir)
    assert script("evaluate_routing", "--feedback").json["field"] == "feedback"  # still nothing recorded


def test_feedback_never_changes_the_registry_file_or_an_agents_status(script, tmp_path):
    registry = tmp_path / "agents.yaml"
    shutil.copy(os.path.join(ROOT, "registry", "agents.yaml"), registry)
    copy_lexicons(tmp_path)
    env = {"ORCHESTRATOR_REGISTRY": str(registry)}
    before_hash, before_mtime = sha256(str(registry)), os.stat(registry).st_mtime_ns
    before = {a["id"]: a["status"] for a in script("list_agents", env=env).json}
    for task, routed, correct in [(MISROUTED, "none", OWNER)] * 2 + [("Check CPU usage", "vps-monitor", "none")] * 2:
        assert (
            script(
                "route_feedback", "--task", task, "--routed-agent", routed, "--correct-agent", correct, env=env
            ).returncode
            == 0
        )
    assert sha256(str(registry)) == before_hash and os.stat(registry).st_mtime_ns == before_mtime
    assert {a["id"]: a["status"] for a in script("list_agents", env=env).json} == before


# --- evaluation and statistics -------------------------------------------------------------------


def test_evaluate_routing_feedback_scores_the_current_router_on_the_verdicts(script):
    verdict(script, MISROUTED, "none", OWNER)
    verdict(script, "Check CPU usage on the server", "vps-monitor", "vps-monitor")
    report = script("evaluate_routing", "--feedback")
    assert report.returncode == 0, report.stdout
    assert report.json["total"] == 2 and report.json["correct"] == 1
    assert report.json["misrouted"] == [{"task": MISROUTED, "expected": OWNER, "got": None, "status": "no_match"}]
    assert report.json["feedback"] == {"tasks": 2, "confirmed": 0, "pending_accuracy": 0.5}

    verdict(script, MISROUTED, "none", OWNER)  # now confirmed: routing learns it
    report = script("evaluate_routing", "--feedback", "--format", "table")
    assert report.returncode == 0 and report.stdout.startswith("accuracy 100.0% (2/2)")
    assert script("evaluate_routing", "--feedback", "--min-accuracy", "1.0").returncode == 0
    verdict(script, "Check CPU usage on the server", "vps-monitor", "vps-monitor")
    assert script("evaluate_routing", "--feedback").json["feedback"] == {
        "tasks": 2,
        "confirmed": 2,
        "pending_accuracy": None,
    }


def test_evaluate_routing_wants_a_file_or_feedback_not_both(script, tmp_path):
    labelled = tmp_path / "one.jsonl"
    labelled.write_text(json.dumps({"task": "Check CPU usage", "agent": "vps-monitor"}) + "\n")
    assert script("evaluate_routing", str(labelled), "--feedback").json["field"] == "file"
    assert script("evaluate_routing").returncode == 2
    assert script("evaluate_routing", str(labelled)).json["accuracy"] == 1.0


def test_workforce_stats_shows_agent_selection_accuracy_from_routed_executions(script):
    empty = script("workforce_stats").json
    assert empty["summary"]["agent_selection_accuracy"] is None and empty["routing"]["routed_executions"] == 0
    for task in ("Check CPU usage on the server", "How much RAM is free on the VPS?"):
        assert script("execute_agent", "--task", task).json["agent"] == "vps-monitor"
    assert script("execute_agent", "--agent", "vps-monitor", "--query", "uptime").returncode == 0  # chosen, not routed
    assert script("workforce_stats").json["summary"]["agent_selection_accuracy"] == 1.0

    verdict(script, "check CPU usage on the server.", "vps-monitor", "none")  # one bad routing, per a user
    verdict(script, "How much RAM is free on the VPS?", "vps-monitor", "vps-monitor")  # and one confirmed right
    stats = script("workforce_stats").json
    assert stats["summary"]["agent_selection_accuracy"] == 0.5
    assert stats["routing"]["routed_executions"] == 2 and stats["routing"]["corrected_executions"] == 1
    assert stats["routing"]["feedback"] == {"recorded": 2, "corrections": 1, "confirmed_tasks": 0}
    assert script("workforce_stats", "--since", "2099-01-01").json["routing"]["agent_selection_accuracy"] is None
    # per agent (what the page's agents view shows): the chosen, not routed, run is not judged
    vps = stats["agents"]["vps-monitor"]
    assert vps["calls"] == 3 and vps["routed_executions"] == 2 and vps["selection_accuracy"] == 0.5
    assert stats["agents"]["project-agent"]["selection_accuracy"] is None  # routing never chose it


# --- the rules themselves ------------------------------------------------------------------------


def _row(key: str, correct, *, confirmed: bool = False, routed=None) -> dict:
    return {"task": key, "task_key": key, "routed_agent": routed, "correct_agent": correct, "confirmed": confirmed}


def test_task_key_ignores_case_punctuation_and_spacing():
    assert task_key("  Are the BLUE hats   overbooked, this fortnight?? ") == task_key(MISROUTED)
    assert task_key("Are the blue hats overbooked?") != task_key(MISROUTED)


def test_the_latest_verdict_counts_once_given_often_enough():
    rows = [_row("t", "a"), _row("t", "b"), _row("t", "a")]
    assert verdicts(rows, 2)["t"].correct_agent == "a" and verdicts(rows, 2)["t"].confirmed
    assert not verdicts(rows, 3)["t"].confirmed
    assert not verdicts([*rows, _row("t", "b", routed="a")], 3)["t"].confirmed  # b twice, needs three
    operator = verdicts([_row("t", "a", confirmed=True), _row("t", "b"), _row("t", "b")], 2)["t"]
    assert operator.correct_agent == "a" and operator.confirmed
