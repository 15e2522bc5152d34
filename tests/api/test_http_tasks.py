"""Async tasks (a durable queue in the store: a killed server's task is taken over once its lease
expires), batches in order, and the WebSocket hook.

execute_agent is a stand-in here (see tests/fixtures/http_server.fake_bin_dir) so a task can
be made slow, hang, crash or wait for its neighbours on cue; the same endpoints with the real
scripts and agents are tested in test_http_tasks_real.py."""

from __future__ import annotations

import base64
import os
import signal
import socket
import time

import pytest
import requests

from skills.server import websocket
from tests.fixtures.http_server import fake_bin_dir, start_server

FAKE_EXECUTE = """
def answer(request):
    text = request.get("task") or request.get("query") or ""
    if "crash" in text:
        os._exit(3)
    if "hang" in text and os.environ.get("FAKE_HANG") == "1":
        hang()
    if "ambiguous" in text:
        return {"success": False, "status": "multiple_matches", "code": "ambiguous_task", "error": "choose one",
                "task": text, "options": [{"agent_id": "neon-database"}, {"agent_id": "convex-database"}]}
    if text.startswith("sleep "):
        time.sleep(float(text.split()[1]))
    if text.startswith("meet "):
        if not meet(*text.split()[1:4]):
            return {"success": True, "agent": "vps-monitor", "response": "alone: " + text}
        time.sleep(float(text.split()[3]))  # finish in another order than asked: the batch must reorder
    return {"success": True, "agent": request.get("agent", "vps-monitor"), "agent_name": "VPS Monitor Agent",
            "confidence": 2, "response": "done: " + text, "execution_time_ms": 1}
"""


MEET = """
def meet(group, size, name):
    \"\"\"Wait until `size` tasks of `group` have arrived (each leaves a file); True when they all did.

    Only tasks that run side by side can all meet: one after another, the first would wait alone
    until the bound below and say so.\"\"\"
    folder = os.path.join(os.environ["ORCHESTRATOR_STATE_DIR"], "meet-" + group)
    os.makedirs(folder, exist_ok=True)
    open(os.path.join(folder, name), "w").close()
    give_up = time.monotonic() + 30
    while len(os.listdir(folder)) < int(size):
        if time.monotonic() > give_up:
            return False
        time.sleep(0.01)
    return True
"""


@pytest.fixture
def bin_dir(tmp_path) -> str:
    return fake_bin_dir(str(tmp_path / "bin"), execute_agent=MEET + FAKE_EXECUTE)


@pytest.fixture
def server(state_dir, bin_dir):
    running = start_server(state_dir, ORCHESTRATOR_BIN_DIR=bin_dir)
    yield running
    running.stop()


def poll(server, task_id: str, until, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = requests.get(f"{server.url}/orchestrator/tasks/{task_id}").json()
        if until(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_execute_async_returns_a_task_id_then_the_result(server):
    accepted = requests.post(server.url + "/orchestrator/execute-async", json={"task": "sleep 0.3 check the server"})
    assert accepted.status_code == 202
    body = accepted.json()
    assert body["status"] == "processing" and body["task_id"]
    assert set(body) == {"task_id", "status"}
    done = poll(server, body["task_id"], lambda task: task["status"] != "processing")
    assert done["status"] == "completed"
    assert done["result"]["response"] == "done: sleep 0.3 check the server"
    assert done["http_status"] == 200


def test_execute_async_also_takes_an_agent_and_query(server):
    task_id = requests.post(
        server.url + "/orchestrator/execute-async", json={"agent": "vps-monitor", "query": "load average"}
    ).json()["task_id"]
    done = poll(server, task_id, lambda task: task["status"] != "processing")
    assert done["status"] == "completed" and done["kind"] == "execute"
    assert done["result"]["agent"] == "vps-monitor"


def test_a_failing_async_task_ends_failed_with_the_error(server):
    task_id = requests.post(server.url + "/orchestrator/execute-async", json={"task": "crash please"}).json()["task_id"]
    done = poll(server, task_id, lambda task: task["status"] != "processing")
    assert done["status"] == "failed"
    assert done["http_status"] == 502 and done["result"]["code"] == "script_failed"


def test_unknown_task_is_404_and_a_request_without_task_or_agent_is_422(server):
    missing = requests.get(server.url + "/orchestrator/tasks/0123456789abcdef")
    assert missing.status_code == 404 and missing.json()["code"] == "task_not_found"
    refused = requests.post(server.url + "/orchestrator/execute-async", json={"query": "no agent"})
    assert refused.status_code == 422 and refused.json()["field"] == "task"


LEASE_S = "3"  # a killed server's task is claimable again this soon (the default, 15 s, would slow the tests)


def _submit_and_kill(state_dir: str, bin_dir: str, task_id: str | None = None) -> str:
    """Start a server whose agent hangs, get a task running on it, then SIGKILL the server."""
    running = start_server(state_dir, ORCHESTRATOR_BIN_DIR=bin_dir, FAKE_HANG="1", ORCHESTRATOR_TASK_LEASE=LEASE_S)
    try:
        if task_id is None:
            task_id = requests.post(
                running.url + "/orchestrator/execute-async", json={"task": "hang until restarted"}
            ).json()["task_id"]
            attempts = 1
        else:
            attempts = 2
        task = poll(running, task_id, lambda body: body["attempts"] >= attempts)
        assert task["status"] == "processing" and task["attempts"] == attempts
    finally:
        running.stop(signal.SIGKILL)
    return task_id


def test_a_killed_servers_async_task_is_taken_over_once_its_lease_expires(state_dir, bin_dir):
    task_id = _submit_and_kill(state_dir, bin_dir)
    restarted = start_server(state_dir, ORCHESTRATOR_BIN_DIR=bin_dir, ORCHESTRATOR_TASK_LEASE=LEASE_S)
    try:
        done = poll(restarted, task_id, lambda task: task["status"] != "processing")
    finally:
        restarted.stop()
    assert done["status"] == "completed" and done["attempts"] == 2
    assert done["result"]["response"] == "done: hang until restarted"


def test_a_task_interrupted_twice_is_marked_failed_with_the_reason(state_dir, bin_dir):
    task_id = _submit_and_kill(state_dir, bin_dir)
    _submit_and_kill(state_dir, bin_dir, task_id)  # taken over, then interrupted again
    restarted = start_server(state_dir, ORCHESTRATOR_BIN_DIR=bin_dir, ORCHESTRATOR_TASK_LEASE=LEASE_S)
    try:
        done = poll(restarted, task_id, lambda task: task["status"] != "processing")
    finally:
        restarted.stop()
    assert done["status"] == "failed" and done["attempts"] == 2  # not run a third time
    assert done["result"]["code"] == "interrupted"
    assert "server stopped while this task was running" in done["error"]


def test_batch_runs_side_by_side_and_answers_in_request_order(server):
    # Each task waits until all three have started: they can only all answer "done" if the batch
    # ran them side by side. Then the first finishes last, so the answer must be put back in order.
    for group, as_body in (("bare", lambda tasks: tasks), ("wrapped", lambda tasks: {"tasks": tasks})):
        tasks = [f"meet {group} 3 {pause}" for pause in ("0.4", "0.2", "0")]
        response = requests.post(server.url + "/orchestrator/batch", json=as_body(tasks), timeout=120)
        assert response.status_code == 200
        assert [item["response"] for item in response.json()] == [f"done: {task}" for task in tasks]


def test_a_failing_batch_item_is_an_error_in_its_place(server):
    results = requests.post(server.url + "/orchestrator/batch", json=["one", "crash two", "three"]).json()
    assert results[0]["response"] == "done: one" and results[2]["response"] == "done: three"
    assert results[1]["code"] == "script_failed"


def _websocket_exchange(port: int, text: str) -> str:
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            (
                "GET /ws/orchestrator HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode("ascii")
        )
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"HTTP/1.1 101")
        while reader.readline() not in (b"\r\n", b""):
            pass
        sock.sendall(websocket.encode_frame(websocket.OP_TEXT, text.encode("utf-8"), mask=os.urandom(4)))
        frame = websocket.read_frame(reader, require_mask=False)
        sock.sendall(websocket.encode_frame(websocket.OP_CLOSE, websocket.close_payload(1000), mask=os.urandom(4)))
        return frame.payload.decode("utf-8")


def test_the_websocket_answers_a_task_with_its_smart_execute_json(server):
    import json

    plain = json.loads(_websocket_exchange(server.port, "check the server"))
    wrapped = json.loads(_websocket_exchange(server.port, json.dumps({"task": "check the disk"})))
    refused = json.loads(_websocket_exchange(server.port, json.dumps({"task": ""})))
    assert plain["success"] is True and plain["response"] == "done: check the server"
    assert wrapped["response"] == "done: check the disk"
    assert refused["code"] == "bad_input" and refused["field"] == "task"


def test_smart_execute_that_cannot_choose_an_agent_is_409_with_the_options(server):
    response = requests.post(server.url + "/orchestrator/smart-execute", json={"task": "ambiguous data question"})
    assert response.status_code == 409
    body = response.json()
    assert body["success"] is False and body["status"] == "multiple_matches"
    assert [option["agent_id"] for option in body["options"]] == ["neon-database", "convex-database"]
