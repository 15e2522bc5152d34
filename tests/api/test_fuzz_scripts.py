"""Every script, fed anything: one JSON document out, an exit status in {0, 1, 2, 3}, never a
traceback, and a `--jsonl` worker answers every line and lives on.

The `--jsonl` properties run against one warm worker per script (a process per example would
cost an interpreter start each); flags and `--json -` need a process per example, so they get
fewer examples.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.scripts import BIN, clean_env, run_script

JSONL_SCRIPTS = ["route_task", "execute_agent", "list_agents", "agent_info", "workforce_stats"]
EXIT_STATUSES = {0, 1, 2, 3}
ANSWER_TIMEOUT_S = 60.0
FIELD_NAMES = ["task", "agent", "query", "context", "category", "since", "auto_select", "explain", "direct", "json"]

hostile_text = st.text(max_size=40) | st.sampled_from(
    ["cpu \ud800 usage", "\udcff", "a\x00b", "\u2028\u2029", "cpu usage", "vps-monitor", "7d", "-1d", " ", "%s%n"]
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    json_scalars | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=12,
)
objects = st.dictionaries(st.sampled_from(FIELD_NAMES) | hostile_text, json_values, max_size=4)
deep = st.integers(min_value=30, max_value=6000).map(lambda n: '{"task": ' + "[" * n + "]" * n + "}")
lines = (
    objects.map(lambda o: json.dumps(o))
    | json_values.map(lambda v: json.dumps(v))
    | deep
    | st.sampled_from(['{"task": 1e999}', '{"task": NaN}', '{"task": 1' + "0" * 5000 + "}", "{", "]"])
).map(str.encode) | st.binary(min_size=1, max_size=60).filter(lambda b: b"\n" not in b and b.strip())


class JsonlWorker:
    """`bin/<script> --jsonl` kept running: one line in, one line out."""

    def __init__(self, script: str, env: dict):
        self.script = script
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(BIN, script), "--jsonl"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )

    def ask(self, line: bytes) -> bytes:
        self.proc.stdin.write(line + b"\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], ANSWER_TIMEOUT_S)
        assert ready, f"{self.script} --jsonl gave no answer to {line[:80]!r}"
        answer = self.proc.stdout.readline()
        assert answer, f"{self.script} --jsonl died on {line[:80]!r}: {self.stderr()}"
        return answer

    def stderr(self) -> str:
        self.proc.kill()
        return self.proc.stderr.read().decode("utf-8", "replace")[-2000:]

    def stop(self) -> str:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        return self.proc.stderr.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    env = clean_env(str(tmp_path_factory.mktemp("fuzz-state")))
    running = {name: JsonlWorker(name, env) for name in JSONL_SCRIPTS}
    yield running
    for worker in running.values():
        if worker.proc.poll() is None:
            stderr = worker.stop()
            assert "Traceback" not in stderr, f"{worker.script} printed a traceback: {stderr[-2000:]}"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.sampled_from(JSONL_SCRIPTS), line=lines)
def test_a_jsonl_worker_answers_any_line_with_one_json_object_and_lives_on(workers, script, line):
    worker = workers[script]
    answer = json.loads(worker.ask(line))
    assert isinstance(answer, dict | list)
    if isinstance(answer, dict) and "error" in answer:
        assert answer["code"] != "internal_error", answer
    assert worker.proc.poll() is None


def test_after_a_hostile_line_the_next_line_is_answered_normally(workers):
    worker = workers["route_task"]
    for line in [b'{"task": ' + b"[" * 5000 + b"]" * 5000 + b"}", b'{"task": "cpu \\ud800"}', b"\xff\xfe{"]:
        assert json.loads(worker.ask(line))["code"] == "bad_input"
    assert json.loads(worker.ask(b'{"task": "cpu usage"}'))["agent"]["agent_id"] == "vps-monitor"


def assert_one_json_document(run, where: str) -> None:
    assert run.returncode in EXIT_STATUSES, (where, run.returncode, run.stdout[-500:], run.stderr[-500:])
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, (where, run.stderr[-2000:])
    answer = json.loads(run.stdout)  # exactly one document: trailing text would not parse
    if isinstance(answer, dict) and "error" in answer:
        assert answer["code"] != "internal_error", (where, answer)
        assert run.returncode != 0, (where, answer)


flag_words = st.sampled_from(
    ["--task", "--agent", "--query", "--context", "--category", "--since", "--auto-select", "--explain", "--direct"]
    + ["--json", "-", "--pretty", "--task=", "--context={}", "--", "-x", "--jsonx", "{", "[]", "vps-monitor"]
)


def _can_be_an_argument(text: str) -> bool:
    """What an OS command line can carry: no NUL, and bytes (Python shows non-UTF-8 ones as \\udcXX)."""
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


argvs = st.lists(flag_words | hostile_text.filter(_can_be_an_argument), max_size=5)


@settings(max_examples=40, deadline=None)
@given(script=st.sampled_from(JSONL_SCRIPTS), argv=argvs)
def test_any_command_line_gives_one_json_document_and_a_known_exit_status(tmp_path_factory, script, argv):
    if "--help" in argv or "-h" in argv or "--jsonl" in argv:
        return  # help is text by design; --jsonl reads stdin (fuzzed above)
    env = clean_env(str(tmp_path_factory.mktemp("fuzz-argv")))
    stdin = "" if "--json" in argv else None
    assert_one_json_document(run_script(script, *argv, stdin=stdin, env=env), f"{script} {argv!r}")


@settings(max_examples=30, deadline=None)
@given(script=st.sampled_from(JSONL_SCRIPTS), body=lines)
def test_any_stdin_for_json_dash_gives_one_json_document(tmp_path_factory, script, body):
    env = clean_env(str(tmp_path_factory.mktemp("fuzz-stdin")))
    proc = subprocess.run(
        [sys.executable, os.path.join(BIN, script), "--json", "-"],
        input=body,
        capture_output=True,
        env=env,
        timeout=ANSWER_TIMEOUT_S,
        check=False,
    )
    run_like = type(
        "Run", (), {"returncode": proc.returncode, "stdout": proc.stdout.decode(), "stderr": proc.stderr.decode()}
    )
    assert_one_json_document(run_like, f"{script} --json - <<< {body[:80]!r}")


def test_a_command_line_argument_that_is_not_utf8_is_refused_as_bad_input(tmp_path):
    env = clean_env(str(tmp_path))
    proc = subprocess.run(
        [sys.executable, os.path.join(BIN, "route_task"), b"--task", b"cpu \xff usage", b"--pretty"],
        capture_output=True,
        env=env,
        check=False,
    )
    answer = json.loads(proc.stdout)
    assert proc.returncode == 2 and answer["field"] == "task" and "not UTF-8" in answer["error"]
