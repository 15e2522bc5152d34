"""The durable queue with real processes: bin/orchestrator_server queues tasks, bin/orchestrator_worker
(and servers) claim them with a lease, a killed claimer's tasks are taken over, a writing one is not.

Every test runs twice: on SQLite (the processes share one state directory, as on one machine) and on
PostgreSQL (ORCHESTRATOR_DATABASE_URL, a fresh database; each process its own state directory, as on
separate machines). The agents are the real ones through the real scripts and the real anthropic SDK;
the Messages API is the local double (tests/fixtures/fake_anthropic.py), whose held-back replies keep a
task running for as long as a test needs, and Convex is its double too.
"""

from __future__ import annotations

import os
import signal

import pytest
import requests

from tests.fixtures.fake_anthropic import delayed, reply_text, reply_tool_use
from tests.fixtures.http_server import start_server, start_worker
from tests.fixtures.processes import children_of, wait_for

LEASE_S = "3"  # a killed claimer's task is claimable again this soon (the default, 15 s, would slow the tests)
HELD_S = 120  # a reply held back this long never arrives while the test runs
CPU_TASK = {"task": "Check CPU usage on the server"}  # routes to vps-monitor without asking the model


class Shared:
    """Starts servers and workers on one shared store; stops them all at the end."""

    def __init__(self, backend: str, root, env: dict):
        self.backend = backend
        self.root = root
        self.env = env
        self.processes: list = []

    def state_dir(self, name: str) -> str:
        path = os.path.join(self.root, "state" if self.backend == "sqlite" else f"state-{name}")
        os.makedirs(path, exist_ok=True)
        return path

    def _env(self, name: str, extra: dict) -> dict:
        return {**self.env, "ORCHESTRATOR_LOG": os.path.join(self.root, f"{name}.log"), **extra}

    def server(self, name: str, **extra: str):
        running = start_server(self.state_dir(name), **self._env(name, extra))
        self.processes.append(running)
        return running

    def worker(self, name: str, *args: str, **extra: str):
        running = start_worker(self.state_dir(name), *args, **self._env(name, extra))
        self.processes.append(running)
        return running

    def stop_all(self) -> None:
        for running in self.processes:
            running.stop(signal.SIGKILL)


@pytest.fixture(params=["sqlite", "postgres"])
def shared(request, tmp_path, fake_anthropic, fake_convex):
    env = {**fake_anthropic.env(), **fake_convex.env(), "ORCHESTRATOR_TASK_LEASE": LEASE_S}
    if request.param == "postgres":
        env["ORCHESTRATOR_DATABASE_URL"] = request.getfixturevalue("state_db_url")
    processes = Shared(request.param, str(tmp_path), env)
    yield processes
    processes.stop_all()


def submit(server, body: dict) -> str:
    accepted = requests.post(server.url + "/orchestrator/execute-async", json=body, timeout=30)
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["task_id"]


def get_task(server, task_id: str) -> dict:
    return requests.get(f"{server.url}/orchestrator/tasks/{task_id}", timeout=30).json()


def finished(server, task_id: str) -> dict:
    task = wait_for(lambda: (body := get_task(server, task_id))["status"] != "processing" and body)
    assert task, f"task {task_id} still processing: {get_task(server, task_id)}"
    return task


def is_running(pid: int) -> bool:
    """Still running (a zombie nobody has reaped yet has stopped)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def log_of(running) -> str:
    with open(running.log_path, encoding="utf-8") as handle:
        return handle.read()


def test_a_worker_runs_the_tasks_a_server_that_only_serves_http_accepted(shared, fake_anthropic):
    answers = [f"CPU is fine ({n})" for n in range(4)]
    fake_anthropic.script([reply_text(answer) for answer in answers])
    server = shared.server("server", ORCHESTRATOR_CLAIM_TASKS="0")
    worker = shared.worker("worker", "--concurrency", "2")
    assert server.info["claiming"] == 0 and worker.info["concurrency"] == 2

    ids = [submit(server, CPU_TASK) for _ in answers]
    tasks = [finished(server, task_id) for task_id in ids]

    assert [(task["status"], task["attempts"], task["kind"]) for task in tasks] == [
        ("completed", 1, "smart-execute")
    ] * 4
    assert all(task["result"]["agent"] == "vps-monitor" for task in tasks)
    assert sorted(task["result"]["response"] for task in tasks) == answers  # each model answer used once
    assert worker.stop() == 0 and worker.final["completed"] == 4
    assert all(f"Task {task_id} completed" in log_of(worker) for task_id in ids)
    assert "completed in" not in log_of(server)  # the server only accepted them


def test_a_task_longer_than_its_lease_stays_with_its_worker_while_the_heartbeat_renews_it(shared, fake_anthropic):
    fake_anthropic.script([delayed(3 * float(LEASE_S), reply_text("a slow but healthy answer"))])
    server = shared.server("server", ORCHESTRATOR_CLAIM_TASKS="0")
    shared.worker("first", "--concurrency", "1")
    shared.worker("second", "--concurrency", "1")  # idle, and would take over any expired lease

    task = finished(server, submit(server, CPU_TASK))

    assert task["status"] == "completed" and task["result"]["response"] == "a slow but healthy answer"
    assert task["attempts"] == 1 and len(fake_anthropic.bodies) == 1  # never taken over, never run twice


def a_task_held_by_a_first_worker(shared, fake_anthropic, first_answer: str):
    """(server, first worker, task id): the first worker is inside the task's model call, which
    it holds for HELD_S; the next model call answers "from the second one" at once."""
    fake_anthropic.script([delayed(HELD_S, reply_text(first_answer)), reply_text("from the second one")])
    server = shared.server("server", ORCHESTRATOR_CLAIM_TASKS="0")
    first = shared.worker("first", "--concurrency", "1")
    task_id = submit(server, CPU_TASK)
    assert wait_for(lambda: len(fake_anthropic.bodies) == 1), "the first worker never ran the task"
    return server, first, task_id


def test_a_killed_workers_task_is_taken_over_after_its_lease_and_ends_once(shared, fake_anthropic):
    server, first, task_id = a_task_held_by_a_first_worker(shared, fake_anthropic, "from the killed worker")
    script_workers = children_of(first.proc.pid)
    first.stop(signal.SIGKILL)
    assert get_task(server, task_id)["status"] == "processing"
    assert script_workers and wait_for(lambda: not any(is_running(pid) for pid in script_workers), timeout=10)

    second = shared.worker("second", "--concurrency", "1")
    task = finished(server, task_id)

    assert (task["status"], task["attempts"]) == ("completed", 2)
    assert task["result"]["response"] == "from the second one"
    assert fake_anthropic.delivered == [2]  # the killed worker's model call was never answered
    assert second.stop() == 0
    assert (second.final["completed"], second.final["dropped"], second.final["released"]) == (1, 0, 0)
    assert log_of(second).count(f"Task {task_id} completed") == 1 and f"Task {task_id}" not in log_of(first)


def test_a_worker_paused_past_its_lease_loses_the_task_and_stops_its_run(shared, fake_anthropic):
    server, first, task_id = a_task_held_by_a_first_worker(shared, fake_anthropic, "from the paused worker")
    first.proc.send_signal(signal.SIGSTOP)  # alive but silent: no heartbeat (a long GC pause, a frozen VM)
    shared.worker("second", "--concurrency", "1")
    task = finished(server, task_id)
    first.proc.send_signal(signal.SIGCONT)

    assert wait_for(lambda: f"Task {task_id}: lease lost to another claimer" in log_of(first), timeout=30)
    assert (task["status"], task["attempts"]) == ("completed", 2)
    assert first.stop() == 0 and (first.final["completed"], first.final["dropped"]) == (0, 0)
    assert get_task(server, task_id) == task  # the paused worker wrote nothing over the second one's result


def test_a_writing_task_whose_worker_dies_ends_failed_interrupted_and_is_not_run_again(
    shared, fake_anthropic, fake_convex
):
    # one named execute and one smart execute that routes to the Convex task agent, which writes
    add = reply_tool_use("add_task", {"title": "Inspect the splice closures"})
    fake_anthropic.script([delayed(HELD_S, add), delayed(HELD_S, add)])
    server = shared.server("server", ORCHESTRATOR_CLAIM_TASKS="0")
    first = shared.worker("first", "--concurrency", "2")
    named = submit(server, {"agent": "convex-database", "query": "Add a task to inspect the splice closures"})
    routed = submit(server, {"task": "Add a to-do to follow up with the municipality"})
    assert wait_for(lambda: len(fake_anthropic.bodies) == 2), "the first worker never ran both tasks"
    first.stop(signal.SIGKILL)

    shared.worker("second", "--concurrency", "2")
    tasks = [finished(server, task_id) for task_id in (named, routed)]

    for task in tasks:
        assert (task["status"], task["http_status"], task["attempts"]) == ("failed", 500, 1)
        assert task["result"]["code"] == "interrupted" and "changes data" in task["error"]
    assert len(fake_anthropic.bodies) == 2  # neither was run again
    assert not [call for call in fake_convex.requests if call["path"] == "/api/mutation"]


def test_sigterm_gives_a_running_task_back_and_another_worker_finishes_it(shared, fake_anthropic):
    fake_anthropic.script(
        [delayed(HELD_S, reply_text("never sent")), reply_text("finished elsewhere"), reply_text("waited in line")]
    )
    server = shared.server("server", ORCHESTRATOR_CLAIM_TASKS="0")
    first = shared.worker("first", "--concurrency", "1", ORCHESTRATOR_SHUTDOWN_GRACE="0.5")
    running = submit(server, CPU_TASK)
    assert wait_for(lambda: len(fake_anthropic.bodies) == 1), "the first worker never ran the task"
    waiting = submit(server, {"task": "How busy is the CPU on the server?"})  # its only slot is taken

    assert first.stop(signal.SIGTERM) == 0
    assert (first.final["released"], first.final["completed"]) == (1, 0)
    assert f"Task {running} given back to the queue by the shutdown" in log_of(first)
    shared.worker("second", "--concurrency", "1")
    tasks = {task_id: finished(server, task_id) for task_id in (running, waiting)}

    assert [task["status"] for task in tasks.values()] == ["completed", "completed"]
    assert [task["attempts"] for task in tasks.values()] == [1, 1]  # given back, not counted as a failed try
    assert tasks[running]["result"]["response"] == "finished elsewhere"


def test_any_server_answers_for_a_task_another_server_accepted(shared, fake_anthropic):
    fake_anthropic.script([reply_text("CPU is fine")])
    first = shared.server("first")  # accepts and claims
    second = shared.server("second", ORCHESTRATOR_CLAIM_TASKS="0")

    task_id = submit(first, CPU_TASK)
    task = finished(second, task_id)  # polled only from the second

    assert task["status"] == "completed" and task["result"]["response"] == "CPU is fine"
    assert get_task(first, task_id) == task
    missing = requests.get(second.url + "/orchestrator/tasks/0123456789abcdef", timeout=30)
    assert missing.status_code == 404 and missing.json()["code"] == "task_not_found"


@pytest.mark.parametrize(
    ("args", "env", "field"),
    [
        (("--concurrency", "0"), {}, "concurrency"),
        (("--concurrency", "two"), {}, "concurrency"),
        ((), {"ORCHESTRATOR_TASK_LEASE": "0.1"}, "ORCHESTRATOR_TASK_LEASE"),
        ((), {"ORCHESTRATOR_ASYNC_CONCURRENCY": "many"}, "ORCHESTRATOR_ASYNC_CONCURRENCY"),
    ],
)
def test_the_worker_refuses_bad_settings_with_a_json_error_naming_them(script, args, env, field):
    run = script("orchestrator_worker", *args, env=env)
    assert run.returncode == 2
    assert run.json["code"] == "bad_input" and run.json["field"] == field
    assert field.lstrip("-") in run.json["error"] and "orchestrator_worker:" in run.stderr


def test_a_worker_that_cannot_reach_its_database_says_so_without_the_password(script):
    url = "postgresql://orchestrator:s3cret-pw@127.0.0.1:1/state"  # nothing listens on port 1
    run = script("orchestrator_worker", env={"ORCHESTRATOR_DATABASE_URL": url})
    assert run.returncode == 3 and run.json["code"] == "state_unavailable"
    assert "127.0.0.1:1/state" in run.json["error"] and "s3cret-pw" not in run.stdout + run.stderr
