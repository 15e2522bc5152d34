"""When a script misbehaves the server answers 502/504/503 and keeps serving.

The server runs scripts from ORCHESTRATOR_BIN_DIR; these tests point it at a bin dir where
route_task is a stand-in that crashes, hangs or prints garbage on cue (the other scripts are
the real ones)."""

from __future__ import annotations

import os
import shutil
import threading
import time

import pytest
import requests

from tests.fixtures.http_server import fake_bin_dir, start_server
from tests.fixtures.scripts import ROOT, copy_lexicons

FAKE_ROUTE = """
def answer(request):
    task = request.get("task", "")
    if "crash" in task:
        os._exit(3)
    if "hang" in task:
        # a marker for the test: this process is the hung one (it must be gone after the 504)
        with open(os.path.join(os.environ["ORCHESTRATOR_STATE_DIR"], f"hung-{os.getpid()}.pid"), "w") as marker:
            marker.write(str(os.getpid()))
        hang()
    if "garbage" in task:
        return "Traceback? no: this is not JSON"
    if "leak" in task:
        return "could not connect to postgresql://app:hunter2-secret@db.internal/prod"
    agent = {"agent_id": "vps-monitor", "agent_name": "VPS Monitor Agent", "confidence": 1, "matched_keywords": []}
    return {"status": "routed", "task": task, "agent": agent, "request": request, "argv": sys.argv[1:],
            "pid": os.getpid(), "execution_time_ms": 0.1}
"""


@pytest.fixture
def bin_dir(tmp_path) -> str:
    return fake_bin_dir(str(tmp_path / "bin"), route_task=FAKE_ROUTE)


@pytest.fixture
def server(state_dir, bin_dir):
    running = start_server(state_dir, ORCHESTRATOR_BIN_DIR=bin_dir, ORCHESTRATOR_REQUEST_TIMEOUT="1.5")
    yield running
    running.stop()


def route(server, task: str, **extra) -> requests.Response:
    return requests.post(server.url + "/orchestrator/route", json={"task": task, **extra}, timeout=30)


def test_the_task_reaches_the_script_on_stdin_never_on_its_command_line(server):
    body = route(server, "check the secret server", context={"page": "monitoring"}).json()
    assert body["request"] == {"task": "check the secret server", "context": {"page": "monitoring"}}
    assert body["argv"] == ["--jsonl"]


def test_a_crashing_script_gives_502_and_the_server_carries_on(server):
    crashed = route(server, "please crash now")
    assert crashed.status_code == 502
    assert crashed.json()["code"] == "script_failed" and "route_task" in crashed.json()["error"]
    assert route(server, "cpu load").status_code == 200
    assert "orchestrator_worker_restarts_total{" in requests.get(server.url + "/metrics").text


def test_a_script_printing_garbage_gives_502(server):
    response = route(server, "print garbage")
    assert response.status_code == 502 and "not JSON" in response.json()["error"]
    assert route(server, "cpu load").status_code == 200


def hung_pids(state_dir: str) -> list[int]:
    return [int(name[5:-4]) for name in os.listdir(state_dir) if name.startswith("hung-") and name.endswith(".pid")]


def is_running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"  # a zombie has finished
    except FileNotFoundError:
        return False


@pytest.fixture
def patient_server(state_dir, bin_dir):
    """A time limit long enough that five quick requests surely fit inside it, even on a busy machine."""
    running = start_server(state_dir, ORCHESTRATOR_BIN_DIR=bin_dir, ORCHESTRATOR_REQUEST_TIMEOUT="5")
    yield running
    running.stop()


def test_a_hung_script_gives_504_at_its_time_limit_while_other_requests_succeed(patient_server, state_dir):
    server = patient_server
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(response=route(server, "hang forever")))
    thread.start()
    while not hung_pids(state_dir):  # the stand-in is now hanging
        assert thread.is_alive(), "the hung request ended before its script started hanging"
        time.sleep(0.02)
    others = [route(server, f"cpu load {n}").status_code for n in range(5)]
    answered_while_hung = "response" not in outcome  # the others finished while it still hung
    thread.join(timeout=60)
    assert others == [200] * 5 and answered_while_hung
    assert outcome["response"].status_code == 504
    assert outcome["response"].json()["code"] == "timeout"
    [pid] = hung_pids(state_dir)
    assert not is_running(pid)  # the hung worker was killed, not left behind
    assert route(server, "cpu load").status_code == 200


def test_too_many_requests_in_flight_get_503_and_health_still_answers(state_dir, bin_dir):
    running = start_server(
        state_dir, ORCHESTRATOR_BIN_DIR=bin_dir, ORCHESTRATOR_REQUEST_TIMEOUT="2", ORCHESTRATOR_MAX_IN_FLIGHT="1"
    )
    try:
        thread = threading.Thread(target=route, args=(running, "hang a while"))
        thread.start()
        time.sleep(0.3)
        refused = route(running, "cpu load")
        health = requests.get(running.url + "/health")
        thread.join(timeout=20)
        after = route(running, "cpu load")
    finally:
        running.stop()
    assert refused.status_code == 503 and refused.json()["code"] == "overloaded"
    assert refused.headers["Retry-After"] == "1"
    assert health.status_code == 200
    assert after.status_code == 200


def test_warm_workers_are_replaced_when_the_registry_file_changes(state_dir, bin_dir, tmp_path):
    registry = str(tmp_path / "agents.yaml")
    shutil.copy(os.path.join(ROOT, "registry", "agents.yaml"), registry)
    copy_lexicons(tmp_path)
    running = start_server(
        state_dir, ORCHESTRATOR_BIN_DIR=bin_dir, ORCHESTRATOR_REGISTRY=registry, ORCHESTRATOR_WORKERS="1"
    )
    try:
        first = route(running, "cpu").json()["pid"]
        again = route(running, "cpu").json()["pid"]
        later = time.time() + 5
        os.utime(registry, (later, later))
        fresh = route(running, "cpu").json()["pid"]
    finally:
        running.stop()
    assert first == again  # warm: the same worker answered twice
    assert fresh != first  # the registry changed, so a new worker answered


def test_one_process_per_request_mode_answers_the_same_and_fails_the_same(state_dir, bin_dir):
    real = start_server(state_dir, "--one-process-per-request")
    try:
        answer = route(real, "Check CPU usage on the server")
        assert real.info["workers"] == 0
    finally:
        real.stop()
    assert answer.status_code == 200 and answer.json()["agent"]["agent_id"] == "vps-monitor"
    fake = start_server(
        state_dir, ORCHESTRATOR_BIN_DIR=bin_dir, ORCHESTRATOR_WORKERS="0", ORCHESTRATOR_REQUEST_TIMEOUT="1"
    )
    try:
        statuses = [route(fake, task).status_code for task in ("crash", "garbage", "hang", "cpu")]
        argv = route(fake, "cpu").json()["argv"]
    finally:
        fake.stop()
    assert statuses == [502, 502, 504, 200]
    assert argv == ["--json", "-"]


def test_a_secret_in_broken_script_output_reaches_neither_the_client_nor_the_log(server):
    response = route(server, "leak a connection string")
    with open(server.log_path, encoding="utf-8") as handle:
        log = handle.read()
    assert response.status_code == 502
    assert "hunter2-secret" not in response.text
    assert "route_task failed: printed something that is not JSON" in log  # the log says what happened
    assert "hunter2-secret" not in log and "postgresql://app:***@" in log


def test_a_bin_dir_without_the_scripts_stops_the_server_at_start_saying_so(state_dir, tmp_path):
    with pytest.raises(RuntimeError, match="ORCHESTRATOR_BIN_DIR must be the directory"):
        start_server(state_dir, ORCHESTRATOR_BIN_DIR=str(tmp_path))
