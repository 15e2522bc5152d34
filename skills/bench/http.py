"""Measure `POST /orchestrator/route` over loopback HTTP: warm workers vs a process per request.

Starts `bin/orchestrator_server` (rate limit off, its own state dir), drives it with a bounded
number of requests at each concurrency (one kept-alive connection per client), and reports
p50/p90/p99 latency, throughput, errors and peak memory (the server process alone, and the
server with its script workers). Then the same load against `--one-process-per-request`, so
the ratio between the two ways is visible. `--agents N` serves a generated registry of N agents
(skills/bench/routing.py) instead of the project's, written to a YAML file whose index is built
before the server starts, so the figures are those of a server in steady state.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bin")
DEFAULT_TASK = "Check CPU usage on the server"


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/task/{current}/children", encoding="ascii") as handle:
                children = [int(child) for child in handle.read().split()]
        except OSError:
            children = []
        found += children
        stack += children
    return found


class MemorySampler(threading.Thread):
    """Samples the RSS of the server plus its workers every 20 ms; keeps the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_total_kb = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            total = sum(_status_kb(pid, "VmRSS") for pid in [self.pid, *_descendants(self.pid)])
            self.peak_total_kb = max(self.peak_total_kb, total)
            self._done.wait(0.02)

    def stop(self) -> None:
        self._done.set()
        self.join()


class Server:
    def __init__(
        self,
        one_process_per_request: bool,
        state_dir: str,
        registry_path: str | None = None,
        extra_env: dict | None = None,
    ):
        env = {**os.environ, "ORCHESTRATOR_RATE_LIMIT": "0", "ORCHESTRATOR_STATE_DIR": state_dir, **(extra_env or {})}
        if registry_path:
            env["ORCHESTRATOR_REGISTRY"] = registry_path
        args = [sys.executable, os.path.join(BIN, "orchestrator_server"), "--port", "0"]
        if one_process_per_request:
            args.append("--one-process-per-request")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline() if ready else b""
        try:
            self.port = json.loads(line)["port"]
        except (ValueError, KeyError):
            self.stop()
            raise RuntimeError(f"orchestrator_server did not start (printed {line!r})") from None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _client(port: int, body: bytes, take, latencies: list, errors: list, api_key: str | None) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if api_key:  # the server reads the same settings, so it will demand the key
        headers["Authorization"] = f"Bearer {api_key}"
    while take():
        started = time.perf_counter()
        try:
            conn.request("POST", "/orchestrator/route", body, headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            errors.append(type(exc).__name__)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 200:
            errors.append(str(status))
    conn.close()


def drive(port: int, task: str, requests: int, concurrency: int, api_key: str | None = None) -> dict:
    """`requests` routes from `concurrency` clients at once; latency figures in milliseconds."""
    body = json.dumps({"task": task, "auto_select": True}).encode("utf-8")
    remaining = [requests]
    lock = threading.Lock()

    def take() -> bool:
        with lock:
            remaining[0] -= 1
            return remaining[0] >= 0

    latencies: list[float] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=_client, args=(port, body, take, latencies, errors, api_key))
        for _ in range(concurrency)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "concurrency": concurrency,
        "requests": requests,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p90_ms": round(percentile(latencies, 0.90), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "throughput_rps": round(requests / wall, 1) if wall else None,
    }


def generated_registry_file(agents: int, folder: str) -> tuple[str, str]:
    """(path, a task that names one agent's triggers) of a generated registry written as YAML."""
    from skills.bench.routing import generated_registry, write_registry_file

    registry, tasks = generated_registry(agents)
    path = os.path.join(folder, f"agents-{agents}.yaml")
    write_registry_file(list(registry["agents"]), path)
    return path, tasks[0]


def measure(
    one_process_per_request: bool, task: str, requests: int, concurrencies: list[int], registry_path: str | None = None
) -> dict:
    from skills.config import load_settings

    api_key = load_settings().api_key
    with tempfile.TemporaryDirectory(prefix="orchestrator-bench-") as state_dir:
        if registry_path:  # build the index now: the first request must not wait for it
            from skills.registry.loader import load_registry

            load_registry(registry_path, state_dir)
        server = Server(one_process_per_request, state_dir, registry_path)
        try:
            drive(server.port, task, 10 if not one_process_per_request else 2, 1, api_key)  # warm up
            sampler = MemorySampler(server.proc.pid)
            sampler.start()
            runs = [drive(server.port, task, requests, concurrency, api_key) for concurrency in concurrencies]
            sampler.stop()
            server_peak_kb = _status_kb(server.proc.pid, "VmHWM")
        finally:
            server.stop()
    return {
        "mode": "one process per request" if one_process_per_request else "warm workers",
        "runs": runs,
        "server_peak_rss_mb": round(server_peak_kb / 1024, 1),
        "server_and_workers_peak_rss_mb": round(sampler.peak_total_kb / 1024, 1),
    }


def compare(warm: dict, baseline: dict) -> dict:
    """How many times faster the warm server is, per concurrency."""
    ratios = {}
    for fast, slow in zip(warm["runs"], baseline["runs"]):
        key = f"c{fast['concurrency']}"
        ratios[key] = {
            "p50_speedup": round(slow["p50_ms"] / fast["p50_ms"], 1) if fast["p50_ms"] else None,
            "throughput_ratio": round(fast["throughput_rps"] / slow["throughput_rps"], 1)
            if slow["throughput_rps"]
            else None,
        }
    return ratios


def table(report: dict) -> str:
    lines = [f"POST /orchestrator/route, task {report['task']!r}, registry {report['registry']}"]
    for result in report["results"]:
        lines.append(
            f"\n{result['mode']}: server peak RSS {result['server_peak_rss_mb']} MB, "
            f"with workers {result['server_and_workers_peak_rss_mb']} MB"
        )
        lines.append(
            f"  {'clients':>7} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'req/s':>8}"
        )
        for run in result["runs"]:
            lines.append(
                f"  {run['concurrency']:>7} {run['requests']:>8} {run['errors']:>6} {run['p50_ms']:>8} "
                f"{run['p90_ms']:>8} {run['p99_ms']:>8} {run['throughput_rps']:>8}"
            )
    for key, ratio in report.get("warm_vs_one_process", {}).items():
        lines.append(
            f"\n{key}: warm workers are {ratio['p50_speedup']}x faster at the median, "
            f"{ratio['throughput_ratio']}x the throughput"
        )
    return "\n".join(lines)


def run(
    task: str,
    requests: int,
    baseline_requests: int,
    concurrencies: list[int],
    baseline: bool,
    registry_path: str | None = None,
) -> dict:
    warm = measure(False, task, requests, concurrencies, registry_path)
    report = {"task": task, "registry": registry_path or "the project's", "results": [warm]}
    if baseline:
        slow = measure(True, task, baseline_requests, concurrencies, registry_path)
        report["results"].append(slow)
        report["warm_vs_one_process"] = compare(warm, slow)
    return report


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="benchmark_http", description=__doc__.split("\n")[0])
    parser.add_argument("--task", default=DEFAULT_TASK)
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency level (warm workers)")
    parser.add_argument("--baseline-requests", type=int, default=64, help="requests per level, one process each")
    parser.add_argument("--concurrency", default="1,16", help="comma-separated client counts (default 1,16)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the one-process-per-request run")
    parser.add_argument("--agents", type=int, default=0, help="serve a generated registry of this many agents")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        levels = [int(level) for level in args.concurrency.split(",") if level.strip()]
        if not levels or min(levels) < 1 or args.requests < 1 or args.baseline_requests < 1 or args.agents < 0:
            raise ValueError
    except ValueError:
        print(
            json.dumps(
                {
                    "error": "--concurrency takes positive whole numbers like 1,16; --requests >= 1; --agents >= 0",
                    "code": "bad_input",
                    "field": "concurrency",
                }
            )
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="orchestrator-bench-registry-") as folder:
        registry_path, task = None, args.task
        if args.agents:
            registry_path, generated_task = generated_registry_file(args.agents, folder)
            task = generated_task if args.task == DEFAULT_TASK else args.task
        report = run(task, args.requests, args.baseline_requests, levels, not args.no_baseline, registry_path)
    print(json.dumps(report, indent=2) if args.json else table(report))
    failed = any(run["errors"] for result in report["results"] for run in result["runs"])
    return 1 if failed else 0
