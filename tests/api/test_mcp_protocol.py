"""bin/orchestrator_mcp at the wire: raw JSON-RPC lines on stdin (malformed ones, a cancellation),
SIGTERM, --help, and the SDK kept out of the scripts."""

from __future__ import annotations

import ast
import json
import os
import select
import signal
import subprocess
import sys

from tests.fixtures.fake_anthropic import delayed, reply_text
from tests.fixtures.mcp_server import MCP_BIN, processes_of
from tests.fixtures.processes import wait_for
from tests.fixtures.scripts import ROOT, clean_env

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}


class RawServer:
    """The server on pipes: write lines, read one JSON-RPC message per line."""

    def __init__(self, env: dict):
        self.proc = subprocess.Popen(
            [sys.executable, MCP_BIN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )

    def send(self, message) -> None:
        line = message if isinstance(message, str) else json.dumps(message)
        self.proc.stdin.write(line.encode("utf-8") + b"\n")
        self.proc.stdin.flush()

    def receive_answer(self, request_id, limit_s: float = 60.0) -> dict:
        """The response to `request_id`, skipping notifications and other answers on the way."""
        while True:
            message = self.receive(limit_s)
            if message.get("id") == request_id and "method" not in message:
                return message

    def receive(self, limit_s: float = 30.0) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], limit_s)
        assert ready, "the server did not answer"
        return json.loads(self.proc.stdout.readline())

    def close(self) -> int:
        self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=15)
        finally:
            self.proc.stdout.close()


def test_malformed_lines_get_jsonrpc_errors_and_the_server_stays_up(script_env):
    server = RawServer(script_env)
    try:
        server.send(INITIALIZE)
        assert server.receive()["result"]["serverInfo"]["name"] == "fibreflow-orchestrator"
        server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        server.send("this is not json")
        server.send('{"jsonrpc": "2.0", "id": 2}')  # neither a request nor a response
        server.send('{"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": "route_task"}')
        server.send('{"jsonrpc": "2.0", "id": 4, "method": "tools/call"')  # cut short
        server.send("")  # blank lines are skipped
        server.send({"jsonrpc": "2.0", "id": 5, "method": "no/such/method"})
        server.send({"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"arguments": {}}})  # no name
        server.send(
            {
                "jsonrpc": "2.0",
                "id": 7,
                "method": "tools/call",
                "params": {"name": "route_task", "arguments": {"task": "disk"}},
            }
        )
        replies = [server.receive() for _ in range(7)]
    finally:
        status = server.close()
    not_json, no_method, bad_params, cut_short, unknown_method, no_name, routed = replies
    assert not_json["id"] is None and not_json["error"]["code"] == -32700
    assert no_method["id"] == 2 and no_method["error"]["code"] == -32600
    assert bad_params["id"] == 3 and bad_params["error"]["code"] == -32600
    assert cut_short["id"] is None and cut_short["error"]["code"] == -32700
    assert unknown_method["id"] == 5 and unknown_method["error"]["code"] == -32601
    assert no_name["id"] == 6 and no_name["error"]["code"] == -32602
    assert (
        routed["id"] == 7 and json.loads(routed["result"]["content"][0]["text"])["agent"]["agent_id"] == "vps-monitor"
    )
    assert status == 0  # stdin closed: a clean exit


def test_a_cancelled_call_kills_its_agent_run_and_the_server_carries_on(state_dir, fake_anthropic):
    fake_anthropic.script([delayed(60, reply_text("too late")), reply_text("The disk is 40% full.")])
    env = clean_env(state_dir, ORCHESTRATOR_WORKERS="1", **fake_anthropic.env())  # one warm execute_agent worker
    server = RawServer(env)
    try:
        server.send(INITIALIZE)
        server.receive()
        server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert wait_for(lambda: len(processes_of(state_dir, "execute_agent")) == 1)
        [worker] = processes_of(state_dir, "execute_agent")
        server.send(tool_call(2, "execute_agent", {"agent": "vps-monitor", "query": "What is the load average?"}))
        assert wait_for(lambda: len(fake_anthropic.requests) == 1)  # the agent run is waiting on the model
        server.send(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2, "reason": "stop"}}
        )
        assert wait_for(lambda: worker not in processes_of(state_dir, "execute_agent"))  # killed, not left to finish
        server.send(tool_call(3, "execute_agent", {"agent": "vps-monitor", "query": "How full is the disk?"}))
        after = server.receive_answer(3)
    finally:
        server.close()
    assert json.loads(after["result"]["content"][0]["text"])["response"] == "The disk is 40% full."


def tool_call(request_id: int, name: str, arguments: dict) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


def test_help_describes_transports_tools_and_settings():
    result = subprocess.run(
        [sys.executable, MCP_BIN, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    for words in ("--http", "--host", "--port", "--allow-remote", "stdio", "ORCHESTRATOR_API_KEY", "ALLOWED_ORIGINS"):
        assert words in result.stdout
    for tool in ("route_task", "execute_agent", "smart_execute", "list_agents", "agent_info", "workforce_stats"):
        assert tool in result.stdout


def _imported_modules(path: str) -> set[str]:
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_mcp_wiring_imports_the_sdk():
    sdk = {"mcp", "mcp_types", "uvicorn", "starlette", "anyio"}
    importers = []
    for folder, _, files in os.walk(os.path.join(ROOT, "skills")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                if _imported_modules(path) & sdk:
                    importers.append(os.path.relpath(path, ROOT))
    assert sorted(importers) == [os.path.join("skills", "mcp", name) for name in ("server.py", "transports.py")]


def test_the_scripts_and_the_tool_definitions_load_without_the_sdk():
    code = (
        "import sys\n"
        "import skills.commands.route_task, skills.commands.execute_agent, skills.commands.orchestrator_mcp\n"
        "import skills.mcp.tools, skills.mcp.resources, skills.mcp.http, skills.bench.mcp, skills.server.app\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'mcp_types', 'pydantic', 'starlette')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_sigterm_stops_a_stdio_server_and_its_workers(state_dir):
    server = RawServer(clean_env(state_dir))
    try:
        server.send(INITIALIZE)
        assert "result" in server.receive()
        assert processes_of(state_dir, "route_task") and processes_of(state_dir, "execute_agent")
        server.proc.send_signal(signal.SIGTERM)
        status = server.proc.wait(timeout=30)  # while the client still holds stdin open
    finally:
        server.close()
    assert status == 0
    assert processes_of(state_dir, "route_task") == [] and processes_of(state_dir, "execute_agent") == []
