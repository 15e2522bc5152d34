"""Measure the workbench's API: the first event of a streamed smart execute, and the history list.

Starts `bin/orchestrator_server` (rate limit off, its own state dir, no API key for the model, so
smart execute takes the offline path) and measures, over one loopback connection at a time:
- the time from sending `POST /orchestrator/smart-execute` with `Accept: text/event-stream` to the
  first event's bytes arriving (target: 50 ms), and to its `done` event;
- `GET /orchestrator/executions?limit=1000` with 1,000 executions in the ledger (target: 50 ms),
  the rows written beforehand through the ledger's own `record`, on SQLite and (`--backends
  sqlite,postgres`) on a throw-away PostgreSQL cluster as bin/benchmark_stats starts one.
Figures are printed, not asserted: timing on a shared machine is for reading, not for tests.
"""

from __future__ import annotations

import http.client
import json
import os
import tempfile
import time

from skills.bench.http import DEFAULT_TASK, Server, percentile

FIRST_EVENT_TARGET_MS = 50.0
HISTORY_TARGET_MS = 50.0


def first_event(port: int, task: str) -> tuple[float, float, str]:
    """(ms to the first event's bytes, ms to the end of the stream, the first event's name)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"task": task})
    started = time.perf_counter()
    conn.request(
        "POST", "/orchestrator/smart-execute", body, {"Content-Type": "application/json", "Accept": "text/event-stream"}
    )
    response = conn.getresponse()
    line = response.fp.readline()
    first_ms = (time.perf_counter() - started) * 1000
    response.read()
    done_ms = (time.perf_counter() - started) * 1000
    conn.close()
    return first_ms, done_ms, line.decode("utf-8").strip().removeprefix("event: ")


def _store_env(state_dir: str, database_url: str | None) -> dict:
    return {
        "ORCHESTRATOR_STATE_DIR": state_dir,
        **({"ORCHESTRATOR_DATABASE_URL": database_url} if database_url else {}),
    }


def fill_ledger(state_dir: str, rows: int, database_url: str | None = None) -> None:
    """`rows` executions in the ledger (SQLite in `state_dir`, or `database_url`), written as execute writes them."""
    from skills.config import Settings
    from skills.ledger.records import ExecutionRecord, record
    from skills.store import close_stores

    settings = Settings(_store_env(state_dir, database_url))
    call = {"name": "cpu_usage", "arguments": {}, "duration_ms": 3.1, "ok": True}
    for number in range(rows):
        entry = ExecutionRecord(
            "vps-monitor" if number % 3 else "neon-database",
            f"Check CPU usage on the server, question {number}",
            "direct",
            number % 7 != 0,
            10.0 + number % 40,
            tool_calls=[call],
            answer="localhost: CPU 12% busy.",
            data={"busy_percent": 12.0, "cores": [10.0, 14.0]},
        )
        record(settings, entry)
    close_stores(database_url)


def history(port: int, limit: int) -> tuple[float, int, int]:
    """(ms for one GET of the list, rows it returned, bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    conn.request("GET", f"/orchestrator/executions?limit={limit}")
    raw = conn.getresponse().read()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    return elapsed, len(json.loads(raw)["executions"]), len(raw)


def _figures(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"p50_ms": round(percentile(ordered, 0.5), 1), "p95_ms": round(percentile(ordered, 0.95), 1)}


def _serve(state_dir: str, database_url: str | None) -> Server:
    env = {"ANTHROPIC_API_KEY": "", "ORCHESTRATOR_WORKERS": os.environ.get("ORCHESTRATOR_WORKERS", "2")}
    return Server(False, state_dir, extra_env={**env, **_store_env(state_dir, database_url)})


def measure_stream(task: str, requests: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="orchestrator-bench-live-") as state_dir:
        server = _serve(state_dir, None)
        try:
            for _ in range(3):
                first_event(server.port, task)  # warm: workers started, registry and tools loaded
            streamed = [first_event(server.port, task) for _ in range(requests)]
        finally:
            server.stop()
    first = _figures([ms for ms, _, _ in streamed])
    return {
        "requests": requests,
        "first_event": streamed[0][2],
        "first_event_ms": first,
        "done_ms": _figures([ms for _, ms, _ in streamed]),
        "target_ms": FIRST_EVENT_TARGET_MS,
        "met": first["p95_ms"] <= FIRST_EVENT_TARGET_MS,
    }


def measure_history(backend: str, requests: int, rows: int) -> dict:
    from skills.bench.scale import ThrowAwayDatabases

    with tempfile.TemporaryDirectory(prefix="orchestrator-bench-history-") as work_dir:
        state_dir = os.path.join(work_dir, "state")
        os.makedirs(state_dir)
        with ThrowAwayDatabases(backend, work_dir) as databases:
            database_url = databases.fresh()
            fill_ledger(state_dir, rows, database_url)
            server = _serve(state_dir, database_url)
            try:
                for _ in range(3):
                    history(server.port, rows)
                listed = [history(server.port, rows) for _ in range(requests)]
            finally:
                server.stop()
    figures = _figures([ms for ms, _, _ in listed])
    return {
        "backend": backend,
        "requests": requests,
        "rows": listed[0][1],
        "bytes": listed[0][2],
        "latency_ms": figures,
        "target_ms": HISTORY_TARGET_MS,
        "met": figures["p95_ms"] <= HISTORY_TARGET_MS,
    }


def run(task: str, requests: int, rows: int, backends: list[str]) -> dict:
    load_before = round(os.getloadavg()[0], 2)
    report = {
        "task": task,
        "streamed_smart_execute": measure_stream(task, requests),
        "executions_list": [measure_history(backend, requests, rows) for backend in backends],
    }
    report["machine"] = {
        "cpus": os.cpu_count(),
        "load_1m_before": load_before,
        "load_1m_after": round(os.getloadavg()[0], 2),
    }
    return report


def _verdict(figures: dict, target: float, met: bool) -> str:
    return (
        f"p50 {figures['p50_ms']} ms  p95 {figures['p95_ms']} ms  (target {target:g} ms: {'met' if met else 'missed'})"
    )


def table(report: dict) -> str:
    stream, machine = report["streamed_smart_execute"], report["machine"]
    first = _verdict(stream["first_event_ms"], stream["target_ms"], stream["met"])
    lines = [
        f"load {machine['load_1m_before']} -> {machine['load_1m_after']} on {machine['cpus']} CPUs",
        f"streamed smart execute, offline ({stream['requests']} requests, first event {stream['first_event']!r}):",
        f"  first event  {first}",
        f"  done         p50 {stream['done_ms']['p50_ms']} ms  p95 {stream['done_ms']['p95_ms']} ms",
    ]
    for listed in report["executions_list"]:
        lines += [
            f"GET /orchestrator/executions?limit={listed['rows']} on {listed['backend']} ({listed['bytes']} bytes):",
            f"  latency      {_verdict(listed['latency_ms'], listed['target_ms'], listed['met'])}",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="benchmark_live", description=__doc__.split("\n")[0])
    parser.add_argument("--task", default=DEFAULT_TASK)
    parser.add_argument("--requests", type=int, default=50, help="requests of each kind (default 50)")
    parser.add_argument("--rows", type=int, default=1000, help="executions in the ledger and the list's limit (1-1000)")
    parser.add_argument("--backends", default="sqlite", help="where the ledger is: sqlite, postgres or both")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    args = parser.parse_args(argv)
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    if args.requests < 1 or not 1 <= args.rows <= 1000:
        print(json.dumps({"error": "--requests >= 1 and --rows from 1 to 1000", "code": "bad_input", "field": "rows"}))
        return 2
    if not backends or set(backends) - {"sqlite", "postgres"}:
        print(
            json.dumps(
                {
                    "error": "--backends takes sqlite, postgres or sqlite,postgres",
                    "code": "bad_input",
                    "field": "backends",
                }
            )
        )
        return 2
    report = run(args.task, args.requests, args.rows, backends)
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0
