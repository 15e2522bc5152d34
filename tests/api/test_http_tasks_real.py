"""Async tasks, batches and smart execute's 409 through the real scripts: a real server running
the real bin/ scripts, vps-monitor on this machine and the data agents on the test PostgreSQL.

tests/api/test_http_tasks.py drives the same endpoints with a stand-in execute_agent to make tasks
hang or crash on cue; this module shows that what users get from them is the agents' answers."""

from __future__ import annotations

import time

import psycopg2
import pytest
import requests

from tests.fixtures.http_server import start_server

POLL_LIMIT_S = 60.0  # bounds a failing test only


@pytest.fixture(scope="module")
def server(tmp_path_factory, pg_target):
    running = start_server(str(tmp_path_factory.mktemp("real-tasks-state")), NEON_DATABASE_URL=pg_target.url)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def active_subcontractors(pg_target) -> int:
    """The truth, read from the database independently of the agents."""
    with psycopg2.connect(pg_target.url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM contractors WHERE status = 'active' AND kind = 'subcontractor'")
        return cursor.fetchone()[0]


def finished(server, task_id: str) -> dict:
    give_up = time.monotonic() + POLL_LIMIT_S
    while True:
        task = requests.get(f"{server.url}/orchestrator/tasks/{task_id}", timeout=30).json()
        if task["status"] != "processing":
            return task
        assert time.monotonic() < give_up, f"task {task_id} still processing: {task}"
        time.sleep(0.05)


def submit(server, body: dict) -> str:
    accepted = requests.post(server.url + "/orchestrator/execute-async", json=body, timeout=30)
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["task_id"]


def test_an_async_smart_execute_keeps_the_real_agents_answer(server):
    task = finished(server, submit(server, {"task": "Check CPU usage on the server"}))
    assert (task["status"], task["http_status"], task["kind"]) == ("completed", 200, "smart-execute")
    result = task["result"]
    assert result["success"] is True and result["agent"] == "vps-monitor"
    assert [call["name"] for call in result["tool_calls"]] == ["cpu_usage"]
    assert 0 <= result["data"]["busy_percent"] <= 100


def test_an_async_execute_answers_from_the_database(server, active_subcontractors):
    body = {"agent": "contractor-agent", "query": "How many active subcontractors do we have?"}
    task = finished(server, submit(server, body))
    assert task["status"] == "completed", task
    assert [list(row.values()) for row in task["result"]["data"]] == [[active_subcontractors]]  # the count's one row
    assert str(active_subcontractors) in task["result"]["response"]


def test_an_async_task_the_scripts_refuse_ends_failed_with_their_error(server):
    task = finished(server, submit(server, {"agent": "no-such-agent", "query": "anything"}))
    assert (task["status"], task["http_status"]) == ("failed", 404)
    assert task["result"]["code"] == "agent_not_found" and "no-such-agent" in task["error"]


def test_a_batch_runs_the_real_agents_and_answers_in_request_order(server, active_subcontractors):
    tasks = [
        "Check CPU usage on the server",
        "write a haiku about spring",
        "How many active subcontractors do we have?",
        "How much memory is free on the server?",
    ]
    response = requests.post(server.url + "/orchestrator/batch", json={"tasks": tasks}, timeout=120)
    assert response.status_code == 200
    cpu, haiku, contractors, memory = response.json()
    assert cpu["agent"] == "vps-monitor" and cpu["tool_calls"][0]["name"] == "cpu_usage"
    assert (haiku["success"], haiku["code"]) == (False, "no_match")  # an error in its place, the rest answered
    assert contractors["agent"] == "contractor-agent"
    assert [list(row.values()) for row in contractors["data"]] == [[active_subcontractors]]
    assert memory["agent"] == "vps-monitor" and memory["tool_calls"][0]["name"] == "memory_usage"


def test_smart_execute_that_cannot_choose_is_409_with_the_real_routers_options(server):
    response = requests.post(
        server.url + "/orchestrator/smart-execute", json={"task": "check the database server"}, timeout=30
    )
    assert response.status_code == 409
    body = response.json()
    assert (body["success"], body["status"], body["code"]) == (False, "multiple_matches", "ambiguous_task")
    options = [option["agent_id"] for option in body["options"]]
    assert {"vps-monitor", "neon-database"} <= set(options) and len(options) == len(set(options))
    known = {agent["id"] for agent in requests.get(server.url + "/orchestrator/agents", timeout=30).json()}
    assert set(options) <= known
