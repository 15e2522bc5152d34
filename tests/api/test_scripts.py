"""Every script's happy path and errors, through real subprocess calls."""

import json

import pytest


def test_route_task_guide_example(script):
    run = script("route_task", "--task", "Check CPU usage on the server", "--auto-select")
    assert run.returncode == 0
    body = run.json
    assert body["status"] == "routed"
    assert body["agent"]["agent_id"] == "vps-monitor"
    assert body["agent"]["agent_name"] == "VPS Monitor Agent"
    assert set(body["agent"]["matched_keywords"]) >= {"cpu", "server"}
    assert body["agent"]["confidence"] == len(body["agent"]["matched_keywords"])
    assert body["task"] == "Check CPU usage on the server"
    assert isinstance(body["execution_time_ms"], float)
    assert isinstance(body["alternatives"], list)


def test_route_task_reads_json_from_stdin(script):
    run = script("route_task", "--json", "-", stdin='{"task": "How many active contractors do we have?"}')
    assert run.returncode == 0
    assert run.json["agent"]["agent_id"] == "contractor-agent"


def test_route_task_jsonl_answers_line_by_line_and_survives_bad_lines(script):
    lines = "\n".join(
        [
            json.dumps({"task": "disk space on the vps"}),
            "{broken",
            json.dumps({"task": "a poem please"}),
            json.dumps({"task": 5}),
        ]
    )
    run = script("route_task", "--jsonl", stdin=lines + "\n")
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(results) == 4
    assert results[0]["agent"]["agent_id"] == "vps-monitor"
    assert results[1]["code"] == "bad_input"
    assert results[2]["status"] == "no_match"
    assert results[3]["field"] == "task"
    assert run.returncode == 2  # the worst line decides


def test_route_task_pretty_output_is_indented_json(script):
    run = script("route_task", "--task", "list projects in Gauteng", "--pretty")
    assert run.stdout.startswith("{\n  ")
    assert run.json["agent"]["agent_id"] == "project-agent"


@pytest.mark.parametrize(
    "args, field",
    [
        ([], "task"),
        (["--task", "   "], "task"),
        (["--task", "x" * 5001], "task"),
        (["--task", "cpu", "--context", "{not json"], "context"),
        (["--task", "cpu", "--context", "[1]"], "context"),
        (["--task", "cpu", "--bogus"], "bogus"),
        (["--task"], "task"),
    ],
)
def test_route_task_bad_input_is_json_exit_2(script, args, field):
    run = script("route_task", *args)
    assert run.returncode == 2
    assert run.json["code"] == "bad_input"
    assert run.json["field"] == field
    assert "Traceback" not in run.stdout + run.stderr


def test_a_bad_context_blames_the_context_field_not_json(script):
    for args in (["--task", "cpu", "--context", "{not json"], ["--task", "cpu", "--context={not json"]):
        run = script("route_task", *args)
        assert (run.returncode, run.json["field"]) == (2, "context")
        assert run.json["error"].startswith("--context is not valid JSON")
    broken_stdin = script("route_task", "--json", "-", stdin="{not json")
    assert broken_stdin.json["field"] == "json"  # there the JSON itself is what is wrong


@pytest.mark.parametrize("args", [["--task", ""], ["--task", "   "], ["--task="]])
def test_an_empty_task_is_called_empty_not_missing(script, args):
    run = script("route_task", *args)
    assert (run.returncode, run.json["field"]) == (2, "task")
    assert "is empty" in run.json["error"] and "required" not in run.json["error"]
    assert "is required" in script("route_task").json["error"]  # absent is still "required"


@pytest.mark.parametrize("name", ["route_task", "execute_agent", "agent_info", "list_agents", "workforce_stats"])
def test_unknown_fields_in_json_input_are_refused_like_unknown_flags(script, name):
    flag = script(name, "--colour", "red")
    piped = script(name, "--json", "-", stdin='{"colour": "red"}')
    lines = script(name, "--jsonl", stdin='{"colour": "red"}\n')
    for run in (flag, piped, lines):
        assert run.returncode == 2, run.stdout
        assert (run.json["code"], run.json["field"]) == ("bad_input", "colour")
    assert "unknown field 'colour'" in piped.json["error"]


def test_a_misspelt_json_field_is_refused_rather_than_ignored(script):
    # {"task": ..., "autoselect": true} used to route without auto-select, silently.
    run = script("route_task", "--json", "-", stdin='{"task": "server data", "autoselect": true}')
    assert run.returncode == 2 and run.json["field"] == "autoselect"
    assert "'auto_select'" in run.json["error"]  # the message lists the real names


def test_route_task_no_match_exits_1(script):
    run = script("route_task", "--task", "who is the president of France", "--auto-select")
    assert run.returncode == 1
    assert run.json["status"] == "no_match"
    assert run.json["agent"] is None


def test_route_task_context_nudges_the_score_and_explain_says_why(script):
    task = ["--task", "Check CPU usage on the server", "--explain"]
    plain = script("route_task", *task).json["agent"]
    nudged = script("route_task", *task, "--context", '{"page": "monitoring"}').json["agent"]
    elsewhere = script("route_task", *task, "--context", '{"page": "billing"}').json["agent"]
    assert plain["agent_id"] == nudged["agent_id"] == "vps-monitor"
    assert nudged["score"] > plain["score"] == elsewhere["score"]  # only a matching page counts
    terms = {part["term"] for part in plain["explain"]["contributions"]}
    assert {"cpu", "server"} <= terms and "context" not in terms
    assert "context" in {part["kind"] for part in nudged["explain"]["contributions"]}
    assert "explain" not in script("route_task", "--task", "Check CPU usage on the server").json["agent"]


def test_a_piped_route_task_prints_its_whole_answer(script):
    run = script("route_task", "--task", "Check CPU usage on the server", "--pretty", "--explain")
    assert run.returncode == 0 and run.stdout.endswith("}\n")
    assert run.json["agent"]["explain"]["contributions"]


def test_help_is_plain_text_exit_0(script):
    run = script("route_task", "--help")
    assert run.returncode == 0
    assert "--auto-select" in run.stdout


def test_list_agents_all_and_by_category(script):
    everyone = script("list_agents").json
    assert [a["id"] for a in everyone] == [
        "vps-monitor",
        "neon-database",
        "convex-database",
        "contractor-agent",
        "project-agent",
    ]
    for agent in everyone:
        assert set(agent) >= {"id", "name", "description", "status", "triggers", "model", "cost_per_query"}
        assert agent["cost_per_query"].startswith("$")
    database = script("list_agents", "--category", "database").json
    assert {a["id"] for a in database} == {"neon-database", "convex-database"}


def test_list_agents_unknown_category(script):
    run = script("list_agents", "--category", "cooking")
    assert run.returncode == 2
    assert "infrastructure" in run.json["error"]


def test_agent_info_shows_tools_and_configuration(script):
    run = script("agent_info", "--agent", "convex-database")
    assert run.returncode == 0
    info = run.json
    assert info["configured"] is False
    assert "CONVEX_URL" in info["message"]
    assert {t["name"] for t in info["tools"]} >= {"list_tasks", "add_task", "sync_status"}
    assert all(t["description"] for t in info["tools"])
    configured = script("agent_info", "--agent", "convex-database", env={"CONVEX_URL": "http://127.0.0.1:9"}).json
    assert configured["configured"] is True


def test_agent_info_errors(script):
    assert script("agent_info", "--agent", "nobody").returncode == 1
    missing = script("agent_info")
    assert missing.returncode == 2 and missing.json["field"] == "agent"
    piped = script("agent_info", "--json", "-", stdin='{"agent": "vps-monitor"}')
    assert piped.json["id"] == "vps-monitor"


def test_workforce_stats_guide_fields(script):
    stats = script("workforce_stats").json
    assert stats["total_agents"] == 5
    assert stats["active_agents"] == 5
    assert stats["categories"] == {"infrastructure": 1, "database": 2, "data_management": 2}
    assert stats["average_cost"] == "$0.001"
    assert stats["summary"]["operational_status"] in ("fully operational", "partially operational")
    assert set(stats["agents"]) == {
        "vps-monitor",
        "neon-database",
        "convex-database",
        "contractor-agent",
        "project-agent",
    }


def test_workforce_stats_rejects_bad_since(script):
    run = script("workforce_stats", "--since", "last tuesday")
    assert run.returncode == 2
    assert run.json["field"] == "since"


def test_workforce_stats_since_reaching_before_1970_means_everything(script):
    run = script("workforce_stats", "--since", "99999999999999w")
    assert run.returncode == 0, run.stdout
    assert run.json["since"] == "1970-01-01T00:00:00+00:00"


def test_a_json_only_field_is_known_in_json_and_listed_in_help_but_is_no_flag(script):
    help_text = script("execute_agent", "--help").stdout
    assert 'fields only in JSON input:\n  "llm_fallback"' in help_text
    as_flag = script("execute_agent", "--llm_fallback", "--task", "cpu")
    assert as_flag.returncode == 2 and as_flag.json["field"] == "llm_fallback"
    wrong_type = script("execute_agent", "--json", "-", stdin='{"task": "cpu", "llm_fallback": "no"}')
    assert wrong_type.returncode == 2 and wrong_type.json["error"] == "field 'llm_fallback' must be true or false"
