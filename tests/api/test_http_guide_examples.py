"""The guide's own client code and curl example, run against a real server.

`OrchestratorClient` below is copied unchanged from the guide (its Python Client section),
so a change to the API that would break the guide's readers breaks these tests."""
# ruff: noqa: I001  (the guide's import order is kept as written)

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.fixtures.http_server import start_server
from tests.fixtures.scripts import ROOT

# fmt: off
# --- copied unchanged from orchestrator-api-guide.md ("Python Client") ---
import requests
import json

class OrchestratorClient:
    def __init__(self, base_url="http://localhost:8001", api_key=None):
        self.base_url = base_url
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"

    def route_task(self, task, auto_select=True):
        """Route a task to appropriate agent."""
        response = requests.post(
            f"{self.base_url}/orchestrator/route",
            headers=self.headers,
            json={"task": task, "auto_select": auto_select}
        )
        return response.json()

    def execute(self, agent, query):
        """Execute query through specific agent."""
        response = requests.post(
            f"{self.base_url}/orchestrator/execute",
            headers=self.headers,
            json={"agent": agent, "query": query}
        )
        return response.json()

    def smart_execute(self, task):
        """Automatically route and execute."""
        response = requests.post(
            f"{self.base_url}/orchestrator/smart-execute",
            headers=self.headers,
            json={"task": task}
        )
        return response.json()
# --- end of the guide's code ---
# fmt: on


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(str(tmp_path_factory.mktemp("guide-state")))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    running = start_server(str(tmp_path_factory.mktemp("guide-keyed-state")), ORCHESTRATOR_API_KEY="guide-key")
    yield running
    running.stop()


def test_guide_client_usage_runs_as_written(server, capsys):
    client = OrchestratorClient(base_url=server.url)
    result = client.smart_execute("Check server health")
    print(f"Agent: {result['agent_name']}")
    print(f"Response: {result['response']}")
    out = capsys.readouterr().out
    assert "Agent: VPS Monitor Agent" in out
    assert "Response: " in out and "CPU" in out


GUIDE = os.path.join(os.path.dirname(ROOT), "shared", "seed", "orchestrator-api-guide.md")


def test_the_guides_python_client_runs_as_a_script_with_the_venv_interpreter(server):
    # What docs/http-api.md tells a reader to do: save the guide's code as a file, run it with .venv's
    # python (where bin/setup --test put requests). Only the default base URL is this server's.
    assert os.path.isfile(GUIDE), f"the guide is missing: {GUIDE}"
    with open(GUIDE, encoding="utf-8") as handle:
        section = handle.read().split("### Python Client", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert code.count('base_url="http://localhost:8001"') == 1
    code = code.replace('base_url="http://localhost:8001"', f'base_url="{server.url}"')
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Agent: VPS Monitor Agent\nResponse: ") and "CPU" in run.stdout


def test_guide_client_routes_and_executes(server):
    client = OrchestratorClient(base_url=server.url)
    routed = client.route_task("Check CPU usage on the server")
    assert routed["agent"]["agent_id"] == "vps-monitor" and routed["agent"]["matched_keywords"]
    executed = client.execute("vps-monitor", "What is the load average?")
    assert executed["success"] is True and executed["agent"] == "vps-monitor"


def test_guide_client_with_an_api_key(keyed_server):
    with_key = OrchestratorClient(base_url=keyed_server.url, api_key="guide-key")
    without = OrchestratorClient(base_url=keyed_server.url)
    assert with_key.route_task("Check CPU usage on the server")["agent"]["agent_id"] == "vps-monitor"
    assert without.route_task("Check CPU usage on the server")["code"] == "unauthorized"


def test_guide_curl_example_runs_with_the_real_curl(server):
    # The guide's command, word for word, but with this server's port instead of 8001.
    url = f"http://localhost:{server.port}/orchestrator/smart-execute"
    # fmt: off
    command = ["curl", "-X", "POST", url,
               "-H", "Content-Type: application/json",
               "-d", '{"task": "How many contractors are active?"}']
    # fmt: on
    proc = subprocess.run(command, check=False, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    # Without a database the contractor agent says what to set; with one it answers.
    if body.get("success") is True:
        assert body["agent"] == "contractor-agent" and body["response"]
    else:
        assert body["code"] == "agent_not_configured" and "NEON_DATABASE_URL" in body["error"]


def test_curl_route_reports_status_and_json(server):
    command = [
        "curl",
        "-s",
        "-w",
        "\n%{http_code}",
        "-X",
        "POST",
        f"{server.url}/orchestrator/route",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"task": "Check CPU usage on the server"}',
    ]
    proc = subprocess.run(command, check=False, capture_output=True, text=True, timeout=30)
    text, status = proc.stdout.rsplit("\n", 1)
    assert status == "200" and json.loads(text)["agent"]["agent_id"] == "vps-monitor"
