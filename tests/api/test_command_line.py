"""The command line as a newcomer meets it: help that only helps, commands that paste as shown."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess

import pytest

from skills.demo.command import STEPS, Step, command_line, run_demo
from tests.fixtures.scripts import BIN, ROOT, clean_env


def _is_python_launcher(name: str) -> bool:
    with open(os.path.join(BIN, name), encoding="utf-8") as handle:
        return handle.readline() == "#!/bin/sh\n"


PYTHON_SCRIPTS = sorted(name for name in os.listdir(BIN) if _is_python_launcher(name))


def copy_of_script(tmp_path, name: str) -> str:
    """bin/<name> alone in an empty project directory: whatever it would set up lands there."""
    (tmp_path / "bin").mkdir(exist_ok=True)
    target = str(tmp_path / "bin" / name)
    shutil.copy(os.path.join(BIN, name), target)
    return target


@pytest.mark.parametrize("name", ["setup", "demo"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_setup_and_demo_help_print_usage_and_set_nothing_up(tmp_path, name, flag):
    run = subprocess.run(
        ["bash", copy_of_script(tmp_path, name), flag], check=False, capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"usage: bin/{name}")
    assert "==>" not in run.stdout + run.stderr  # bin/setup's progress lines: it did not run
    assert sorted(os.listdir(tmp_path)) == ["bin"]  # no .venv, nothing else


@pytest.mark.parametrize("name", ["setup", "demo"])
def test_setup_and_demo_refuse_an_unknown_argument_before_doing_anything(tmp_path, name):
    run = subprocess.run(
        ["bash", copy_of_script(tmp_path, name), "--tset"], check=False, capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 2
    assert "unknown argument --tset" in run.stderr and "--help" in run.stderr
    assert sorted(os.listdir(tmp_path)) == ["bin"]


@pytest.mark.parametrize("name", PYTHON_SCRIPTS)
def test_every_python_script_helps_with_its_own_words_not_the_launchers(name, script):
    run = script(name, "--help")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("usage: ")
    assert 'exec "$py"' not in run.stdout and "'''" not in run.stdout


def test_benchmark_routing_help_describes_the_benchmark(script):
    run = script("benchmark_routing", "--help")
    assert run.stdout.startswith("usage: benchmark_routing")
    assert "median and p95" in run.stdout and "--runs" in run.stdout
    refused = script("benchmark_routing", "--runs", "0")
    assert refused.returncode == 2 and "--runs: 0 must be at least 1" in refused.stderr


def test_benchmark_routing_counts_the_instructions_of_a_route_task_process(script):
    """valgrind's counts, the load-proof figure: a route does more than the bare interpreter."""
    run = script("benchmark_routing", "--process-only", "--runs", "1", "--instructions", timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    counts = json.loads(run.stdout)["process"]["instructions"]
    assert counts["python_c_pass"] > 1_000_000  # a real count, not a parsing accident
    assert counts["route_task"] > counts["python_c_pass"]
    assert counts["route_task_over_python_c_pass"] == counts["route_task"] - counts["python_c_pass"]


def test_benchmark_routing_without_valgrind_refuses_before_measuring(script, tmp_path):
    empty = tmp_path / "no-valgrind"
    empty.mkdir()
    run = script("benchmark_routing", "--process-only", "--instructions", env={"PATH": str(empty)}, timeout=30)
    assert run.returncode == 2
    refused = json.loads(run.stdout)
    assert refused["field"] == "instructions" and "valgrind" in refused["error"]


def split_line(line: str) -> tuple[list[str], str | None]:
    """What a shell would run for one of the demo's lines: (argv, text echoed into it)."""
    if " | " in line:
        echo, _, command = line.partition(" | ")
        words = shlex.split(echo)
        assert words[0] == "echo" and len(words) == 2, line
        return shlex.split(command), words[1]
    return shlex.split(line), None


def test_every_demo_command_is_printed_quoted_so_a_shell_reads_it_back_exactly():
    for step in STEPS:
        line = command_line(step)
        assert split_line(line) == (list(step.argv), step.stdin), line
    assert command_line(STEPS[1]) == "bin/route_task --task 'Check CPU usage on the server' --auto-select --pretty"


def without_timing(text: str) -> dict:
    body = json.loads(text)
    body.pop("execution_time_ms", None)
    return body


@pytest.mark.parametrize("step", [s for s in STEPS if s.argv[0] == "bin/route_task"], ids=command_line)
def test_a_demo_line_pasted_into_bash_answers_as_the_demo_did(step, state_dir):
    env = clean_env(state_dir)
    shown = command_line(step)
    pasted = subprocess.run(
        ["bash", "-c", shown], cwd=ROOT, env=env, check=False, capture_output=True, text=True, timeout=60
    )
    direct = subprocess.run(
        list(step.argv), cwd=ROOT, env=env, input=step.stdin, check=False, capture_output=True, text=True, timeout=60
    )
    assert pasted.returncode == direct.returncode == 0, pasted.stdout + pasted.stderr
    assert without_timing(pasted.stdout) == without_timing(direct.stdout)


def test_the_demo_shows_each_command_then_its_answer_and_reports_failures(state_dir, monkeypatch, capfd):
    monkeypatch.setenv("ORCHESTRATOR_STATE_DIR", state_dir)
    monkeypatch.setenv("ORCHESTRATOR_ENV_FILE", os.path.join(state_dir, "no.env"))
    steps = (
        Step(("bin/route_task", "--task", "Check CPU usage on the server")),
        Step(("bin/route_task", "--task", "who is the president of France")),
    )
    status = run_demo(steps)
    out = capfd.readouterr().out
    assert status == 1  # the no-match step's status: the demo does not hide a failure
    first, second = out.index(command_line(steps[0])), out.index(command_line(steps[1]))
    assert first < out.index('"vps-monitor"') < second < out.index('"no_match"') < out.index("(exit status 1)")
    assert "\033[" not in out  # no terminal escapes when the output is not a terminal
