"""bin/orchestrator_mcp --http: streamable HTTP at /mcp with the Python SDK's client, and its gate:
API key (401), Origin against ALLOWED_ORIGINS (403, as the MCP specification asks), loopback only."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
import requests
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.fixtures.mcp_server import MCP_BIN, processes_of, start_http
from tests.fixtures.scripts import clean_env

API_KEY = "mcp-test-key-0123456789"
ALLOWED = "https://app.example"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    state = str(tmp_path_factory.mktemp("mcp-http-state"))
    running = start_http(state, ORCHESTRATOR_API_KEY=API_KEY, ALLOWED_ORIGINS=ALLOWED)
    yield running
    running.stop()


@pytest.fixture
def anyio_backend():
    return "asyncio"


def post(server, headers: dict, body=INITIALIZE) -> requests.Response:
    return requests.post(server.url, data=json.dumps(body), headers={**MCP_HEADERS, **headers}, timeout=30)


@pytest.mark.anyio
async def test_the_python_sdk_client_calls_tools_over_streamable_http(server):
    client = httpx.AsyncClient(headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60)
    async with (
        client,
        streamable_http_client(server.url, http_client=client) as (read_stream, write_stream, _),
        ClientSession(read_stream, write_stream) as session,
    ):
        await session.initialize()
        names = {tool.name for tool in (await session.list_tools()).tools}
        routed = await session.call_tool("route_task", {"task": "Check CPU usage on the server"})
        ran = await session.call_tool("smart_execute", {"task": "Show me server health metrics"})
        failed = await session.call_tool("agent_info", {"agent": "no-such-agent"})
        agent = await session.read_resource("orchestrator://agents/vps-monitor")
    assert names == {"route_task", "execute_agent", "smart_execute", "list_agents", "agent_info", "workforce_stats"}
    assert routed.structuredContent["agent"]["agent_id"] == "vps-monitor"
    assert ran.isError is False and ran.structuredContent["success"] is True
    assert failed.isError is True and failed.structuredContent["code"] == "agent_not_found"
    assert json.loads(agent.contents[0].text)["id"] == "vps-monitor"


def test_without_the_api_key_every_request_is_401(server):
    missing = post(server, {})
    wrong = post(server, {"Authorization": "Bearer not-the-key"})
    fetched = requests.get(server.url, headers={"Accept": "text/event-stream"}, timeout=30)
    for response in (missing, wrong, fetched):
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized" and response.json()["field"] == "Authorization"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert API_KEY not in response.text
    assert post(server, {"Authorization": f"Bearer {API_KEY}"}).status_code == 200


def test_a_foreign_origin_is_refused_even_with_the_key(server):
    response = post(server, {"Authorization": f"Bearer {API_KEY}", "Origin": "https://evil.example"})
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "origin_not_allowed" and body["field"] == "Origin" and "ALLOWED_ORIGINS" in body["error"]
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_rebound_host_is_refused_by_the_same_check_as_the_http_api(server):
    port = server.url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
    rebound = {
        "Authorization": f"Bearer {API_KEY}",
        "Host": "rebind.evil.example",
        "Origin": "http://rebind.evil.example",
    }
    response = post(server, rebound)
    assert response.status_code == 421
    assert response.json()["code"] == "host_not_allowed" and response.json()["field"] == "Host"
    assert post(server, {"Authorization": f"Bearer {API_KEY}", "Host": f"localhost:{port}"}).status_code == 200


def test_an_allowed_origin_gets_cors_and_its_preflight_needs_no_key(server):
    preflight = requests.options(
        server.url,
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=30,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    response = post(server, {"Authorization": f"Bearer {API_KEY}", "Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Mcp-Session-Id" in response.headers["Access-Control-Expose-Headers"]


def run_mcp(state_dir: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, MCP_BIN, *args],
        capture_output=True,
        text=True,
        env=clean_env(state_dir, **env),
        timeout=60,
        check=False,
    )


def test_it_stays_on_loopback_unless_allow_remote(state_dir):
    refused = run_mcp(state_dir, "--http", "--host", "0.0.0.0", "--port", "0", ORCHESTRATOR_API_KEY=API_KEY)
    assert refused.returncode == 2
    assert json.loads(refused.stdout)["field"] == "host" and "--allow-remote" in json.loads(refused.stdout)["error"]


def test_a_port_in_use_is_a_json_error(server, state_dir):
    taken = run_mcp(state_dir, "--http", "--port", str(server.info["port"]))
    assert taken.returncode == 2 and json.loads(taken.stdout)["field"] == "port"


def test_sigterm_stops_the_server_and_its_workers(state_dir):
    running = start_http(state_dir)
    assert post(running, {}).status_code == 200  # no key configured: open on loopback
    assert processes_of(state_dir, "route_task")  # warm workers
    assert running.stop() == 0
    assert processes_of(state_dir, "route_task") == [] and processes_of(state_dir, "execute_agent") == []
