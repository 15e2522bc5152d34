"""Routing speed figures: in-process routes (5 and 10,000 agents) and whole route_task processes.

Machines here are noisy, so every figure is a median and p95 over many runs, next to the
interpreter's own start-up time (`python -c pass`) for scale. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

from skills.config import PROJECT_ROOT, load_settings
from skills.errors import OrchestratorError
from skills.registry import build_registry, load_registry
from skills.routing import route

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
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 3),
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


def time_processes(argv: list[str], env: dict, runs: int) -> dict:
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False)  # warm the caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False)
        samples.append((time.perf_counter() - started) * 1000)
    return summarise(samples)


def process_figures(runs: int) -> dict:
    settings = load_settings()
    env = dict(os.environ)
    env.setdefault("ORCHESTRATOR_STATE_DIR", settings.state_dir)
    route_argv = [sys.executable, os.path.join(PROJECT_ROOT, "bin", "route_task"), "--task", SAMPLE_TASKS[0]]
    figures = {
        "interpreter": sys.executable,
        "python_c_pass": time_processes([sys.executable, "-c", "pass"], env, runs),
    }
    figures["route_task_bytecode_cached"] = time_processes(route_argv, env, runs)
    with tempfile.TemporaryDirectory() as empty_prefix:
        # an empty pycache prefix hides every .pyc: each run compiles our modules from source
        uncached = {**env, "PYTHONPYCACHEPREFIX": empty_prefix, "PYTHONDONTWRITEBYTECODE": "1"}
        figures["route_task_no_bytecode"] = time_processes(route_argv, uncached, runs)
    figures["pycache_present"] = os.path.isdir(os.path.join(PROJECT_ROOT, "skills", "__pycache__"))
    figures["dotenv_file_present"] = os.path.isfile(os.path.join(PROJECT_ROOT, ".env"))
    return figures


def request_sizes(settings) -> dict:
    """What each agent sends per request with Claude: system prompt plus tool definitions."""
    import json

    from skills.tools import load_agent_prompt, load_agent_tools

    sizes = {}
    registry = load_registry(settings.registry_path, settings.state_dir)
    for agent in registry["agents"]:
        try:
            prompt = load_agent_prompt(settings.agents_dir, agent["id"])
            tools = [t.schema_for_model() for t in load_agent_tools(settings.agents_dir, agent["id"]).values()]
        except OrchestratorError as error:
            sizes[agent["id"]] = {"error": error.message}
            continue
        characters = len(prompt) + len(json.dumps(tools, separators=(",", ":")))  # as sent on the wire
        # ~4 characters a token for English and JSON; the API's count_tokens needs the network
        sizes[agent["id"]] = {"characters": characters, "estimated_tokens": characters // 4, "tools": len(tools)}
    return sizes


def run_benchmark(runs: int = 40, big_agents: int = 10000) -> dict:
    settings = load_settings()
    registry = load_registry(settings.registry_path, settings.state_dir)
    big, big_tasks = generated_registry(big_agents)
    return {
        "in_process_5_agents": time_routes(registry, SAMPLE_TASKS, 250),
        f"in_process_{big_agents}_agents": time_routes(big, big_tasks, 4),
        "process": process_figures(runs),
        "request_size_per_agent": request_sizes(settings),
        "targets": {"route_task_process_median_ms": 15, "in_process_5_agents_ms": 1, "in_process_10000_agents_ms": 10},
    }
