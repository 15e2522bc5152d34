"""Measure bin/orchestrator_mcp over stdio: a route_task tool call, start-up, and memory.

Speaks raw JSON-RPC lines on the server's stdin/stdout (what every stdio client does, with no
client library's own cost in the figures):
- `route_task` tool calls one after another on a started server (after a few warm-up calls):
  p50/p90/p99; target p50 <= 5 ms;
- process start to the `initialize` answer, over several fresh starts: median; target <= 1.5 s;
- the server's resident memory, alone and with its warm script workers.
Prints figures; asserts nothing (no test asserts a time).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import time

from skills.bench.http import _descendants, _status_kb, percentile

BIN = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bin")
TASK = "Check CPU usage on the server"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "benchmark", "version": "1"},
    },
}
ANSWER_LIMIT_S = 60.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (from /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class StdioServer:
    """bin/orchestrator_mcp on pipes, with its own state directory."""

    def __init__(self, state_dir: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRATOR_")}
        env["ORCHESTRATOR_STATE_DIR"] = state_dir
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(BIN, "orchestrator_mcp")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.next_id = 1

    def send(self, message: dict) -> None:
        self.proc.stdin.write(json.dumps(message).encode("utf-8") + b"\n")
        self.proc.stdin.flush()

    def answer(self) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], ANSWER_LIMIT_S)
        if not ready:
            raise RuntimeError(f"orchestrator_mcp gave no answer within {ANSWER_LIMIT_S:g}s")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("orchestrator_mcp exited; run it by hand to see why")
        return json.loads(line)

    def initialize(self) -> tuple[float, float]:
        """Seconds from process start to the initialize answer: wall clock, and the server's own CPU time.

        On a loaded machine the wall clock mostly measures the queue for a core; the CPU time is
        close to what the wall clock would be on an idle one.
        """
        self.send(INITIALIZE)
        reply = self.answer()
        elapsed = time.perf_counter() - self.started
        cpu = _cpu_seconds(self.proc.pid)
        if "result" not in reply:
            raise RuntimeError(f"initialize failed: {reply}")
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return elapsed, cpu

    def route(self) -> float:
        """Milliseconds for one route_task tool call, request written to answer read."""
        request_id, self.next_id = self.next_id, self.next_id + 1
        call = {"name": "route_task", "arguments": {"task": TASK}}
        started = time.perf_counter()
        self.send({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": call})
        reply = self.answer()
        elapsed = (time.perf_counter() - started) * 1000
        if reply.get("id") != request_id or reply.get("result", {}).get("isError") is not False:
            raise RuntimeError(f"route_task failed: {reply}")
        return elapsed

    def memory_mb(self) -> dict:
        workers = _descendants(self.proc.pid)
        server_kb = _status_kb(self.proc.pid, "VmRSS")
        return {
            "server_rss_mb": round(server_kb / 1024, 1),
            "server_peak_rss_mb": round(_status_kb(self.proc.pid, "VmHWM") / 1024, 1),
            "with_workers_rss_mb": round((server_kb + sum(_status_kb(pid, "VmRSS") for pid in workers)) / 1024, 1),
            "workers": len(workers),
        }

    def stop(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def measure(calls: int, starts: int, warmup: int = 20) -> dict:
    with tempfile.TemporaryDirectory(prefix="benchmark-mcp-") as state_dir:
        start_up, start_cpu = [], []
        for _ in range(starts):
            server = StdioServer(state_dir)
            try:
                wall, cpu = server.initialize()
            finally:
                server.stop()
            start_up.append(wall)
            start_cpu.append(cpu)
        server = StdioServer(state_dir)
        try:
            server.initialize()
            for _ in range(warmup):
                server.route()
            samples = sorted(server.route() for _ in range(calls))
            memory = server.memory_mb()
        finally:
            server.stop()
    start_up.sort()
    start_cpu.sort()
    return {
        "route_task_call": {
            "p50_ms": round(percentile(samples, 0.50), 2),
            "p90_ms": round(percentile(samples, 0.90), 2),
            "p99_ms": round(percentile(samples, 0.99), 2),
            "calls": calls,
            "target_p50_ms": 5,
        },
        "start_to_initialize": {
            "median_s": round(percentile(start_up, 0.5), 3),
            "min_s": round(start_up[0], 3),
            "max_s": round(start_up[-1], 3),
            "median_cpu_s": round(percentile(start_cpu, 0.5), 3),
            "starts": starts,
            "target_s": 1.5,
        },
        "memory": memory,
        "load_average": round(os.getloadavg()[0], 2),
    }


def report_text(figures: dict) -> str:
    call, start, memory = figures["route_task_call"], figures["start_to_initialize"], figures["memory"]
    return "\n".join(
        [
            f"orchestrator_mcp over stdio (raw JSON-RPC lines; load average {figures['load_average']})",
            (
                f"  route_task tool call    p50 {call['p50_ms']} ms  p90 {call['p90_ms']} ms  p99 {call['p99_ms']} ms"
                f"  ({call['calls']} calls; target p50 <= {call['target_p50_ms']} ms)"
            ),
            (
                f"  start -> initialize     median {start['median_s']} s  (min {start['min_s']}, max {start['max_s']};"
                f" {start['starts']} starts; target <= {start['target_s']} s); server CPU time {start['median_cpu_s']} s"
            ),
            (
                f"  server RSS              {memory['server_rss_mb']} MB (peak {memory['server_peak_rss_mb']} MB);"
                f" with its {memory['workers']} warm workers {memory['with_workers_rss_mb']} MB"
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmark_mcp", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="route_task tool calls to time (default 300)")
    parser.add_argument("--starts", type=int, default=5, help="fresh server starts to time (default 5)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.starts < 1:
        print(json.dumps({"error": "--calls and --starts must be at least 1", "code": "bad_input"}))
        return 2
    try:
        figures = measure(args.calls, args.starts)
    except RuntimeError as exc:
        print(json.dumps({"error": str(exc), "code": "benchmark_failed"}))
        return 3
    print(json.dumps(figures) if args.json else report_text(figures))
    return 0
