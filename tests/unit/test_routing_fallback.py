"""The routing fallback: one forced `choose_agent` call settles an unsure route, through the real SDK.

In-process tests call `settle` on real route results; the script and HTTP tests run bin/route_task,
bin/execute_agent and the server against the fake Messages API.
"""

from __future__ import annotations

import json

import pytest
import requests
import yaml

from skills.config import Settings
from skills.execution.fallback import settle
from skills.ledger.records import routing_fallbacks
from skills.ledger.stats import workforce_stats
from skills.registry.loader import load_registry
from skills.routing import route
from tests.fixtures.fake_anthropic import api_error, delayed, rate_limited, reply_choice, reply_text
from tests.fixtures.scripts import copy_lexicons

BASE = {"category": "test", "status": "active", "cost_per_query": 0.001}
TWIN_EVIDENCE = {"triggers": ["gizmo", "widget"], "examples": ["Check the gizmo", "Is the widget fine?"]}
AGENTS = [  # two agents that only their descriptions tell apart, and one of their own
    {
        "id": "servers",
        "name": "Server Agent",
        "description": "Watches the servers: CPU, memory, disk and the services running on them.",
        "model": "claude-sonnet-4-5",
        **TWIN_EVIDENCE,
    },
    {
        "id": "data",
        "name": "Data Agent",
        "description": "Answers questions about contractors and tables in the database.",
        "model": "claude-haiku-4-5",
        **TWIN_EVIDENCE,
    },
    {
        "id": "tasks",
        "name": "Task Agent",
        "description": "Keeps the team's to-do list.",
        "model": "claude-sonnet-4-5",
        "triggers": ["todo", "task list", "reminder"],
        "examples": ["What is on my todo list?", "Add a reminder to call the firms on our books"],
    },
]
CHEAPEST = "claude-haiku-4-5"  # of the models above, by registry/models.yaml
TIED = "check the gizmo"  # the twins' evidence: too close to call
SURE = "what is on my todo list"
WEAK = "the firms"  # words of one example of tasks: half way to routing there, not all the way
FAR = "tell me a joke"  # suggestions too, but nowhere near any agent


@pytest.fixture
def registry(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(yaml.safe_dump({"agents": [{**BASE, **agent} for agent in AGENTS]}))
    return load_registry(str(path), str(tmp_path / "state"))


@pytest.fixture
def settings(tmp_path, fake_anthropic):
    return Settings(
        {
            **fake_anthropic.env(),
            "ORCHESTRATOR_STATE_DIR": str(tmp_path / "state"),
            "ORCHESTRATOR_AGENT_TIMEOUT": "30",
            # the first call imports the SDK: on a loaded machine that alone can pass the 2 s default
            "ORCHESTRATOR_LLM_FALLBACK_TIMEOUT": "30",
        }
    )


def unsure(registry, task: str, status: str) -> dict:
    result = route(registry, task)
    assert result["status"] == status, result  # the lexical answer this test starts from
    return result


# ---------------------------------------------------------------- what the model is asked and what it picks


def test_a_pick_routes_to_the_chosen_candidate(registry, settings, fake_anthropic):
    fake_anthropic.script([reply_choice("data")])
    lexical = unsure(registry, TIED, "multiple_matches")
    settled = settle(registry, lexical, TIED, settings)
    assert settled["status"] == "routed"
    assert settled["agent"] == next(o for o in lexical["options"] if o["agent_id"] == "data")
    assert [a["agent_id"] for a in settled["alternatives"]] == ["servers"]
    assert "options" not in settled
    report = settled["llm_fallback"]
    assert report["used"] is True and report["agent_id"] == "data" and report["model"] == CHEAPEST
    assert (report["input_tokens"], report["output_tokens"]) == (180, 12)
    assert report["cost_usd"] == pytest.approx((180 * 1.00 + 12 * 5.00) / 1e6)


def test_the_request_forces_choose_agent_over_the_candidates_only(registry, settings, fake_anthropic):
    fake_anthropic.script([reply_choice("servers")])
    settle(registry, unsure(registry, TIED, "multiple_matches"), TIED, settings)
    [body] = fake_anthropic.bodies
    assert body["model"] == CHEAPEST
    assert body["tool_choice"] == {"type": "tool", "name": "choose_agent"}
    [tool] = body["tools"]
    assert tool["name"] == "choose_agent"
    choice = tool["input_schema"]["properties"]["agent_id"]
    assert choice["anyOf"][1] == {"type": "null"}
    assert sorted(choice["anyOf"][0]["enum"]) == ["data", "servers"]
    text = body["messages"][0]["content"]
    assert TIED in text
    for agent in AGENTS[:2]:
        assert agent["id"] in text and agent["name"] in text and agent["description"] in text
    assert "tasks" not in text  # not a candidate


def test_a_weak_no_match_is_settled_among_its_near_misses(registry, settings, fake_anthropic):
    fake_anthropic.script([reply_choice("tasks")])
    lexical = unsure(registry, WEAK, "no_match")
    settled = settle(registry, lexical, WEAK, settings)
    assert settled["status"] == "routed" and settled["agent"]["agent_id"] == "tasks"
    assert "suggestions" not in settled and "message" not in settled
    [body] = fake_anthropic.bodies
    assert body["tools"][0]["input_schema"]["properties"]["agent_id"]["anyOf"][0]["enum"] == ["tasks"]


def test_null_means_no_match_with_the_candidates_as_suggestions(registry, settings, fake_anthropic):
    fake_anthropic.script([reply_choice(None)])
    lexical = unsure(registry, TIED, "multiple_matches")
    settled = settle(registry, lexical, TIED, settings)
    assert settled["status"] == "no_match" and settled["agent"] is None
    assert settled["suggestions"] == lexical["options"]
    assert settled["message"]
    assert settled["llm_fallback"]["used"] is True and settled["llm_fallback"]["agent_id"] is None


# ---------------------------------------------------------------- when the lexical answer stands


def assert_lexical_answer_stands(settled: dict, lexical: dict, reason_start: str, fake_anthropic) -> None:
    assert {k: v for k, v in settled.items() if k != "llm_fallback"} == lexical
    report = settled["llm_fallback"]
    assert report["used"] is False and report["reason"].startswith(reason_start), report
    assert fake_anthropic.api_key not in json.dumps(settled)


@pytest.mark.parametrize("failure", [api_error, rate_limited], ids=["500", "429"])
def test_an_api_error_leaves_the_lexical_answer_without_retrying(failure, registry, settings, fake_anthropic):
    fake_anthropic.script([failure(), reply_choice("data")])
    lexical = unsure(registry, TIED, "multiple_matches")
    settled = settle(registry, lexical, TIED, settings)
    assert_lexical_answer_stands(settled, lexical, "api_error", fake_anthropic)
    assert str(failure().status) in settled["llm_fallback"]["reason"]
    assert len(fake_anthropic.bodies) == 1  # no retry: the budget is one short call


def test_a_slow_answer_times_out_and_the_lexical_answer_stands(registry, tmp_path, fake_anthropic):
    settings = Settings({**fake_anthropic.env(), "ORCHESTRATOR_STATE_DIR": str(tmp_path / "state")})
    assert settings.llm_fallback_timeout_s == 2.0  # the default, against an answer 5 s late
    fake_anthropic.script([delayed(5, reply_choice("data"))])
    lexical = unsure(registry, TIED, "multiple_matches")
    settled = settle(registry, lexical, TIED, settings)
    assert_lexical_answer_stands(settled, lexical, "timeout", fake_anthropic)
    assert len(fake_anthropic.bodies) == 1


def test_an_id_that_is_not_a_candidate_is_ignored_but_its_tokens_are_booked(registry, settings, fake_anthropic):
    fake_anthropic.script([reply_choice("payroll-agent", input_tokens=150, output_tokens=10)])
    lexical = unsure(registry, TIED, "multiple_matches")
    settled = settle(registry, lexical, TIED, settings)
    assert_lexical_answer_stands(settled, lexical, "invalid_answer", fake_anthropic)
    assert "payroll-agent" in settled["llm_fallback"]["reason"]
    [row] = routing_fallbacks(settings)
    assert row["used"] == 0 and row["input_tokens"] == 150 and row["cost_usd"] > 0


def test_without_a_key_the_model_is_never_called(registry, tmp_path, fake_anthropic):
    keyless = Settings({"ANTHROPIC_BASE_URL": fake_anthropic.base_url, "ORCHESTRATOR_STATE_DIR": str(tmp_path)})
    lexical = unsure(registry, TIED, "multiple_matches")
    settled = settle(registry, lexical, TIED, keyless)
    assert settled["status"] == "multiple_matches"
    assert settled["llm_fallback"] == {"used": False, "reason": "ANTHROPIC_API_KEY is not set"}
    assert fake_anthropic.requests == []


def test_a_sure_route_is_not_sent(registry, settings, fake_anthropic):
    settled = settle(registry, unsure(registry, SURE, "high_confidence"), SURE, settings)
    assert settled["status"] == "high_confidence" and settled["llm_fallback"]["reason"].startswith("not needed")
    assert fake_anthropic.requests == []


def test_a_no_match_nowhere_near_any_agent_is_not_sent(registry, settings, fake_anthropic):
    lexical = unsure(registry, FAR, "no_match")
    assert lexical["suggestions"]  # a shared stopword is enough for a suggestion, not for a question
    settled = settle(registry, lexical, FAR, settings)
    assert settled == {**lexical, "llm_fallback": settled["llm_fallback"]}
    assert settled["llm_fallback"]["reason"].startswith("no candidates")
    assert fake_anthropic.requests == []


# ---------------------------------------------------------------- the ledger


def test_each_call_is_booked_and_counted_in_the_workforce_cost(registry, settings, fake_anthropic):
    fake_anthropic.script([reply_choice("data", input_tokens=200, output_tokens=20), api_error()])
    settle(registry, unsure(registry, TIED, "multiple_matches"), TIED, settings)
    settle(registry, unsure(registry, WEAK, "no_match"), WEAK, settings)
    picked, failed = routing_fallbacks(settings)
    assert (picked["used"], picked["agent_id"], picked["model"], picked["route_status"]) == (
        1,
        "data",
        CHEAPEST,
        "multiple_matches",
    )
    assert picked["cost_usd"] == pytest.approx((200 * 1.00 + 20 * 5.00) / 1e6)
    assert failed["used"] == 0 and "HTTP 500" in failed["reason"] and failed["cost_usd"] == 0
    stats = workforce_stats(registry, settings)
    assert stats["routing_fallback"]["calls"] == 2 and stats["routing_fallback"]["used"] == 1
    assert stats["routing_fallback"]["input_tokens"] == 200
    assert stats["summary"]["measured_cost_usd"] == pytest.approx(picked["cost_usd"])


# ---------------------------------------------------------------- through the scripts and over HTTP

SHARED = "check the gizmo"  # the twins' evidence


@pytest.fixture
def tied_registry_env(tmp_path, fake_anthropic) -> dict:
    """The real registry, with vps-monitor and neon-database made twins: only their descriptions differ."""
    with open("registry/agents.yaml", encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    for agent in document["agents"]:
        if agent["id"] in ("vps-monitor", "neon-database"):
            # tools' examples and a lexicon are evidence too
            for key in ("weak_triggers", "tools", "default_tool", "context", "data"):
                agent.pop(key, None)
            agent.update(TWIN_EVIDENCE)
    path = tmp_path / "tied-agents.yaml"
    copy_lexicons(tmp_path)
    path.write_text(yaml.safe_dump(document))
    # a script imports the SDK before it asks: on a loaded machine that alone can pass the 2 s default
    # (its timeout is tested in-process, test_a_slow_answer_times_out_and_the_lexical_answer_stands)
    return {**fake_anthropic.env(), "ORCHESTRATOR_REGISTRY": str(path), "ORCHESTRATOR_LLM_FALLBACK_TIMEOUT": "30"}


def test_route_task_asks_the_model_only_with_llm_fallback(script, tied_registry_env, fake_anthropic):
    plain = script("route_task", "--task", SHARED, env=tied_registry_env)
    assert plain.json["status"] == "multiple_matches" and "llm_fallback" not in plain.json
    assert fake_anthropic.requests == []
    fake_anthropic.script([reply_choice("vps-monitor")])
    settled = script("route_task", "--task", SHARED, "--llm-fallback", env=tied_registry_env)
    assert settled.returncode == 0, settled.stdout
    assert settled.json["status"] == "routed" and settled.json["agent"]["agent_id"] == "vps-monitor"
    assert settled.json["llm_fallback"]["used"] is True
    assert script("workforce_stats", env=tied_registry_env).json["routing_fallback"]["calls"] == 1


def test_route_task_null_answer_is_a_no_match_exit_1(script, tied_registry_env, fake_anthropic):
    fake_anthropic.script([reply_choice(None)])
    run = script(
        "route_task", "--json", "-", stdin=json.dumps({"task": SHARED, "llm_fallback": True}), env=tied_registry_env
    )
    assert run.returncode == 1 and run.json["status"] == "no_match"
    assert {s["agent_id"] for s in run.json["suggestions"]} == {"vps-monitor", "neon-database"}


def test_smart_execute_asks_the_model_by_default_and_books_both_calls(script, tied_registry_env, fake_anthropic):
    fake_anthropic.script([reply_choice("vps-monitor"), reply_text("CPU is at 3%.", input_tokens=300, output_tokens=9)])
    run = script("execute_agent", "--task", SHARED, env=tied_registry_env)
    assert run.returncode == 0, run.stdout
    assert run.json["agent"] == "vps-monitor" and run.json["response"] == "CPU is at 3%."
    assert run.json["routing"]["status"] == "routed" and run.json["routing"]["llm_fallback"]["used"] is True
    choose, execute = fake_anthropic.bodies
    assert choose["tool_choice"]["name"] == "choose_agent" and "choose_agent" not in {
        t["name"] for t in execute["tools"]
    }
    stats = script("workforce_stats", env=tied_registry_env).json
    fallback_cost = run.json["routing"]["llm_fallback"]["cost_usd"]
    assert stats["summary"]["measured_cost_usd"] == pytest.approx(run.json["cost_usd"] + fallback_cost)


def test_smart_execute_without_the_fallback_hands_back_the_options(script, tied_registry_env, fake_anthropic):
    off = script("execute_agent", "--task", SHARED, "--no-llm-fallback", env=tied_registry_env)
    assert off.returncode == 1 and off.json["success"] is False and "llm_fallback" not in off.json
    off_json = script(
        "execute_agent", "--json", "-", stdin=json.dumps({"task": SHARED, "llm_fallback": False}), env=tied_registry_env
    )
    assert off_json.returncode == 1 and off_json.json["success"] is False
    assert fake_anthropic.requests == []
    bad = script("execute_agent", "--json", "-", stdin=json.dumps({"task": SHARED, "llm_fallback": "yes"}))
    assert bad.returncode == 2 and bad.json["field"] == "llm_fallback"


def test_smart_execute_keeps_the_options_when_the_model_fails(script, tied_registry_env, fake_anthropic):
    fake_anthropic.script([api_error()])
    run = script("execute_agent", "--task", SHARED, env=tied_registry_env)
    assert run.returncode == 1 and run.json["success"] is False
    assert run.json["llm_fallback"]["used"] is False and "HTTP 500" in run.json["llm_fallback"]["reason"]
    assert fake_anthropic.api_key not in run.stdout + run.stderr


def test_over_http_route_on_request_and_smart_execute_by_default(state_dir, tied_registry_env, fake_anthropic):
    from tests.fixtures.http_server import start_server

    # what is tested is the plumbing, not the time limits: on a loaded machine the SDK's first import in
    # a route worker alone can outlast the request's default 10 s and the call's 2 s (tested apart)
    slow_machine = {"ORCHESTRATOR_REQUEST_TIMEOUT": "120", "ORCHESTRATOR_LLM_FALLBACK_TIMEOUT": "60"}
    server = start_server(state_dir, **{**tied_registry_env, **slow_machine})
    try:
        url = server.url + "/orchestrator/"
        plain = requests.post(url + "route", json={"task": SHARED}, timeout=30)
        assert plain.status_code == 200 and "llm_fallback" not in plain.json()
        assert fake_anthropic.requests == []
        fake_anthropic.script([reply_choice("neon-database")])
        asked = requests.post(url + "route", json={"task": SHARED, "llm_fallback": True}, timeout=30).json()
        assert asked["status"] == "routed" and asked["agent"]["agent_id"] == "neon-database"
        assert asked["llm_fallback"]["used"] is True
        bad = requests.post(url + "route", json={"task": SHARED, "llm_fallback": "yes"}, timeout=30)
        assert bad.status_code == 422 and bad.json()["field"] == "llm_fallback"
        fake_anthropic.script([reply_choice(None)])
        smart = requests.post(url + "smart-execute", json={"task": SHARED}, timeout=30)
        assert smart.json()["status"] == "no_match" and smart.json()["llm_fallback"]["agent_id"] is None
        assert len(fake_anthropic.bodies) == 2
        metrics = requests.get(server.url + "/metrics", timeout=30).text
        assert 'orchestrator_llm_fallback_total{outcome="used"} 2' in metrics
        bad = requests.post(url + "smart-execute", json={"task": SHARED, "llm_fallback": 1}, timeout=30)
        assert bad.status_code == 422 and bad.json()["field"] == "llm_fallback"
    finally:
        server.stop()
