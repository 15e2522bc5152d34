"""Soak the HTTP server: mixed traffic from many clients for minutes, then what it cost.

`bin/soak --minutes N` starts its own demo PostgreSQL and `bin/orchestrator_server` (offline:
no API key, rate limit off) in a temporary state directory, warms up, then drives every kind of
request at once from `--clients` threads, each over its own kept-alive connection: route,
smart execute, execute on the demo database, the agent list, stats, async + poll, batch and a
WebSocket round trip. It prints one JSON object: requests and unexpected errors (5xx, dropped
connections, failed executions) per endpoint, p50/p99 per endpoint, and the RSS, open file
descriptors and threads of the server and its workers at the start (after warm-up), at the end,
and again after a quiet spell (burst workers retire once idle). All traffic goes to loopback.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import os
import socket
import tempfile
import threading
import time

from skills.bench.http import percentile

# (name, weight): how often each client picks each kind of request
MIX = [
    ("route", 6),
    ("smart_execute", 3),
    ("execute_database", 2),
    ("agents", 2),
    ("stats", 1),
    ("async", 1),
    ("batch", 1),
    ("websocket", 1),
]
ROUTE_TASKS = ["Check CPU usage on the server", "How many active contractors do we have?", "list the BOQ tables"]
SMART_TASKS = ["How long has the server been up?", "How much memory is in use on the server?"]
DATABASE_QUERY = {"agent": "contractor-agent", "query": "How many active subcontractors do we have?"}
POLL_LIMIT_S = 60.0


class Tally:
    """Per endpoint: latencies (ms), request count, and unexpected errors by kind."""

    def __init__(self):
        self._lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {name: [] for name, _ in MIX}
        self.errors: dict[str, dict[str, int]] = {name: {} for name, _ in MIX}

    def add(self, name: str, started: float, error: str | None) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        with self._lock:
            self.latencies[name].append(elapsed)
            if error:
                self.errors[name][error] = self.errors[name].get(error, 0) + 1

    def report(self) -> dict:
        with self._lock:
            endpoints = {}
            for name, values in self.latencies.items():
                ordered = sorted(values)
                endpoints[name] = {
                    "requests": len(ordered),
                    "unexpected_errors": sum(self.errors[name].values()),
                    "p50_ms": round(percentile(ordered, 0.5), 1) if ordered else None,
                    "p99_ms": round(percentile(ordered, 0.99), 1) if ordered else None,
                }
            return {
                "requests": sum(e["requests"] for e in endpoints.values()),
                "unexpected_errors": {name: dict(kinds) for name, kinds in self.errors.items() if kinds},
                "endpoints": endpoints,
            }


class Client:
    """One simulated user: a kept-alive HTTP connection and the request kinds in MIX."""

    def __init__(self, port: int, tally: Tally, seed: int):
        self.port = port
        self.tally = tally
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        weighted = [name for name, weight in MIX for _ in range(weight)]
        self.order = itertools.cycle(weighted[seed % len(weighted) :] + weighted[: seed % len(weighted)])
        self.counter = itertools.count(seed)

    def request(self, method: str, path: str, body=None) -> tuple[int, object]:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            self.conn.request(method, path, data, headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # reconnects on the next request
            raise
        return response.status, json.loads(raw) if raw else None

    def one(self) -> None:
        name = next(self.order)
        started = time.perf_counter()
        try:
            error = getattr(self, "_" + name)()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = type(exc).__name__
        self.tally.add(name, started, error)

    # each returns None when the answer is what a healthy server gives, else a short error kind

    def _route(self):
        task = ROUTE_TASKS[next(self.counter) % len(ROUTE_TASKS)]
        status, _ = self.request("POST", "/orchestrator/route", {"task": task})
        return None if status == 200 else f"HTTP {status}"

    def _smart_execute(self):
        task = SMART_TASKS[next(self.counter) % len(SMART_TASKS)]
        return _execution_error(*self.request("POST", "/orchestrator/smart-execute", {"task": task}))

    def _execute_database(self):
        return _execution_error(*self.request("POST", "/orchestrator/execute", DATABASE_QUERY))

    def _agents(self):
        status, body = self.request("GET", "/orchestrator/agents")
        return None if status == 200 and isinstance(body, list) and body else f"HTTP {status}"

    def _stats(self):
        status, _ = self.request("GET", "/orchestrator/stats?since=1h")
        return None if status == 200 else f"HTTP {status}"

    def _async(self):
        status, body = self.request("POST", "/orchestrator/execute-async", {"task": SMART_TASKS[0]})
        if status != 202:
            return f"HTTP {status}"
        deadline = time.monotonic() + POLL_LIMIT_S
        while time.monotonic() < deadline:
            status, task = self.request("GET", f"/orchestrator/tasks/{body['task_id']}")
            if status != 200:
                return f"poll HTTP {status}"
            if task["status"] != "processing":
                return None if task["status"] == "completed" else "task failed"
            time.sleep(0.1)
        return "task never finished"

    def _batch(self):
        status, body = self.request("POST", "/orchestrator/batch", SMART_TASKS + [DATABASE_QUERY["query"]])
        if status != 200:
            return f"HTTP {status}"
        failed = [item for item in body if not (isinstance(item, dict) and item.get("success"))]
        return "batch item failed" if failed else None

    def _websocket(self):
        answer = websocket_round_trip(self.port, SMART_TASKS[1])
        return None if answer.get("success") else "websocket answer failed"


def _execution_error(status: int, body) -> str | None:
    if status != 200:
        return f"HTTP {status}"
    return None if isinstance(body, dict) and body.get("success") else "execution failed"


def websocket_round_trip(port: int, text: str) -> dict:
    """Open /ws/orchestrator, send one task, read its answer, close (RFC 6455, by hand)."""
    from skills.server import websocket as ws

    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        sock.sendall(
            (
                "GET /ws/orchestrator HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode("ascii")
        )
        stream = sock.makefile("rb")
        status_line = stream.readline()
        if b" 101 " not in status_line:
            raise OSError(f"handshake refused: {status_line[:40]!r}")
        while stream.readline() not in (b"\r\n", b""):
            pass
        sock.sendall(ws.encode_frame(ws.OP_TEXT, text.encode("utf-8"), mask=os.urandom(4)))
        frame = ws.read_frame(stream, require_mask=False)
        sock.sendall(ws.encode_frame(ws.OP_CLOSE, ws.close_payload(1000), mask=os.urandom(4)))
        return json.loads(frame.payload)


# --- what the server costs ---------------------------------------------------------------


def _process_figures(pid: int) -> dict:
    figures = {"rss_kb": 0, "threads": 0, "fds": 0}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    figures["rss_kb"] = int(line.split()[1])
                elif line.startswith("Threads:"):
                    figures["threads"] = int(line.split()[1])
        figures["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        pass  # it ended between listing and reading
    return figures


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, found by parent id in /proc.

    (/proc/PID/task/TID/children lists only the children of one thread: workers started from
    request threads would be missed.)
    """
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(parent, []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        children = parents.get(stack.pop(), [])
        found += children
        stack += children
    return found


def resources(server_pid: int) -> dict:
    """RSS, open fds and threads of the server, of its workers together, and the total RSS."""
    server = _process_figures(server_pid)
    workers = [_process_figures(pid) for pid in descendants(server_pid)]
    summed = {key: sum(w[key] for w in workers) for key in ("rss_kb", "threads", "fds")}
    return {
        "server": {"rss_mb": round(server["rss_kb"] / 1024, 1), "fds": server["fds"], "threads": server["threads"]},
        "workers": {
            "count": len(workers),
            "rss_mb": round(summed["rss_kb"] / 1024, 1),
            "fds": summed["fds"],
            "threads": summed["threads"],
        },
        "total_rss_mb": round((server["rss_kb"] + summed["rss_kb"]) / 1024, 1),
    }


def growth(start: dict, end: dict) -> dict:
    """Leak indicators: total RSS in percent, and the server process's own fds and threads."""
    rss_start = start["total_rss_mb"] or 1
    return {
        "rss_growth_percent": round((end["total_rss_mb"] - start["total_rss_mb"]) * 100 / rss_start, 1),
        "fd_growth": end["server"]["fds"] - start["server"]["fds"],
        "thread_growth": end["server"]["threads"] - start["server"]["threads"],
    }


# --- the run -----------------------------------------------------------------------------


def _drive(port: int, clients: int, seconds: float, tally: Tally) -> None:
    stop_at = time.monotonic() + seconds

    def loop(seed: int) -> None:
        client = Client(port, tally, seed)
        while time.monotonic() < stop_at:
            client.one()
        client.conn.close()

    threads = [threading.Thread(target=loop, args=(seed,), daemon=True) for seed in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + POLL_LIMIT_S + 120)


def _start_stack(state_dir: str):
    """The demo PostgreSQL and the server, both in `state_dir`; returns (server, settings)."""
    from skills.bench.http import Server
    from skills.config import Settings
    from skills.demo import database as demo_database

    env = {"ORCHESTRATOR_STATE_DIR": state_dir, "ORCHESTRATOR_ENV_FILE": os.devnull}
    settings = Settings(env)
    demo_database.start(settings)
    offline = {"ANTHROPIC_API_KEY": "", "NEON_DATABASE_URL": "", "DATABASE_URL": "", **env}  # the demo database
    return Server(False, state_dir, extra_env=offline), settings


def soak(minutes: float, clients: int, warmup_s: float, quiet_s: float) -> dict:
    from skills.demo import database as demo_database

    with tempfile.TemporaryDirectory(prefix="orchestrator-soak-") as state_dir:
        server, settings = _start_stack(state_dir)
        try:
            _drive(server.port, clients, warmup_s, Tally())
            start = resources(server.proc.pid)
            tally = Tally()
            _drive(server.port, clients, minutes * 60, tally)
            end = resources(server.proc.pid)
            time.sleep(quiet_s)
            quiet = resources(server.proc.pid)
        finally:
            server.stop()
            demo_database.stop(settings, purge=True)
    report = tally.report()
    return {
        "minutes": minutes,
        "clients": clients,
        "requests": report["requests"],
        "unexpected_errors": report["unexpected_errors"],
        "unexpected_error_count": sum(sum(kinds.values()) for kinds in report["unexpected_errors"].values()),
        "endpoints": report["endpoints"],
        "resources": {"start": start, "end": end, f"after_{quiet_s:g}s_quiet": quiet},
        **growth(start, end),
        "quiet_rss_vs_start_percent": round(
            (quiet["total_rss_mb"] - start["total_rss_mb"]) * 100 / start["total_rss_mb"], 1
        ),
    }


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="soak", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes of traffic after warm-up (default 10)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds of traffic before the start figures")
    parser.add_argument("--quiet", type=float, default=70.0, help="seconds idle before the last figures (default 70)")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.clients < 1 or args.warmup < 0 or args.quiet < 0:
        print(json.dumps({"error": "--minutes > 0, --clients >= 1, --warmup and --quiet >= 0", "code": "bad_input"}))
        return 2
    from skills.errors import OrchestratorError

    try:
        result = soak(args.minutes, args.clients, args.warmup, args.quiet)
    except OrchestratorError as error:  # the demo database could not start, for one
        print(json.dumps(error.to_json()))
        return error.exit_status
    print(json.dumps(result, indent=2))
    return 1 if result["unexpected_error_count"] else 0
