"""Execution through bin/execute_agent: the offline fast path on this machine, smart execute,
the refusals, and the ledger every run is written to."""

import json
import os
import subprocess
import sys

import yaml

from skills.config import Settings
from skills.ledger.records import ExecutionRecord, executions, record
from tests.fixtures.scripts import ROOT, copy_lexicons


def test_offline_cpu_usage_gives_real_numbers(script):
    run = script("execute_agent", "--agent", "vps-monitor", "--query", "Check CPU usage")
    assert run.returncode == 0, run.stdout
    body = run.json
    assert body["success"] is True
    assert body["agent"] == "vps-monitor" and body["agent_name"] == "VPS Monitor Agent"
    assert body["mode"] == "direct"
    assert body["usage"] == {"input_tokens": 0, "output_tokens": 0} and body["cost_usd"] == 0
    assert [call["name"] for call in body["tool_calls"]] == ["cpu_usage"]
    assert body["tool_calls"][0]["ok"] is True
    assert 0 <= body["data"]["busy_percent"] <= 100
    assert body["data"]["cores"] == os.cpu_count()
    assert "CPU" in body["response"]


def test_offline_memory_matches_proc_meminfo(script):
    body = script("execute_agent", "--agent", "vps-monitor", "--query", "how much RAM is free").json
    assert body["tool_calls"][0]["name"] == "memory_usage"
    with open("/proc/meminfo") as meminfo:
        total_kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    assert body["data"]["total_bytes"] == total_kib * 1024


def test_smart_execute_routes_then_executes(script):
    run = script("execute_agent", "--task", "Show me server health metrics")
    assert run.returncode == 0, run.stdout
    body = run.json
    assert body["agent"] == "vps-monitor"
    assert isinstance(body["confidence"], int) and body["confidence"] >= 1
    assert body["routing"]["status"] in ("routed", "high_confidence")
    assert body["response"]


def test_route_output_pipes_into_execute(script):
    routed = script("route_task", "--task", "Is the box running out of RAM?", "--auto-select")
    run = script("execute_agent", "--json", "-", stdin=routed.stdout)
    assert run.returncode == 0, run.stdout
    assert run.json["agent"] == "vps-monitor"
    assert run.json["tool_calls"][0]["name"] == "memory_usage"


def test_a_route_result_without_an_agent_pipes_into_smart_execute(script):
    routed = script("route_task", "--task", "who is the president of France")
    assert routed.json["status"] == "no_match"
    run = script("execute_agent", "--json", "-", stdin=routed.stdout)
    assert run.returncode == 1, run.stdout
    assert (run.json["success"], run.json["code"]) == (False, "no_match")


def test_a_piped_route_result_keeps_working_when_routing_says_more(script):
    routed = script("route_task", "--task", "Is the box running out of RAM?", "--auto-select", "--explain").json
    run = script("execute_agent", "--json", "-", stdin=json.dumps({**routed, "learned_from": ["feedback"]}))
    assert run.returncode == 0, run.stdout
    assert run.json["agent"] == "vps-monitor" and run.json["tool_calls"][0]["name"] == "memory_usage"
    stray = script("execute_agent", "--json", "-", stdin='{"agent": "vps-monitor", "query": "cpu", "priority": 1}')
    assert stray.returncode == 2 and stray.json["field"] == "priority"  # a caller's own unknown field


def test_smart_execute_returns_options_instead_of_guessing(script):
    unsure = script("execute_agent", "--task", "check the database server")
    assert unsure.returncode == 1
    assert unsure.json["success"] is False
    assert unsure.json["status"] == "multiple_matches"
    assert {o["agent_id"] for o in unsure.json["options"]} >= {"vps-monitor", "neon-database"}
    nothing = script("execute_agent", "--task", "write a haiku about spring")
    assert nothing.returncode == 1
    assert nothing.json["status"] == "no_match"


def test_unconfigured_agent_says_what_to_set(script):
    run = script("execute_agent", "--agent", "convex-database", "--query", "show my tasks")
    assert run.returncode == 2
    assert run.json["code"] == "agent_not_configured"
    assert "CONVEX_URL" in run.json["error"]


def test_offline_query_without_matching_tool_needs_the_model(script):
    run = script("execute_agent", "--agent", "vps-monitor", "--query", "write a limerick about our hosting")
    assert run.returncode == 2
    assert run.json["code"] == "model_required"
    assert "ANTHROPIC_API_KEY" in run.json["error"]
    # and it says what does work offline: each tool with a phrasing from the registry
    offered = {tool["name"]: tool["examples"] for tool in run.json["details"]["tools"]}
    assert "disk_usage" in offered and offered["disk_usage"][0] in run.json["error"]


def test_inactive_agent_is_refused(script, tmp_path):
    with open(os.path.join(ROOT, "registry", "agents.yaml")) as handle:
        document = yaml.safe_load(handle)
    document["agents"][0]["status"] = "maintenance"
    path = tmp_path / "agents.yaml"
    copy_lexicons(tmp_path)
    path.write_text(yaml.safe_dump(document))
    run = script("execute_agent", "--agent", "vps-monitor", "--query", "cpu", env={"ORCHESTRATOR_REGISTRY": str(path)})
    assert run.returncode == 1
    assert run.json["code"] == "agent_unavailable"


def test_execute_bad_input(script):
    assert script("execute_agent").json["field"] == "task"
    assert script("execute_agent", "--agent", "vps-monitor").json["field"] == "query"
    assert script("execute_agent", "--agent", "ghost", "--query", "x").returncode == 1


def test_workforce_stats_figures_match_what_was_executed(script, state_dir):
    for query in ("Check CPU usage", "show memory usage", "disk space left"):
        assert script("execute_agent", "--agent", "vps-monitor", "--query", query).returncode == 0
    script("execute_agent", "--agent", "vps-monitor", "--query", "write a limerick about our hosting")
    script("execute_agent", "--agent", "convex-database", "--query", "tasks")
    stats = script("workforce_stats").json
    vps = stats["agents"]["vps-monitor"]
    assert vps["calls"] == 4 and vps["successes"] == 3
    assert vps["success_rate"] == 0.75
    rows = executions(Settings({"ORCHESTRATOR_STATE_DIR": state_dir}))
    durations = sorted(r["duration_ms"] for r in rows if r["agent_id"] == "vps-monitor")
    assert vps["p50_ms"] == round(durations[1], 1)
    assert vps["p95_ms"] == round(durations[-1], 1)
    assert vps["last_used"] is not None
    assert stats["agents"]["convex-database"]["calls"] == 1
    assert stats["summary"]["total_executions"] == 5
    assert script("workforce_stats", "--since", "2099-01-01").json["summary"]["total_executions"] == 0


def test_ledger_keeps_secrets_out(tmp_path):
    settings = Settings({"ORCHESTRATOR_STATE_DIR": str(tmp_path), "ANTHROPIC_API_KEY": "sk-ant-api03-verysecretvalue"})
    record(
        settings,
        ExecutionRecord(
            agent_id="neon-database",
            query="use postgresql://admin:hunter2pw@db.example/x please",
            mode="direct",
            success=False,
            duration_ms=1.0,
            error="auth failed for key sk-ant-api03-verysecretvalue",
        ),
    )
    dump = json.dumps(executions(settings))
    assert "hunter2pw" not in dump and "verysecretvalue" not in dump
    assert "postgresql://admin:***@" in dump


def test_ledger_loses_no_rows_under_concurrent_processes(tmp_path):
    writer = (
        f"import sys; sys.path.insert(0, {ROOT!r})\n"
        "from skills.config import Settings\n"
        "from skills.ledger.records import ExecutionRecord, record\n"
        f"s = Settings({{'ORCHESTRATOR_STATE_DIR': {str(tmp_path)!r}}})\n"
        "for i in range(25):\n"
        "    record(s, ExecutionRecord(agent_id='vps-monitor', query=f'q{i}', mode='direct', success=True, duration_ms=i))\n"
    )
    processes = [subprocess.Popen([sys.executable, "-c", writer]) for _ in range(8)]
    assert all(p.wait(timeout=120) == 0 for p in processes)
    rows = executions(Settings({"ORCHESTRATOR_STATE_DIR": str(tmp_path)}))
    assert len(rows) == 200
    assert len({r["pid"] for r in rows}) == 8


def test_offline_question_about_two_things_runs_both_tools(script):
    body = script("execute_agent", "--agent", "vps-monitor", "--query", "Show CPU and memory usage").json
    assert [c["name"] for c in body["tool_calls"]] == ["cpu_usage", "memory_usage"]
    assert set(body["data"]) == {"cpu_usage", "memory_usage"}
    assert "CPU" in body["response"] and "memory" in body["response"]


def test_offline_path_does_not_invent_missing_arguments(script, db_settings):
    run = script(
        "execute_agent",
        "--agent",
        "neon-database",
        "--query",
        "run a SQL query counting boq line items",
        env={"NEON_DATABASE_URL": db_settings.database_url},
    )
    assert run.returncode == 2
    assert run.json["code"] == "model_required" and run.json["field"] == "sql"


def test_vague_question_falls_back_to_the_agents_default_tool(script, fake_convex):
    run = script("execute_agent", "--agent", "convex-database", "--query", "our bits please", env=fake_convex.env())
    assert run.returncode == 0, run.stdout
    assert run.json["tool_calls"][0]["name"] == "list_tasks"


def test_a_data_agent_never_falls_back_to_a_default_answer(script, db_settings):
    """A data agent has no default tool: what the interpreter cannot read is refused, naming the words."""
    run = script(
        "execute_agent",
        "--agent",
        "contractor-agent",
        "--query",
        "our zorbles please",
        env={"NEON_DATABASE_URL": db_settings.database_url},
    )
    assert run.returncode == 2, run.stdout
    assert run.json["code"] == "model_required" and "zorbles" in run.json["details"]["words"]
    assert run.json.get("tool_calls", []) == []


def test_a_company_named_networks_is_not_a_network_question(script):
    """Routed to vps-monitor by mistake, a contractor's name holding "Networks" gets no network figures."""
    run = script(
        "execute_agent", "--agent", "vps-monitor", "--query", "What's the phone number of Mzansi Aerial Networks?"
    )
    assert run.returncode == 2 and run.json["code"] == "model_required", run.stdout
    assert "rx_bytes" not in run.stdout
    title_case = script("execute_agent", "--agent", "vps-monitor", "--query", "Show Network Traffic")
    assert [call["name"] for call in title_case.json["tool_calls"]] == ["network_stats"]


def test_model_prices_are_read_again_when_models_yaml_changes(tmp_path):
    """A warm worker keeps the parsed prices, but an edited price list must be used at once."""
    from skills.registry.pricing import cost_usd

    settings = Settings({})
    settings.project_root = str(tmp_path)
    prices = tmp_path / "registry" / "models.yaml"
    prices.parent.mkdir()
    usage = {"input_tokens": 1_000_000, "output_tokens": 0}

    prices.write_text("models:\n  claude-test: {input_per_mtok: 1.0, output_per_mtok: 5.0}\n")
    assert cost_usd(settings, "claude-test", usage) == 1.0
    # another size too: mtime alone is coarse
    prices.write_text("models:\n  claude-test: {input_per_mtok: 12.5, output_per_mtok: 5.0}\n")
    assert cost_usd(settings, "claude-test", usage) == 12.5
