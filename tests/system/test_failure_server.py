"""The server's own processes failing: a worker SIGKILLed mid-request, SIGTERM with async tasks
in flight, and workers started for a burst retiring once idle so their memory comes back.

The scripts are stand-ins (tests/fixtures/http_server.fake_bin_dir) so a request can be made
slow on cue; everything else is the real server.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import requests

from tests.fixtures.http_server import fake_bin_dir, start_server
from tests.fixtures.processes import children_of, wait_for

FAKE_SCRIPT = """
def answer(request):
    text = request.get("task") or request.get("query") or ""
    if text.startswith("sleep "):
        time.sleep(float(text.split()[1]))
    if "hang" in text:
        hang()
    return {"success": True, "status": "routed", "agent": {"agent_id": "vps-monitor"}, "task": text,
            "response": "done: " + text, "pid": os.getpid()}
"""


@pytest.fixture
def bin_dir(tmp_path) -> str:
    return fake_bin_dir(str(tmp_path / "bin"), route_task=FAKE_SCRIPT, execute_agent=FAKE_SCRIPT)


def route(server, task: str) -> requests.Response:
    return requests.post(server.url + "/orchestrator/route", json={"task": task}, timeout=60)


def live_workers(server, script: str) -> int:
    return requests.get(server.url + "/health", timeout=10).json()["workers"][script]


def test_workers_started_for_a_burst_retire_once_idle_and_the_warm_one_stays(state_dir, bin_dir):
    server = start_server(
        state_dir, ORCHESTRATOR_BIN_DIR=bin_dir, ORCHESTRATOR_WORKERS="1", ORCHESTRATOR_WORKER_IDLE="1"
    )
    try:
        burst = [threading.Thread(target=route, args=(server, "sleep 1")) for _ in range(2)]
        for thread in burst:
            thread.start()
        grew = wait_for(lambda: live_workers(server, "route_task") == 2)
        for thread in burst:
            thread.join(timeout=30)
        shrank = wait_for(lambda: live_workers(server, "route_task") == 1)
        time.sleep(1.5)  # several retirement rounds: the warm worker must survive them
        warm_left = live_workers(server, "route_task")
        answer = route(server, "cpu")
        with open(server.log_path, encoding="utf-8") as handle:
            log = handle.read()
    finally:
        server.stop()
    assert grew and shrank and warm_left == 1
    assert answer.status_code == 200
    assert "Retired 1 idle workers" in log


def test_a_worker_killed_mid_request_costs_that_request_502_and_the_next_is_served(state_dir, bin_dir):
    server = start_server(state_dir, ORCHESTRATOR_BIN_DIR=bin_dir, ORCHESTRATOR_WORKERS="1")
    try:
        outcome = {}
        thread = threading.Thread(target=lambda: outcome.setdefault("reply", route(server, "hang here")))
        thread.start()
        busy_pid = wait_for(lambda: _busy_worker(server.proc.pid))
        os.kill(busy_pid, signal.SIGKILL)
        thread.join(timeout=30)
        after = route(server, "cpu")
        metrics = requests.get(server.url + "/metrics", timeout=10).text
    finally:
        server.stop()
    assert outcome["reply"].status_code == 502 and outcome["reply"].json()["code"] == "script_failed"
    assert after.status_code == 200 and after.json()["pid"] != busy_pid
    assert 'orchestrator_worker_restarts_total{reason="crashed",script="route_task"} 1' in metrics


def _busy_worker(server_pid: int) -> int | None:
    """The route_task worker that is sleeping in hang(): in a timed sleep, not reading its pipe, and
    not still starting up (a worker killed before it got the request leaves that request hanging)."""
    for pid in children_of(server_pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read()
            with open(f"/proc/{pid}/wchan", encoding="utf-8") as handle:
                wchan = handle.read()
        except OSError:
            continue
        if b"route_task" in cmdline and "nanosleep" in wchan:
            return pid
    return None


def _log(server) -> str:
    with open(server.log_path, encoding="utf-8") as handle:
        return handle.read()


def test_sigterm_lets_running_async_tasks_finish_and_leaves_the_queued_ones_to_the_next_claimer(state_dir, bin_dir):
    server = start_server(state_dir, ORCHESTRATOR_BIN_DIR=bin_dir, ORCHESTRATOR_SHUTDOWN_GRACE="20")
    ids = [
        requests.post(server.url + "/orchestrator/execute-async", json={"task": f"sleep 1.{n}"}, timeout=10).json()[
            "task_id"
        ]
        for n in range(6)  # four run at once, two wait in line
    ]
    time.sleep(0.3)
    assert server.stop(signal.SIGTERM, timeout=60) == 0
    finished_before_restart = [task_id for task_id in ids if f"Task {task_id} completed" in _log(server)]
    restarted = start_server(state_dir, ORCHESTRATOR_BIN_DIR=bin_dir)
    try:
        tasks = {}
        for task_id in ids:
            tasks[task_id] = (
                wait_for(lambda task_id=task_id: _finished(restarted, task_id), timeout=30)
                or requests.get(f"{restarted.url}/orchestrator/tasks/{task_id}", timeout=10).json()
            )
    finally:
        restarted.stop()
    assert [task["status"] for task in tasks.values()] == ["completed"] * 6
    assert len(finished_before_restart) == 4  # the four running ones finished inside the grace period
    assert "given back to the queue" not in _log(server)  # the two in line were never claimed, so never given back
    assert sorted(task["attempts"] for task in tasks.values()) == [1, 1, 1, 1, 1, 1]


def test_sigterm_past_the_grace_period_gives_the_task_back_to_the_queue_not_failed(state_dir, bin_dir):
    server = start_server(state_dir, ORCHESTRATOR_BIN_DIR=bin_dir, ORCHESTRATOR_SHUTDOWN_GRACE="0.5")
    task_id = requests.post(server.url + "/orchestrator/execute-async", json={"task": "sleep 3"}, timeout=10).json()[
        "task_id"
    ]
    time.sleep(0.5)
    assert server.stop(signal.SIGTERM, timeout=30) == 0
    assert f"Task {task_id} given back to the queue by the shutdown" in _log(server)
    restarted = start_server(state_dir, ORCHESTRATOR_BIN_DIR=bin_dir)  # no lease to wait for: it was given back
    try:
        task = wait_for(lambda: _finished(restarted, task_id), timeout=30)
    finally:
        restarted.stop()
    assert task and task["status"] == "completed" and task["result"]["response"] == "done: sleep 3"
    assert task["attempts"] == 1  # giving it back did not count as a try


def _finished(server, task_id: str) -> dict | None:
    task = requests.get(f"{server.url}/orchestrator/tasks/{task_id}", timeout=10).json()
    return task if task["status"] != "processing" else None
