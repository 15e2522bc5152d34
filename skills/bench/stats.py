"""Measure workforce_stats over a big ledger: what GET /orchestrator/stats, /metrics and the page pay.

A fresh ledger on each backend (SQLite in a temporary state dir; PostgreSQL on a throw-away cluster,
as bin/benchmark_scale starts one) is filled with N executions spread over 30 days: five agents,
half of them routed, 2,000 distinct tasks, a few hundred verdicts. Then `bin/workforce_stats` runs
as the server runs it (a process of its own), for all time and for the last 24 hours; reported are
the median wall time and the process's peak memory. Beside them, how long merely reading every
execution row takes, which is where the statistics began before the store counted them.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

from skills.config import PROJECT_ROOT, Settings

AGENTS = ("vps-monitor", "neon-database", "convex-database", "contractor-agent", "project-agent")
DAYS = 30
TASKS = 2000
BATCH = 10_000
COLUMNS = ("started_at", "agent_id", "query", "task_key", "route_status", "mode", "success", "duration_ms",
           "input_tokens", "output_tokens", "cost_usd")  # fmt: skip


def executions(count: int, now: float, seed: int = 5):
    """`count` execution rows (tuples in COLUMNS order), in batches."""
    from skills.text import task_key

    generator = random.Random(seed)
    batch = []
    for number in range(count):
        task = f"how is job {number % TASKS} going"
        routed = number % 2 == 0
        batch.append((
            now - generator.random() * DAYS * 86400, generator.choice(AGENTS), task,
            task_key(task) if routed else None, "routed" if routed else None, "claude",
            int(generator.random() < 0.9), generator.lognormvariate(7, 0.6),
            generator.randint(200, 2000), generator.randint(20, 400), generator.random() / 500,
        ))  # fmt: skip
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(settings: Settings, count: int) -> None:
    """The ledger, migrated by the store, then filled in bulk (the store books one row at a time)."""
    from skills.ledger import records as ledger
    from skills.text import task_key

    ledger.is_writable(settings)  # creates and migrates it
    now = time.time()
    for number in range(0, TASKS, 7):  # a verdict on every seventh task
        task = f"how is job {number} going"
        ledger.record_feedback(settings, ledger.FeedbackRecord(task, task_key(task), AGENTS[0], AGENTS[1], "cli"))
    insert = f"INSERT INTO executions ({', '.join(COLUMNS)}) VALUES "
    if settings.orchestrator_database_url:
        import psycopg2
        from psycopg2.extras import execute_values

        connection = psycopg2.connect(settings.orchestrator_database_url)
        with connection, connection.cursor() as cursor:
            for batch in executions(count, now):
                execute_values(cursor, insert + "%s", batch, page_size=BATCH)
            cursor.execute("ANALYZE executions")
        connection.close()
        return
    import sqlite3

    connection = sqlite3.connect(ledger.ledger_path(settings))
    with connection:
        for batch in executions(count, now):
            connection.executemany(insert + f"({', '.join('?' for _ in COLUMNS)})", batch)
    connection.close()


# Runs the script and reports its peak memory. Linux counts the memory a process had when it was
# forked into its child's peak, so the script is started from this small process, not from the
# benchmark (hundreds of MB after filling a ledger): the figure is then the script's own (at least
# this starter's ~10 MB).
STARTER = """
import json, os, subprocess, sys
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
sys.stderr.write(json.dumps({"exit": os.waitstatus_to_exitcode(status), "peak_kb": usage.ru_maxrss}))
"""


def time_script(env: dict, args: list[str]) -> tuple[float, float, dict]:
    """(wall seconds, peak RSS MB, its JSON) of one bin/workforce_stats process."""
    script = [sys.executable, os.path.join(PROJECT_ROOT, "bin", "workforce_stats"), *args]
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", STARTER, *script], env=env, capture_output=True, text=True, check=False, timeout=600
    )
    elapsed = time.perf_counter() - started
    try:
        outcome = json.loads(run.stderr.strip().rsplit("\n", 1)[-1])
    except ValueError:
        outcome = {"exit": run.returncode, "peak_kb": 0}
    if outcome["exit"] != 0:
        raise RuntimeError(f"workforce_stats failed ({outcome['exit']}): {run.stdout[-500:]} {run.stderr[-500:]}")
    return elapsed, outcome["peak_kb"] / 1024, json.loads(run.stdout)


def time_reading_every_row(settings: Settings) -> float:
    from skills.ledger import records as ledger

    started = time.perf_counter()
    ledger.executions(settings)
    return time.perf_counter() - started


def measure(backend: str, database_url: str | None, state_dir: str, count: int, repeats: int) -> dict:
    settings = Settings(
        {"ORCHESTRATOR_STATE_DIR": state_dir, **({"ORCHESTRATOR_DATABASE_URL": database_url} if database_url else {})}
    )
    fill(settings, count)
    env = {**os.environ, "ORCHESTRATOR_STATE_DIR": state_dir, "ORCHESTRATOR_ENV_FILE": os.devnull}
    env.pop("ORCHESTRATOR_DATABASE_URL", None)
    if database_url:
        env["ORCHESTRATOR_DATABASE_URL"] = database_url
    figures: dict = {"backend": backend, "executions": count}
    for name, args in (("all_time", []), ("last_24h", ["--since", "24h"])):
        runs = [time_script(env, args) for _ in range(repeats)]
        figures[f"{name}_s"] = round(statistics.median(run[0] for run in runs), 3)
        figures[f"{name}_peak_rss_mb"] = round(max(run[1] for run in runs), 1)
        figures[f"{name}_counted"] = runs[0][2]["summary"]["total_executions"]
    figures["reading_every_row_s"] = round(time_reading_every_row(settings), 3)
    from skills.store import close_stores

    close_stores(database_url)
    return figures


def run(backends: list[str], count: int, repeats: int) -> dict:
    from skills.bench.scale import ThrowAwayDatabases

    report = {"machine": {"cpus": os.cpu_count(), "load_1m_before": round(os.getloadavg()[0], 2)}, "runs": []}
    with tempfile.TemporaryDirectory(prefix="orchestrator-stats-") as work_dir:
        for backend in backends:
            with ThrowAwayDatabases(backend, work_dir) as databases:
                state_dir = os.path.join(work_dir, backend)
                report["runs"].append(measure(backend, databases.fresh(), state_dir, count, repeats))
    report["machine"]["load_1m_after"] = round(os.getloadavg()[0], 2)
    return report


def table(report: dict) -> str:
    machine = report["machine"]
    load = f"load {machine['load_1m_before']} -> {machine['load_1m_after']} on {machine['cpus']} CPUs"
    columns = f"{'all time s':>12}{'peak MB':>9}{'last 24h s':>12}{'peak MB':>9}{'reading every row s':>21}"
    lines = [f"workforce_stats processes, median; {load}", f"{'backend':<10}{'executions':>12}{columns}"]
    for r in report["runs"]:
        lines.append(
            f"{r['backend']:<10}{r['executions']:>12}{r['all_time_s']:>12}{r['all_time_peak_rss_mb']:>9}"
            f"{r['last_24h_s']:>12}{r['last_24h_peak_rss_mb']:>9}{r['reading_every_row_s']:>21}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="benchmark_stats", description=__doc__.split("\n")[0])
    parser.add_argument("--executions", type=int, default=100_000, help="ledger rows (default 100,000)")
    parser.add_argument("--repeats", type=int, default=3, help="workforce_stats runs per case; medians are reported")
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite, postgres or both (default)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    args = parser.parse_args(argv)
    from skills.bench.scale import BenchmarkError, bad_input

    backends = [part.strip() for part in args.backends.split(",") if part.strip()]
    if not backends or set(backends) - {"postgres", "sqlite"}:
        return bad_input("--backends takes sqlite, postgres or sqlite,postgres", "backends")
    if args.executions < 1 or args.repeats < 1:
        return bad_input("--executions and --repeats must be at least 1", "executions")
    try:
        report = run(backends, args.executions, args.repeats)
    except (BenchmarkError, RuntimeError) as error:
        print(json.dumps({"error": str(error), "code": "benchmark_failed"}))
        return 3
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0
