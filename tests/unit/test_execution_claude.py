"""The full tool loop end to end through bin/execute_agent: the real anthropic SDK talks to a
local server that speaks the Messages API, the agent's real tools run on this machine."""

import os

from tests.fixtures.fake_anthropic import api_error, overloaded, rate_limited, reply_text, reply_tool_use
from tests.fixtures.scripts import ROOT


def test_tool_loop_end_to_end_through_execute_agent(script, fake_anthropic):
    fake_anthropic.script(
        [
            reply_tool_use("cpu_usage", {"server": "localhost"}, input_tokens=400, output_tokens=30),
            reply_text("CPU is mostly idle.", input_tokens=600, output_tokens=20),
        ]
    )
    run = script(
        "execute_agent",
        "--agent",
        "vps-monitor",
        "--query",
        "How hard is the processor working?",
        env=fake_anthropic.env(),
    )
    assert run.returncode == 0, run.stdout
    body = run.json
    assert body["success"] is True and body["mode"] == "claude"
    assert body["response"] == "CPU is mostly idle."
    assert body["usage"] == {"input_tokens": 1000, "output_tokens": 50}
    # claude-haiku-4-5 at $1 / $5 per million tokens (registry/models.yaml)
    assert body["cost_usd"] == round((1000 * 1.0 + 50 * 5.0) / 1_000_000, 6)
    assert [(c["name"], c["ok"]) for c in body["tool_calls"]] == [("cpu_usage", True)]

    first, second = fake_anthropic.bodies
    with open(os.path.join(ROOT, "agents", "vps-monitor", "prompt.md")) as handle:
        assert first["system"] == handle.read().strip()
    assert first["model"] == "claude-haiku-4-5"
    assert {t["name"] for t in first["tools"]} >= {"cpu_usage", "memory_usage", "service_status"}
    tool_use = first_tool_use_id(second)
    results = [b for b in second["messages"][-1]["content"] if b["type"] == "tool_result"]
    assert results[0]["tool_use_id"] == tool_use
    assert "busy_percent" in str(results[0]["content"])


def first_tool_use_id(body: dict) -> str:
    assistant = next(m for m in body["messages"] if m["role"] == "assistant")
    return next(b["id"] for b in assistant["content"] if b["type"] == "tool_use")


def test_smart_execute_with_claude_and_the_ledger(script, fake_anthropic):
    fake_anthropic.script([reply_text("Disk is 40% full.", input_tokens=300, output_tokens=12)])
    run = script("execute_agent", "--task", "is the disk nearly full on the server", env=fake_anthropic.env())
    assert run.returncode == 0, run.stdout
    assert run.json["agent"] == "vps-monitor" and run.json["confidence"] >= 1
    stats = script("workforce_stats").json["agents"]["vps-monitor"]
    assert stats["input_tokens"] == 300 and stats["output_tokens"] == 12
    assert stats["cost_usd"] > 0


def test_direct_flag_skips_the_model_even_with_a_key(script, fake_anthropic):
    run = script("execute_agent", "--agent", "vps-monitor", "--query", "uptime", "--direct", env=fake_anthropic.env())
    assert run.json["mode"] == "direct"
    assert fake_anthropic.bodies == []


def test_model_errors_are_retried_then_reported_cleanly(script, fake_anthropic):
    fake_anthropic.script([rate_limited(), reply_text("fine after a retry")])
    ok = script("execute_agent", "--agent", "vps-monitor", "--query", "cpu?", env=fake_anthropic.env())
    assert ok.returncode == 0 and ok.json["response"] == "fine after a retry"
    fake_anthropic.reset()
    fake_anthropic.script([overloaded()] * 5 + [api_error()] * 5)
    failed = script("execute_agent", "--agent", "vps-monitor", "--query", "cpu?", env=fake_anthropic.env())
    assert failed.returncode == 3
    assert failed.json["code"] == "upstream_unavailable"
    assert fake_anthropic.api_key not in failed.stdout + failed.stderr
    assert "Traceback" not in failed.stdout + failed.stderr


def test_a_loop_that_fails_midway_still_books_its_tokens(script, fake_anthropic):
    fake_anthropic.script([reply_tool_use("uptime", {}, input_tokens=250, output_tokens=15)] + [api_error()] * 5)
    failed = script(
        "execute_agent", "--agent", "vps-monitor", "--query", "how long has it been up?", env=fake_anthropic.env()
    )
    assert failed.returncode == 3
    vps = script("workforce_stats").json["agents"]["vps-monitor"]
    assert vps["calls"] == 1 and vps["successes"] == 0
    assert vps["input_tokens"] == 250 and vps["output_tokens"] == 15


# -- never answering for a thing that does not exist, in the Claude loop too ------------------------


def test_a_server_that_is_not_configured_is_refused_before_the_model_is_asked(script, fake_anthropic):
    fake_anthropic.script([reply_tool_use("disk_usage", {}), reply_text("Disk is 25% used.")])
    run = script(
        "execute_agent", "--agent", "vps-monitor", "--query", "Disk usage on server web7", env=fake_anthropic.env()
    )
    assert run.returncode == 1, run.stdout
    assert run.json["code"] == "not_found" and run.json["details"]["name"] == "web7"
    assert fake_anthropic.bodies == []  # no tokens spent, and no chance to answer with localhost's numbers


def test_a_tool_refuses_an_unknown_name_the_model_gives_and_the_run_is_not_found(script, fake_anthropic, pg_url):
    fake_anthropic.script(
        [
            reply_tool_use("describe_table", {"table": "ledgers"}, input_tokens=300, output_tokens=20),
            reply_text("There is no ledgers table.", input_tokens=350, output_tokens=15),
        ]
    )
    run = script(
        "execute_agent",
        "--agent",
        "neon-database",
        "--query",
        "Which fields does the ledgers thingamajig hold?",  # words the interpreter cannot read: the model's turn
        env={**fake_anthropic.env(), "DATABASE_URL": pg_url},
    )
    assert run.returncode == 1, run.stdout
    body = run.json
    assert body["code"] == "not_found" and body["details"]["name"] == "ledgers"
    assert body["details"]["answer"] == "There is no ledgers table."
    assert [(c["name"], c["ok"], c.get("code")) for c in body["details"]["tool_calls"]] == [
        ("describe_table", False, "not_found")
    ]
    refusal = next(b for b in fake_anthropic.bodies[1]["messages"][-1]["content"] if b["type"] == "tool_result")
    assert refusal["is_error"] is True and "closest known tables" in refusal["content"]
    stats = script("workforce_stats").json["agents"]["neon-database"]
    assert stats["calls"] == 1 and stats["successes"] == 0 and stats["input_tokens"] == 650


def test_the_model_may_correct_a_name_from_the_closest_ones(script, fake_anthropic, pg_url):
    fake_anthropic.script(
        [
            reply_tool_use("describe_table", {"table": "purchase_order"}),
            reply_tool_use("describe_table", {"table": "purchase_orders"}),
            reply_text("purchase_orders has a po_number and a total."),
        ]
    )
    run = script(
        "execute_agent",
        "--agent",
        "neon-database",
        "--query",
        "Which fields does the purchase order thingamajig hold?",
        env={**fake_anthropic.env(), "DATABASE_URL": pg_url},
    )
    assert run.returncode == 0, run.stdout
    assert [(c["name"], c["ok"]) for c in run.json["tool_calls"]] == [
        ("describe_table", False),
        ("describe_table", True),
    ]
    first_refusal = fake_anthropic.bodies[1]["messages"][-1]["content"][0]["content"]
    assert "purchase_orders" in first_refusal  # the closest name is offered to the model
