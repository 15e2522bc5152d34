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

import pytest

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


def run_client(node: str, env: dict, *args: str) -> dict:
    result = subprocess.run(
        [node, os.path.join(NODE_DIR, "client.mjs"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=NODE_DIR,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


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


def test_the_typescript_sdk_uses_every_tool_over_stdio(node, state_dir):
    report = run_client(node, clean_env(state_dir), "stdio", sys.executable, MCP_BIN)
    check_report(report)


def test_the_typescript_sdk_uses_every_tool_over_streamable_http(node, state_dir):
    server = start_http(state_dir, ORCHESTRATOR_API_KEY="node-key-123")
    try:
        report = run_client(node, clean_env(state_dir), "http", server.url, "node-key-123")
    finally:
        server.stop()
    check_report(report)
