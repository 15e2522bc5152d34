"""The state directory (ledger, async tasks, caches) full or read-only, on a real small tmpfs:
answers still come back (with a warning that they were not recorded), /health says degraded
and why, the log says why, async tasks are refused rather than accepted and lost, and it all
recovers by itself once space is freed or the mount is writable again.

Mounting needs root (as the tests run here and in CI); without it the test fails saying so.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import requests
import yaml

from skills.config import Settings
from skills.execution.fallback import settle
from skills.registry.loader import load_registry
from skills.routing import route
from tests.fixtures.fake_anthropic import reply_choice
from tests.fixtures.http_server import start_server
from tests.unit.test_routing_fallback import AGENTS, BASE, TIED

TMPFS_SIZE = "4m"


@pytest.fixture
def small_state_dir(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("these tests mount a small tmpfs as the state directory: run them as root (CI does)")
    path = tmp_path / "state"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(path)], check=True)
    try:
        yield str(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def server(small_state_dir, tmp_path):
    # the log and stderr live elsewhere, as a separate log volume would: the test reads them
    running = start_server(
        small_state_dir, stderr_dir=str(tmp_path), ORCHESTRATOR_LOG=str(tmp_path / "orchestrator.log")
    )
    yield running
    running.stop()


def fill(directory: str) -> str:
    """Write a file until the file system refuses more; returns its path."""
    path = os.path.join(directory, "filler")
    chunk = b"\0" * 65536
    with open(path, "wb") as handle:
        try:
            while True:
                handle.write(chunk)
                handle.flush()
        except OSError:
            pass
    return path


def execute(server) -> requests.Response:
    return requests.post(
        server.url + "/orchestrator/execute", json={"agent": "vps-monitor", "query": "uptime"}, timeout=60
    )


def health(server) -> requests.Response:
    return requests.get(server.url + "/health", timeout=30)


def log_of(server) -> str:
    with open(server.log_path, encoding="utf-8") as handle:
        return handle.read()


def calls_recorded(server) -> int:
    stats = requests.get(server.url + "/orchestrator/stats", timeout=30).json()
    return stats["agents"].get("vps-monitor", {}).get("calls", 0)


def test_a_full_state_directory_degrades_health_but_answers_still_return(server, small_state_dir):
    assert execute(server).status_code == 200 and health(server).status_code == 200
    filler = fill(small_state_dir)

    answer = execute(server)
    degraded = health(server)
    submitted = requests.post(server.url + "/orchestrator/execute-async", json={"task": "uptime"}, timeout=30)

    assert answer.status_code == 200 and answer.json()["success"] is True
    assert "not recorded in the ledger" in answer.json()["warnings"][0]
    assert degraded.status_code == 503 and degraded.json()["status"] == "degraded"
    assert "free" in degraded.json()["state_dir"]["error"] and degraded.json()["reasons"]
    assert submitted.status_code == 503 and submitted.json()["code"] == "state_unavailable"
    assert "Health degraded | Reason: the state directory has" in log_of(server)

    os.remove(filler)
    assert health(server).status_code == 200
    recorded_before = calls_recorded(server)
    again = execute(server)
    assert again.status_code == 200 and "warnings" not in again.json()
    assert calls_recorded(server) == recorded_before + 1
    assert "Health ok again" in log_of(server)


def test_a_read_only_state_directory_degrades_health_but_answers_still_return(server, small_state_dir):
    assert execute(server).status_code == 200
    subprocess.run(["mount", "-o", "remount,ro", small_state_dir], check=True)
    try:
        answer = execute(server)
        route = requests.post(server.url + "/orchestrator/route", json={"task": "cpu usage"}, timeout=30)
        degraded = health(server)
        submitted = requests.post(server.url + "/orchestrator/execute-async", json={"task": "uptime"}, timeout=30)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", small_state_dir], check=True)

    assert answer.status_code == 200 and "not recorded in the ledger" in answer.json()["warnings"][0]
    assert route.status_code == 200
    assert degraded.status_code == 503 and "read-only" in degraded.json()["state_dir"]["error"]
    assert submitted.status_code == 503 and submitted.json()["code"] == "state_unavailable"
    assert "Health degraded | Reason: the state directory is on a read-only file system" in log_of(server)
    assert health(server).status_code == 200
    assert "warnings" not in execute(server).json()


def test_a_routing_fallback_that_cannot_be_booked_still_routes(tmp_path, fake_anthropic):
    registry_path = tmp_path / "agents.yaml"
    registry_path.write_text(yaml.safe_dump({"agents": [{**BASE, **agent} for agent in AGENTS]}))
    registry = load_registry(str(registry_path))
    unusable = tmp_path / "state-is-a-file"
    unusable.write_text("not a directory")
    settings = Settings({**fake_anthropic.env(), "ORCHESTRATOR_STATE_DIR": str(unusable)})
    fake_anthropic.script([reply_choice("data")])

    settled = settle(registry, route(registry, TIED), TIED, settings)

    assert settled["status"] == "routed" and settled["agent"]["agent_id"] == "data"
    assert settled["llm_fallback"]["used"] is True
