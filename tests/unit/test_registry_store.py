"""The on-disk routing index and the warm worker's memory: same routes as in memory, never stale.

A fresh process routes from the index file piece by piece; a `--jsonl` worker keeps what it
loaded and checks the registry file's and the routing inputs' identity per line. These tests
change what the key covers between two lines, damage the file, and take away the state
dir's write access, and expect the routes a freshly built in-memory registry gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from skills.bench.routing import generated_registry
from skills.registry.loader import (
    build_from_document,
    find_agent,
    load_registry,
    write_routing_input,
)
from skills.routing import index_file as store
from skills.routing import index_file_writer as store_writer
from skills.routing import route
from tests.fixtures.scripts import BIN, ROOT, clean_env, run_script

PROJECT_REGISTRY = os.path.join(ROOT, "registry", "agents.yaml")
DEV_SET = os.path.join(os.path.dirname(ROOT), "shared", "routing", "dev_tasks.jsonl")


def agent(agent_id: str, triggers: list[str]) -> dict:
    return {
        "id": agent_id,
        "name": agent_id.title(),
        "category": "c",
        "description": "d",
        "status": "active",
        "model": "m",
        "cost_per_query": 0.001,
        "triggers": triggers,
    }


def write_registry(path, agents: list[dict]) -> str:
    path.write_text(yaml.safe_dump({"agents": agents}))
    return str(path)


def in_memory(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return build_from_document(yaml.safe_load(handle), path)


def dev_tasks() -> list[str]:
    with open(DEV_SET, encoding="utf-8") as handle:
        return [json.loads(line)["task"] for line in handle if line.strip()]


def index_file(state_dir: str) -> str:
    [name] = [n for n in os.listdir(os.path.join(state_dir, "cache")) if n.endswith(".index")]
    return os.path.join(state_dir, "cache", name)


def assert_index_file_is_current(registry_path: str, state_dir: str) -> None:
    """Loading reads the index file as it is: whole and current, so not written again."""
    before = os.stat(index_file(state_dir)).st_ino
    assert isinstance(load_registry(registry_path, state_dir)["agents"], store.LazyAgents)
    assert os.stat(index_file(state_dir)).st_ino == before


class Worker:
    """A real `bin/route_task --jsonl` process: one line in, one routing answer out."""

    def __init__(self, env: dict):
        argv = [sys.executable, os.path.join(BIN, "route_task"), "--jsonl"]
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def route(self, task: str) -> dict:
        self.proc.stdin.write(json.dumps({"task": task}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def worker_for(tmp_path):
    started = []

    def start(registry_path: str, state_dir: str) -> Worker:
        worker = Worker(clean_env(state_dir, ORCHESTRATOR_REGISTRY=registry_path))
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()


def routed_to(answer: dict) -> str | None:
    return answer["agent"]["agent_id"] if answer.get("agent") else None


def test_warm_worker_routes_with_the_edited_registry(tmp_path, worker_for):
    path = write_registry(tmp_path / "agents.yaml", [agent("alpha", ["pump"]), agent("beta", ["valve"])])
    worker = worker_for(path, str(tmp_path / "state"))
    assert routed_to(worker.route("the pump is leaking")) == "alpha"
    write_registry(tmp_path / "agents.yaml", [agent("alpha", ["valve"]), agent("beta", ["pump", "impeller"])])
    assert routed_to(worker.route("the pump is leaking")) == "beta"
    assert worker.proc.poll() is None  # the same process answered both


def test_warm_worker_rebuilds_when_a_routing_input_changes(tmp_path, worker_for):
    state_dir = str(tmp_path / "state")
    path = write_registry(tmp_path / "agents.yaml", [agent("alpha", ["pump"]), agent("beta", ["valve"])])
    worker = worker_for(path, state_dir)
    assert routed_to(worker.route("the pump is leaking")) == "alpha"
    before = os.stat(index_file(state_dir)).st_ino
    write_routing_input(state_dir, "feedback", {"examples": {"beta": ["valve chatter"]}, "unrelated": []})
    assert routed_to(worker.route("the pump is leaking")) == "alpha"
    assert os.stat(index_file(state_dir)).st_ino != before  # the index was built again with the input


def test_index_file_answers_the_dev_set_like_the_in_memory_index(tmp_path):
    reference = in_memory(PROJECT_REGISTRY)
    from_file = load_registry(PROJECT_REGISTRY, str(tmp_path))
    assert isinstance(from_file["agents"], store.LazyAgents)  # really served from the file
    for task in dev_tasks():
        assert route(from_file, task, explain=True) == route(reference, task, explain=True), task
    assert list(from_file["agents"]) == list(reference["agents"])


def test_index_file_answers_a_generated_registry_like_memory(tmp_path):
    reference, tasks = generated_registry(400, seed=11)
    key = ("test", 1)
    assert store_writer.write(str(tmp_path / "big.index"), reference, key)
    from_file = store.open_registry(str(tmp_path / "big.index"), key, rebuild=lambda: reference)
    unrelated = ["what is the weather in Durban", "aaaaaaa bbbbbbb", ""]
    for task in tasks + unrelated:
        assert route(from_file, task, explain=True) == route(reference, task, explain=True), task
    assert find_agent(from_file, "agent-399") == reference["agents"][399]
    assert from_file["agents"][-1]["id"] == "agent-399" and len(from_file["agents"]) == 400
    assert store.open_registry(str(tmp_path / "big.index"), ("test", 2), rebuild=dict) is None  # another key


def damage_truncate(path: str) -> None:
    os.truncate(path, os.path.getsize(path) // 2)


def damage_garbage(path: str) -> None:
    with open(path, "wb") as handle:
        handle.write(os.urandom(4096))


def damage_data(path: str) -> None:
    """Keep the header, overwrite every table bucket and agent with bytes marshal cannot read."""
    with open(path, "r+b") as handle:
        head = handle.read(16)
        data_start = 16 + int.from_bytes(head[8:16], "little")
        size = os.path.getsize(path) - data_start
        handle.seek(data_start)
        handle.write(b"\xff" * size)


@pytest.mark.parametrize("damage", [damage_truncate, damage_garbage, damage_data])
def test_damaged_index_file_is_rebuilt_and_routes_stay_right(tmp_path, damage):
    state_dir = str(tmp_path / "state")
    env = clean_env(state_dir)
    expected = route(in_memory(PROJECT_REGISTRY), "check cpu usage on the server")
    first = run_script("route_task", "--task", "check cpu usage on the server", env=env)
    damage(index_file(state_dir))
    second = run_script("route_task", "--task", "check cpu usage on the server", env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    for answer in (first.json, second.json):
        answer.pop("execution_time_ms")
        assert answer == expected
    third = run_script("route_task", "--task", "check cpu usage on the server", env=env)
    assert routed_to(third.json) == "vps-monitor"
    assert_index_file_is_current(PROJECT_REGISTRY, state_dir)


def test_unwritable_state_dir_still_routes(tmp_path, worker_for):
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "cache").write_text("not a directory: no index file can be written here")
    state_dir.chmod(0o555)  # read-only for everyone but root; the file above stops root too
    try:
        path = write_registry(tmp_path / "agents.yaml", [agent("alpha", ["pump"]), agent("beta", ["valve"])])
        run = run_script(
            "route_task", "--task", "the valve sticks", env=clean_env(str(state_dir), ORCHESTRATOR_REGISTRY=path)
        )
        assert run.returncode == 0 and routed_to(run.json) == "beta", run.stdout + run.stderr
        worker = worker_for(path, str(state_dir))
        assert routed_to(worker.route("the valve sticks")) == "beta"
        assert routed_to(worker.route("the pump hums")) == "alpha"
    finally:
        state_dir.chmod(0o755)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "agents: [1, 2.5, -3, +4, .5, 0x1f, .inf, true, no, ~, null, '', 'yes', \"0\"]",
        "a: &shared {x: 1}\nb: *shared",
        "base: &b {model: m}\nagent:\n  <<: *b\n  id: x",
        "when: 2024-01-01",
        "'<<': 1",
        "!!str 1",
        "text: |\n  two\n  lines\n",
        "- a\n- b: c\n  d: [e, {f: g}]",
        "e:",
    ],
)
def test_fast_yaml_reads_what_safe_load_reads(text):
    from skills.registry.yaml_values import load_yaml

    assert load_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text", ["a: 1\n---\nb: 2", "? [a]\n: 1", "a: [1,", "a: *missing"])
def test_fast_yaml_refuses_what_safe_load_refuses(text):
    from skills.registry.yaml_values import load_yaml

    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)
    with pytest.raises(type(expected.value)):
        load_yaml(text)


def test_fast_yaml_reads_the_shipped_registry_like_safe_load():
    from skills.registry.yaml_values import load_yaml

    with open(PROJECT_REGISTRY, encoding="utf-8") as handle:
        text = handle.read()
    assert load_yaml(text) == yaml.safe_load(text)


def test_processes_that_find_no_index_file_at_once_all_route_right(tmp_path):
    state_dir = str(tmp_path / "state")
    path = write_registry(tmp_path / "agents.yaml", [agent("alpha", ["pump"]), agent("beta", ["valve"])])
    env = clean_env(state_dir, ORCHESTRATOR_REGISTRY=path)
    argv = [sys.executable, os.path.join(BIN, "route_task"), "--task", "the valve sticks"]
    runs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    answers = [json.loads(run.communicate(timeout=60)[0]) for run in runs]
    assert [routed_to(answer) for answer in answers] == ["beta"] * 4
    assert_index_file_is_current(path, state_dir)


def test_index_file_built_on_two_cores_holds_the_serial_index(tmp_path):
    """route_task builds the file with a second process (trigger tables, encoding): every table
    row, every header value and every agent must be the one the plain in-memory build makes."""
    reference, tasks = generated_registry(300, seed=5)
    path = str(tmp_path / "agents.yaml")
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"agents": reference["agents"]}, handle, sort_keys=False)
    state_dir = str(tmp_path / "state")
    first = run_script("route_task", "--task", tasks[0], env=clean_env(state_dir, ORCHESTRATOR_REGISTRY=path))
    answer = first.json
    answer.pop("execution_time_ms")
    assert answer == route(reference, tasks[0])
    from_file = load_registry(path, state_dir)
    assert isinstance(from_file["agents"], store.LazyAgents)  # the file route_task wrote, as it is
    assert list(from_file["agents"]) == reference["agents"]
    for name, value in reference["index"].items():
        if isinstance(value, dict) and name != "header":
            assert all(from_file["index"][name][key] == row for key, row in value.items()), name
        else:
            assert from_file["index"][name] == value, name


FORKED_WORK = """
import os, sys
from skills.routing import forked
assert forked.can_fork()
pid = os.getpid()
sent = forked.start(lambda: {"pid": os.getpid(), "rows": [(1, 0.5, "a")] * 3})()
assert sent == {"pid": sent["pid"], "rows": [(1, 0.5, "a")] * 3} and sent["pid"] != pid, sent
kept = forked.start(lambda: {"pid": os.getpid(), "value": object()})()  # marshal cannot send it
assert kept["pid"] == pid, kept
print("ok")
"""


def test_forked_work_comes_back_from_the_child_or_is_done_here():
    argv = [sys.executable, "-c", FORKED_WORK]
    done = subprocess.run(argv, check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stdout + done.stderr
