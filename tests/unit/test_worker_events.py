"""Progress events from a script to the server: event lines before the answer line, only when asked.

Runs the real bin/execute_agent, as a warm `--jsonl` worker and as `--json -`, offline."""

from __future__ import annotations

import json
import os

import pytest

from skills.gateway.workers import OneShotRunner, WorkerPool
from tests.fixtures.scripts import BIN, clean_env, run_script

TASK = {"task": "Check CPU usage on the server"}


@pytest.fixture
def env(tmp_path) -> dict:
    return clean_env(str(tmp_path))


def test_a_warm_worker_hands_over_events_then_answers_and_stays_in_step(env):
    pool = WorkerPool("execute_agent", os.path.join(BIN, "execute_agent"), size=1, warm=1, env=env)
    try:
        events: list[tuple[str, dict]] = []
        watched = pool.call(TASK, 30, on_event=lambda name, data: events.append((name, data)))
        plain = pool.call(TASK, 30)  # the same worker: no event lines left over, no events asked for
    finally:
        pool.close()
    assert [name for name, _ in events] == ["routed", "tool_started", "tool_finished"]
    assert watched["agent"] == plain["agent"] == "vps-monitor" and "_event" not in watched
    assert list(watched) == list(plain)


def test_one_process_per_request_hands_over_the_same_events(env):
    runner = OneShotRunner("execute_agent", os.path.join(BIN, "execute_agent"), env=env)
    events: list[str] = []
    answer = runner.call(TASK, 30, on_event=lambda name, data: events.append(name))
    assert events == ["routed", "tool_started", "tool_finished"] and answer["success"] is True


def test_the_script_prints_event_lines_only_when_asked(env):
    asked = run_script("execute_agent", "--json", "-", stdin=json.dumps({**TASK, "_events": True}), env=env)
    plain = run_script("execute_agent", "--json", "-", stdin=json.dumps(TASK), env=env)
    lines = [json.loads(line) for line in asked.stdout.splitlines()]
    assert [line.get("_event") for line in lines] == ["routed", "tool_started", "tool_finished", None]
    assert lines[0]["data"]["agent"] == "vps-monitor" and lines[-1]["success"] is True
    assert len(plain.stdout.splitlines()) == 1 and json.loads(plain.stdout)["success"] is True


def test_an_events_field_that_is_not_true_or_false_is_refused_naming_it(env):
    refused = run_script("execute_agent", "--json", "-", stdin=json.dumps({**TASK, "_events": "yes"}), env=env)
    assert refused.returncode == 2 and json.loads(refused.stdout)["field"] == "_events"
