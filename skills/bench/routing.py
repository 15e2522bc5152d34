"""Routing speed figures: in-process routes, whole route_task processes, warm workers, big registries.

Machines here are noisy, so every figure is a median and p95 over many runs, next to the
interpreter's own start-up time (`python -c pass`) measured in the same run, for scale.
The generated registry (10,000 agents by default) is written to a YAML file and measured the
way a user meets it: the first load (no index file yet), a route_task process (index file
present), one line of a warm `route_task --jsonl` worker and that worker's memory.
Prints figures; asserts nothing. With `--instructions`, valgrind also counts the instructions
a route_task process and `python -c pass` execute: a figure load does not move, so a change of
a few hundred thousand instructions shows where timings vary by milliseconds.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from skills import lazy
from skills.config import PROJECT_ROOT, load_settings
from skills.errors import BadInput, OrchestratorError
from skills.execution.data import agent_tools
from skills.execution.tools import load_agent_prompt
from skills.jsonout import dumps
from skills.registry.loader import (
    _parse_yaml,
    build_from_document,
    build_registry,
    load_registry,
    read_routing_inputs,
    validate,
)
from skills.routing import index_file_writer as store_writer
from skills.routing import route
from skills.routing.index import build_index

SAMPLE_TASKS = [
    "Check CPU usage on the server",
    "How many active contractors do we have?",
    "show the columns of the rfqs table",
    "which sites are behind schedule",
    "mark task 17 as complete",
    "what's the weather like in Johannesburg",
    "Is the box running out of RAM?",
    "budget versus spend for the Pretoria rollout",
]


def summarise(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[-(-len(ordered) * 95 // 100) - 1], 3),  # nearest rank: never below the median
        "runs": len(ordered),
    }


def time_routes(registry: dict, tasks: list[str], repeat: int) -> dict:
    samples = []
    for _ in range(repeat):
        for task in tasks:
            started = time.perf_counter()
            route(registry, task, auto_select=True)
            samples.append((time.perf_counter() - started) * 1000)
    return summarise(samples)


def generated_registry(n_agents: int, seed: int = 7) -> tuple[dict, list[str]]:
    """A registry of n synthetic agents over a large made-up vocabulary, plus tasks that hit it."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = sorted({"".join(rng.choice(letters) for _ in range(rng.randint(5, 9))) for _ in range(30000)})
    agents = []
    for number in range(n_agents):
        triggers = rng.sample(vocabulary, 12) + [" ".join(rng.sample(vocabulary, 2))]
        examples = [" ".join(rng.sample(vocabulary, 6)) for _ in range(3)]
        agents.append(
            {
                "id": f"agent-{number}",
                "name": f"Agent {number}",
                "category": f"c{number % 20}",
                "description": "generated",
                "status": "active",
                "model": "m",
                "cost_per_query": 0.001,
                "triggers": triggers,
                "weak_triggers": rng.sample(vocabulary, 2),
                "examples": examples,
            }
        )
    tasks = []
    for _ in range(50):
        agent = rng.choice(agents)
        words = rng.sample(agent["triggers"][:12], 2) + rng.sample(vocabulary, 4) + ["the", "server", "please"]
        rng.shuffle(words)
        tasks.append(" ".join(words))
    return build_registry(agents, "<generated>"), tasks


def time_processes(argv: list[str], env: dict, runs: int, warm_up: bool = True, before_each=None) -> dict:
    if warm_up:
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False)  # warm the caches
    samples, cpu = [], []
    for _ in range(runs):
        if before_each:
            before_each()
        wall_ms, cpu_ms = _time_process(argv, env)
        samples.append(wall_ms)
        cpu.append(cpu_ms)
    return _process_summary(samples, cpu)


def time_processes_side_by_side(cases: dict[str, list[str]], env: dict, runs: int) -> dict[str, dict]:
    """Each case `runs` times, taking turns (the order reversed every other round): a change in the
    machine's load then falls on every case alike, not on whichever happened to run during it."""
    for argv in cases.values():
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False)  # warm the caches
    samples: dict[str, tuple[list, list]] = {name: ([], []) for name in cases}
    for number in range(runs):
        for name in cases if number % 2 == 0 else reversed(cases):
            wall_ms, cpu_ms = _time_process(cases[name], env)
            samples[name][0].append(wall_ms)
            samples[name][1].append(cpu_ms)
    return {name: _process_summary(wall, cpu) for name, (wall, cpu) in samples.items()}


def _time_process(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall ms, CPU ms) of one run of `argv`."""
    cpu_before = _children_cpu_s()
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - started) * 1000, (_children_cpu_s() - cpu_before) * 1000


def _process_summary(samples: list[float], cpu: list[float]) -> dict:
    # CPU time (user + system) moves far less than wall time when other work shares the cores
    return {**summarise(samples), "cpu_median_ms": round(statistics.median(cpu), 3)}


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _route_argv(task: str) -> list[str]:
    return [sys.executable, os.path.join(PROJECT_ROOT, "bin", "route_task"), "--task", task]


def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def time_worker_lines(env: dict, tasks: list[str], lines: int) -> dict:
    """One `route_task --jsonl` process: the time per line after the first, and its memory."""
    argv = [*_route_argv(tasks[0])[:2], "--jsonl"]
    worker = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    samples = []
    try:
        for number in range(lines + 1):
            line = json.dumps({"task": tasks[number % len(tasks)], "auto_select": True}) + "\n"
            started = time.perf_counter()
            worker.stdin.write(line.encode("utf-8"))
            worker.stdin.flush()
            worker.stdout.readline()
            if number:  # the first line loads the registry
                samples.append((time.perf_counter() - started) * 1000)
        rss_mb = round(_status_kb(worker.pid, "VmRSS") / 1024, 1)
        peak_mb = round(_status_kb(worker.pid, "VmHWM") / 1024, 1)
    finally:
        worker.stdin.close()
        worker.wait(timeout=30)
    return {**summarise(samples), "worker_rss_mb": rss_mb, "worker_peak_rss_mb": peak_mb}


def write_registry_file(agents: list[dict], path: str) -> None:
    yaml = lazy.yaml
    with open(path, "w", encoding="utf-8") as handle:
        yaml.dump({"agents": agents}, handle, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False)


def big_registry_figures(agents: list[dict], tasks: list[str], runs: int, cold_runs: int) -> dict:
    """A generated registry as a YAML file, measured through the scripts a user runs."""
    with tempfile.TemporaryDirectory(prefix="orchestrator-bench-") as folder:
        path, state_dir = os.path.join(folder, "agents.yaml"), os.path.join(folder, "state")
        write_registry_file(agents, path)
        env = {**os.environ, "ORCHESTRATOR_REGISTRY": path, "ORCHESTRATOR_STATE_DIR": state_dir}
        cache_dir = os.path.join(state_dir, "cache")

        def forget_index() -> None:
            for name in os.listdir(cache_dir) if os.path.isdir(cache_dir) else ():
                os.unlink(os.path.join(cache_dir, name))

        figures = {
            "agents": len(agents),
            "registry_file_mb": round(os.path.getsize(path) / 1e6, 1),
            "python_c_pass": time_processes([sys.executable, "-c", "pass"], env, runs),
            "first_load_route_task": time_processes(_route_argv(tasks[0]), env, cold_runs, False, forget_index),
            "first_load_phases": first_load_phases(path),
            "first_load_two_cores": first_load_two_cores(path),
            "route_task_index_present": time_processes(_route_argv(tasks[1]), env, runs),
            "warm_worker_line": time_worker_lines(env, tasks, runs * 5),
        }
        forget_index()  # a worker that finds no index file builds it (in a child) on its first line
        figures["worker_that_built_the_index"] = time_worker_lines(env, tasks, 5)
    return figures


def first_load_phases(path: str) -> dict:
    """Where a first load's time goes, in this process (CPU ms): the parts a route_task process pays."""
    gc.disable()  # as load_registry builds (skills/registry/loader.py: _no_cycle_collection)
    phases, started = {}, time.process_time()

    def lap(name: str) -> None:
        nonlocal started
        now = time.process_time()
        phases[name] = round((now - started) * 1000, 1)
        started = now

    document = _parse_yaml(path)
    lap("parse_yaml")
    agents = validate(document, path)
    lap("validate")
    index = build_index(agents, read_routing_inputs(None))
    lap("build_index")
    store_writer.encode({"path": path, "agents": agents, "index": index}, ("benchmark",))
    lap("encode_index_file")
    gc.enable()
    return {
        "cpu_ms": phases,
        "index_tables": sorted(name for name, value in index.items() if isinstance(value, dict) and name != "header"),
    }


def first_load_two_cores(path: str) -> dict:
    """A first load's build and write as route_task does them (a second core through
    skills/routing/forked.py), in CPU ms: this process's own, its critical path on an otherwise
    idle 2-core machine, and its children's."""

    def cpu(who: int) -> float:
        usage = resource.getrusage(who)
        return (usage.ru_utime + usage.ru_stime) * 1000

    gc.disable()
    own, children = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as folder:
        writer = store_writer.ParallelWriter()
        registry = build_from_document(
            _parse_yaml(path), path, tables_done=writer.tables_done, in_background=writer.start
        )
        store_writer.write(os.path.join(folder, "index"), registry, ("benchmark",), writer.encoded())
    gc.enable()
    return {
        "own_cpu_ms": round(cpu(resource.RUSAGE_SELF) - own, 1),
        "children_cpu_ms": round(cpu(resource.RUSAGE_CHILDREN) - children, 1),
    }


def versus_interpreter(figures: dict, name: str) -> dict:
    """How much a script adds to the bare interpreter, both measured in the same run."""
    base, measured = figures["python_c_pass"], figures[name]
    return {
        "over_python_c_pass_ms": round(measured["median_ms"] - base["median_ms"], 2),
        "p95_over_python_c_pass_ms": round(measured["p95_ms"] - base["p95_ms"], 2),
        "cpu_over_python_c_pass_ms": round(measured["cpu_median_ms"] - base["cpu_median_ms"], 2),
        "ratio": round(measured["median_ms"] / base["median_ms"], 2) if base["median_ms"] else None,
    }


def valgrind_path() -> str:
    """Where valgrind is; BadInput (before any figure is measured) when it is not installed."""
    found = shutil.which("valgrind")
    if found is None:
        raise BadInput("--instructions needs valgrind (apt-get install valgrind)", field="instructions")
    return found


def instruction_counts(cases: dict[str, list[str]], env: dict) -> dict[str, int]:
    """{case: instructions its process executed}, counted by valgrind's cachegrind (children not
    followed); BadInput when valgrind is missing or prints no count."""
    valgrind = valgrind_path()
    counts = {}
    for name, argv in cases.items():
        run = subprocess.run(
            [valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", *argv],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
        if found is None:
            raise BadInput(
                f"valgrind printed no instruction count for {name}: {run.stderr[-300:]}", field="instructions"
            )
        counts[name] = int(found.group(1).replace(",", ""))
    return counts


def _instruction_figures(route_argv: list[str], env: dict) -> dict:
    counts = instruction_counts({"python_c_pass": [sys.executable, "-c", "pass"], "route_task": route_argv}, env)
    return {
        **counts,
        "route_task_over_python_c_pass": counts["route_task"] - counts["python_c_pass"],
        "ratio": round(counts["route_task"] / counts["python_c_pass"], 3),
    }


def process_figures(runs: int, instructions: bool = False) -> dict:
    settings = load_settings()
    env = dict(os.environ)
    env.setdefault("ORCHESTRATOR_STATE_DIR", settings.state_dir)
    route_argv = _route_argv(SAMPLE_TASKS[0])
    figures = {"interpreter": sys.executable}
    # side by side, since the difference between the two is the figure that counts
    cases = {"python_c_pass": [sys.executable, "-c", "pass"], "route_task_bytecode_cached": route_argv}
    figures.update(time_processes_side_by_side(cases, env, runs))
    with tempfile.TemporaryDirectory() as empty_prefix:
        # an empty pycache prefix hides every .pyc: each run compiles our modules from source
        uncached = {**env, "PYTHONPYCACHEPREFIX": empty_prefix, "PYTHONDONTWRITEBYTECODE": "1"}
        figures["route_task_no_bytecode"] = time_processes(route_argv, uncached, runs)
    figures["route_task_vs_python_c_pass"] = versus_interpreter(figures, "route_task_bytecode_cached")
    if instructions:
        figures["instructions"] = _instruction_figures(route_argv, env)
    figures["warm_worker_line"] = time_worker_lines(env, SAMPLE_TASKS, runs * 5)
    figures["pycache_present"] = os.path.isdir(os.path.join(PROJECT_ROOT, "skills", "__pycache__"))
    figures["dotenv_file_present"] = os.path.isfile(os.path.join(PROJECT_ROOT, ".env"))
    return figures


def request_sizes(settings) -> dict:
    """What each agent sends per request with Claude: system prompt plus tool definitions."""
    sizes = {}
    registry = load_registry(settings.registry_path, settings.state_dir)
    for agent in registry["agents"]:
        try:
            prompt = load_agent_prompt(settings.agents_dir, agent["id"])
            tools = [t.schema_for_model() for t in agent_tools(settings.agents_dir, agent).values()]
        except OrchestratorError as error:
            sizes[agent["id"]] = {"error": error.message}
            continue
        characters = len(prompt) + len(json.dumps(tools, separators=(",", ":")))  # as sent on the wire
        # ~4 characters a token for English and JSON; the API's count_tokens needs the network
        sizes[agent["id"]] = {"characters": characters, "estimated_tokens": characters // 4, "tools": len(tools)}
    return sizes


TARGETS = {
    "5 agents: route_task process over python -c pass": "<= 5 ms",
    "5 agents: HTTP route p50 at 1 client (bin/benchmark_http)": "<= 3 ms",
    "10,000 agents: first load": "<= 5000 ms",
    "10,000 agents: route_task process": "<= 100 ms",
    "10,000 agents: HTTP route p50 at 1 client (bin/benchmark_http --agents 10000)": "<= 10 ms",
    "10,000 agents: route worker RSS": "<= 150 MB",
}


def run_benchmark(runs: int = 40, big_agents: int = 10000, cold_runs: int = 3, instructions: bool = False) -> dict:
    settings = load_settings()
    registry = load_registry(settings.registry_path, settings.state_dir)
    big, big_tasks = generated_registry(big_agents)
    in_process_big = time_routes(big, big_tasks, 4)
    big_figures = big_registry_figures(big["agents"], big_tasks, max(5, runs // 4), cold_runs)
    big_figures["route_task_vs_python_c_pass"] = versus_interpreter(big_figures, "route_task_index_present")
    return {
        "in_process_5_agents": time_routes(registry, SAMPLE_TASKS, 250),
        f"in_process_{big_agents}_agents": in_process_big,
        "process": process_figures(runs, instructions),
        f"registry_file_{big_agents}_agents": big_figures,
        "request_size_per_agent": request_sizes(settings),
        "targets": TARGETS,
    }


def main(argv: list[str] | None = None) -> int:
    """bin/benchmark_routing: print the figures as indented JSON."""
    parser = argparse.ArgumentParser(
        prog="benchmark_routing",
        description="Print routing speed figures (median and p95) as JSON: in-process routes over the "
        "registry and a generated one, whole route_task processes next to `python -c pass`, and what "
        "each agent sends per Claude request. Asserts nothing: speed is measured here, not in the tests.",
    )
    parser.add_argument("--runs", type=_positive, default=40, help="route_task processes per case (default 40)")
    parser.add_argument("--agents", type=_positive, default=10000, help="size of the generated registry (10000)")
    parser.add_argument(
        "--cold-runs", type=_positive, default=3, help="first loads (no index file) of the generated registry (3)"
    )
    parser.add_argument(
        "--process-only", action="store_true", help="only the 5-agent route_task process figures (seconds, not minutes)"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count the instructions of a route_task process and of python -c pass (valgrind; load-proof)",
    )
    args = parser.parse_args(argv)
    try:
        if args.instructions:
            valgrind_path()  # refused at once, not after minutes of timings
        if args.process_only:
            figures = {"process": process_figures(args.runs, args.instructions)}
        else:
            figures = run_benchmark(args.runs, args.agents, args.cold_runs, args.instructions)
    except OrchestratorError as error:
        print(dumps(error.to_json()))
        return error.exit_status
    print(dumps(figures, pretty=True))
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value
