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
    run = script(
        "execute_agent", "--task", "is the disk nearly full on the production server", env=fake_anthropic.env()
    )
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
