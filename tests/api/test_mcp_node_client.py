"""bin/orchestrator_mcp driven by the official MCP TypeScript SDK (@modelcontextprotocol/sdk from npm).

tests/mcp_node/client.mjs lists the tools, calls every one, reads resources and the prompt, and
prints what it got as one JSON report; `bin/setup --test` installs the SDK there. The SDK checks
each structured result against the tool's output schema, so a schema that lies fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.fixtures.fake_anthropic import delayed, reply_text
from tests.fixtures.mcp_server import MCP_BIN, start_http
from tests.fixtures.scripts import ROOT, clean_env

NODE_DIR = os.path.join(ROOT, "tests", "mcp_node")
TOOLS = {"route_task", "execute_agent", "smart_execute", "list_agents", "agent_info", "workforce_stats"}


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    sdk = os.path.join(NODE_DIR, "node_modules", "@modelcontextprotocol", "sdk", "package.json")
    if path is None or not os.path.isfile(sdk):
        pytest.fail(
            "node or the MCP TypeScript SDK is missing: run bin/setup --test (it runs npm ci in tests/mcp_node)"
        )
    return path


def run_client(node: str, env: dict, fake_anthropic, *args: str) -> dict:
    """Run client.mjs; once its slow Claude run has reached the model, tell it (a line on stdin) to cancel."""
    proc = subprocess.Popen(
        [node, os.path.join(NODE_DIR, "client.mjs"), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=NODE_DIR,
    )
    try:
        stop = time.monotonic() + 180
        while not fake_anthropic.requests and proc.poll() is None and time.monotonic() < stop:
            time.sleep(0.05)
        if proc.poll() is None:
            proc.stdin.write("cancel now\n")
            proc.stdin.flush()
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out)


def check_report(report: dict) -> None:
    assert report["server"]["name"] == "fibreflow-orchestrator"
    tools = {tool["name"]: tool for tool in report["tools"]}
    assert set(tools) == TOOLS and all(tool["hasOutputSchema"] for tool in tools.values())
    assert tools["execute_agent"]["annotations"]["destructiveHint"] is True
    assert tools["route_task"]["annotations"]["readOnlyHint"] is True
    calls = report["calls"]
    for name in TOOLS:
        assert calls[name]["isError"] is False, calls[name]
        text = json.loads(calls[name]["text"])
        assert calls[name]["structured"] == ({"agents": text} if isinstance(text, list) else text)
    assert calls["route_task"]["structured"]["agent"]["agent_id"] == "vps-monitor"
    assert {agent["category"] for agent in calls["list_agents"]["structured"]["agents"]} == {"database"}
    assert calls["execute_agent"]["structured"]["success"] is True
    assert calls["smart_execute"]["structured"]["agent"] == "vps-monitor"
    assert (
        calls["unknown_agent"]["isError"] is True and calls["unknown_agent"]["structured"]["code"] == "agent_not_found"
    )
    assert calls["wrong_type"]["isError"] is True and calls["wrong_type"]["structured"]["field"] == "task"
    assert report["unknown_tool"]["code"] == -32602
    assert "orchestrator://agents/vps-monitor" in report["resources"]
    assert report["agent_resource"]["id"] == "vps-monitor"
    assert report["missing_resource"]["code"] == -32002
    assert "smart_execute" in report["prompt"] and "How many active contractors?" in report["prompt"]
    # the slow run reported progress, was cancelled, and the next run got the next scripted answer
    assert report["progress"] and "execute_agent" in report["progress"][0]["message"]
    assert report["cancelled"] is not None
    assert report["after_cancel"]["structured"]["response"] == "The disk is 40% full."


def script_claude_runs(fake_anthropic) -> None:
    fake_anthropic.script([delayed(60, reply_text("too late")), reply_text("The disk is 40% full.")])


def test_the_typescript_sdk_uses_every_tool_over_stdio(node, state_dir, fake_anthropic):
    script_claude_runs(fake_anthropic)
    env = clean_env(state_dir, **fake_anthropic.env())
    report = run_client(node, env, fake_anthropic, "stdio", sys.executable, MCP_BIN)
    check_report(report)


def test_the_typescript_sdk_uses_every_tool_over_streamable_http(node, state_dir, fake_anthropic):
    script_claude_runs(fake_anthropic)
    server = start_http(state_dir, ORCHESTRATOR_API_KEY="node-key-123", **fake_anthropic.env())
    try:
        report = run_client(node, clean_env(state_dir), fake_anthropic, "http", server.url, "node-key-123")
    finally:
        server.stop()
    check_report(report)
